// Package cose is the reader side's COSE (RFC 9052, RFC 9053) as ISO/IEC
// 18013-5 uses it: COSE_Sign1 for issuerAuth (clause 9.1.2.4),
// deviceSignature (clause 9.1.3.6) and readerAuth (clause 9.1.4), COSE_Mac0
// for deviceMac (clause 9.1.3.5), and the x5chain header (RFC 9360) that
// carries the signer's certificate.
//
// Messages are verified over the bytes received: the Sig_structure and the
// MAC_structure are built from the protected header bstr exactly as it came,
// never from a re-encoding, and a detached payload (null on the wire, as
// DeviceAuthentication and ReaderAuthentication are) is supplied by the
// caller. An algorithm is bound to its curve (ES256 to P-256, ES384 to
// P-384, ES512 to P-521, EdDSA to Ed25519; RFC 9053 section 2.1, ISO/IEC
// 18013-5 clause 9.1.5.2), so a signer cannot choose the hash for a key.
//
// The package is pure: no I/O, randomness is a parameter. CBOR is decoded
// with the fixed decode mode of package mdoc.
//
// Errors are [*Error] values whose Kind is [ErrMalformed], [ErrUnsupported]
// or [ErrVerify], so callers can map them to their own categories with
// errors.Is or errors.As.
package cose
