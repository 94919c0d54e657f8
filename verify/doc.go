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
// A [Result] has one [Check] per verification step and document; it is
// accepted only if every check passed. Failures carry a stable [Code] and
// wrap one of the sentinel errors ([ErrMalformed], [ErrIssuerUntrusted], ...),
// so callers can branch with errors.Is.
package verify
