// Package credential is the issuing and presenting side of the simulated
// wallet: it issues mdocs (ISO/IEC 18013-5 clause 8.3.2.1.2.2 IssuerSigned
// with a Mobile Security Object signed by a Document Signer, clause 9.1.2.4)
// and presents them the way a wallet answers a DeviceRequest: selective
// disclosure of the requested elements, DeviceSigned with a deviceSignature
// or a deviceMac over DeviceAuthentication (clause 9.1.3), and a
// DeviceResponse.
//
// The issued bytes are kept exactly as signed, and a credential loaded from
// disk (possibly issued elsewhere) is presented with its received
// IssuerSignedItemBytes and issuerAuth, never re-encoded.
//
// [MDL] and [MyNumberCard] make sample credentials with fictional values.
// The sample My Number Card never carries an Individual Number: that
// 12-digit number is legally restricted in Japan and has no place in a
// test credential.
//
// [Faults] produces the broken presentations the verifier's negative tests
// need (tampered values, device authentication over another transcript or
// with another key, a corrupted issuer signature, a wrong docType).
//
// The wallet signs and MACs with its own small COSE code (cose.go), not with
// the reader's package cose, on purpose: the wallet is the other side of
// every verification test, and a signer and a verifier that share one
// implementation agree on its bugs (a wrong Sig_structure, a protected
// header taken from a re-encoding, r‖s padding) so the tests could not see
// them. Two independent implementations that must meet on the wire, plus
// the Annex D vectors both are checked against, catch what one would hide.
package credential
