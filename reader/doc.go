// Package reader is the contract between the reader loop and NFC reader
// hardware: a [Reader] reports ISO/IEC 14443-4 targets (an mdoc holder's phone,
// ISO/IEC 18013-5 clause 8.3.3.1) arriving in and leaving its field, and a
// [Target] carries ISO/IEC 7816-4 command APDUs to the target and returns the
// response APDUs.
//
// The package is pure Go and does no I/O of its own. Backends live in
// subpackages (reader/pcsc for PC/SC through pcsc-lite, the only cgo in the
// tree); fakes for tests live in reader/readertest. Backends report the
// conditions callers branch on with the sentinel errors of this package
// ([ErrRemoved], [ErrNoReader], [ErrServiceUnavailable], [ErrTimeout]), wrapped
// with %w, so callers use errors.Is.
package reader
