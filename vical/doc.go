// Package vical reads and verifies a Verified Issuer Certificate Authority
// List (VICAL, ISO/IEC 18013-5 Annex C): a COSE_Sign1 whose payload lists
// IACA certificates with the doc types each may issue, signed by a VICAL
// signer whose certificate carries the extended key usage 1.0.18013.5.1.8
// and chains, through the message's x5chain, to an anchor the operator
// configured for the VICAL provider.
//
// [Parse] decodes without verifying; [Verify] decodes, verifies the
// signature, the signer's profile and chain and the dates, and returns the
// VICAL whose entries can then be trusted ([VICAL.AddTo] puts them in a
// [verify.TrustStore] with their doc-type limits).
//
// Real VICALs deviate from the Annex C CDDL in small ways, which are
// accepted: the AAMVA VICAL spells "Extensions" and "CertificateProfile"
// with a capital letter, and its "ski" holds the DER OCTET STRING wrapper
// (04 16 04 14 …) around the key identifier ([Entry.KeyIdentifier] removes it);
// its signer certificate's key usage is contentCommitment (nonRepudiation)
// rather than digitalSignature; and the notAfter it lists for an entry may
// differ from the certificate's own (the certificate decides).
//
// The package is pure: no I/O, the time and the anchors are parameters.
// Every failure is an [*Error] carrying a reason code of package reason.
package vical
