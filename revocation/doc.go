// Package revocation answers verify's revocation seam
// ([verify.RevocationChecker]) from data fetched elsewhere: the CRLs of the
// IACAs (RFC 5280 section 5, ISO/IEC 18013-5 Annex B) and the status
// references of second-edition Mobile Security Objects (ISO/IEC 18013-5
// clause 9.1.2.6): the IETF Token Status List (draft-ietf-oauth-status-list,
// a CWT whose status_list claim holds a zlib-compressed bit list) and the
// Identifier List.
//
// It is pure: parsing and signature checks take bytes, certificates and
// times as parameters; nothing is fetched, cached or logged here. A CRL is
// only used once its signature verified against the IACA that issued it
// ([VerifyCRL]); a status or identifier list token only once its COSE_Sign1
// signature verified with the leaf of its x5chain, and at each query the
// top of that chain must be signed by the trust point of the document: the
// "certificate" of the MSO status reference when present, otherwise the
// IACA that signed the document signer (clause 9.1.2.6).
//
// A [Set] is an immutable-after-build index of verified lists (revoked
// serials in a map, lists by URI), so a query costs map lookups. A
// [Checker] applies a [Mode]: with [Hard] an unknown state (no fresh list)
// fails the check with revocation_unknown; with [Soft], the default, the
// check passes and its detail says "not proven".
package revocation
