// Package pki makes the test public-key infrastructure of the simulated
// wallet and of the reader's tests, on demand: an IACA root and a Document
// Signer certificate with the profiles of ISO/IEC 18013-5 Annex B (B.1.2
// IACA root, B.1.4 document signer), and a reader-authentication root with a
// reader certificate (B.1.7 reader authentication, EKU 1.0.18013.5.1.6).
//
// Everything is generated from the caller's randomness and clock; nothing is
// read from or written to disk except by [PKI.Save] and [Load]. The keys are
// test keys: never use them for anything but tests and demonstrations.
package pki
