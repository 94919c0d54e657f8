// Package identity is the reader's own identity for mdoc reader
// authentication (ISO/IEC 18013-5 clause 9.1.4): a P-256 key, a
// certificate signing request to enrol it with a reader CA, and the check
// that the certificate the CA returns fits the key and the reader
// authentication certificate profile of Annex B (digitalSignature, not a
// CA, extended key usage 1.0.18013.5.1.6).
//
// The package is pure: randomness and time are parameters, files are the
// caller's business (idreader identity request/install, the daemon's
// configuration loader).
package identity
