// Package verify checks an ISO/IEC 18013-5 DeviceResponse the way an mdoc
// reader must (clause 9.3.1, "mdoc reader" inspection procedure): issuer data
// authentication (clause 9.1.2: the issuerAuth COSE_Sign1, the document signer
// certificate chained to a trusted IACA with the Annex B profiles, the Mobile
// Security Object's version, docType, validity and every disclosed element's
// value digest) and mdoc authentication (clause 9.1.3: deviceSignature or
// deviceMac over DeviceAuthentication).
//
// It is pure: the trust anchors ([TrustStore]), the time and the session
// transcript are parameters ([Options]); nothing is cached across calls and
// every signature, MAC and digest runs over the bytes received. The only file
// access is [LoadTrustStore], a convenience for command-line tools.
//
// The verification is a list of named checks run in a fixed order
// ([CheckNames]); each reads what the earlier ones established and is
// reported "not checked" when what it needs is missing. A [Result] has one
// [Check] per step and document, found by name with
// [DocumentResult.Check]; it is accepted only if every check passed.
// Failures carry a stable [Code] (the registry with display texts is
// package reason) and wrap one of the sentinel errors ([ErrMalformed],
// [ErrIssuerUntrusted], ...), so callers can branch with errors.Is.
//
// Revocation is a seam: with [Options.Revocation] set, a [RevocationChecker]
// is asked about each document whose DS chains to the store (the DS, its
// IACA and what the store knows of it ([AnchorInfo]), the MSO status, the
// time), and the check "revocation" reports its answer. COSE is package
// cose.
package verify
