// Package pcsc is the PC/SC backend of the reader contract, on pcsc-lite
// through github.com/ebfe/scard. It is the only cgo in the tree: without cgo
// the package builds, and New returns ErrNoCgo.
//
// A Reader watches its reader with SCardGetStatusChange on one PC/SC context,
// including the \\?PnP?\Notification pseudo-reader so a reader plugged in
// later is seen; every Target gets its own context for I/O, because a
// Transmit on a context that is blocked in SCardGetStatusChange waits for that
// call to return. When pcscd goes away (SCARD_E_NO_SERVICE,
// SCARD_F_COMM_ERROR), the Reader releases its context and establishes a new
// one with backoff; SCardIsValidContext is not trusted, it keeps reporting a
// dead context as valid. What Wait does with each reported reader state and
// each connect outcome (connect, skip, retry a card pcscd's stale view still
// shows, give up) is a pure state machine without cgo, tested without the
// rig.
//
// Readers do not tell their APDU limits through the PC/SC features the
// virtual reader offers (vpcd has no feature ioctls), so limits are
// configured per reader in Options, with a default.
package pcsc
