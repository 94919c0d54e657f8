// Package mdoc is the CBOR data model of ISO/IEC 18013-5: DeviceEngagement,
// DeviceRequest, DeviceResponse, IssuerSigned, the Mobile Security Object and
// DeviceAuthentication.
//
// It is pure: no I/O, no logging, no globals but the two fixed CBOR modes in
// cbor.go. Everything that is hashed, signed or MACed anywhere in the protocol
// is kept as the exact bytes received (see [TaggedCBOR] and the Raw fields),
// never re-encoded (ISO/IEC 18013-5 clause 9.1.1.4, 9.1.2.4, 9.1.3.4).
package mdoc
