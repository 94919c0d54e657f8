// Package policy turns a verified ISO/IEC 18013-5 DeviceResponse into an
// acceptance decision: a Profile declares the doc types a counter accepts,
// the data elements it requests of each (with IntentToRetain, clause
// 8.3.2.1.2.1), the conditions the disclosed elements must meet (present,
// true, not expired, issuer country, portrait) and what the kiosk display
// may show. Decide applies a profile to a verify.Result and answers accept
// or reject with stable reason codes: the verification codes of package
// verify first, then the policy's own (CodeElementMissing, CodeAgeNotMet,
// CodeDocumentExpired, CodeDocTypeNotAllowed, CodeIssuerNotAllowed,
// CodeConditionNotMet).
//
// The package is pure: no I/O, no logging; the time is a parameter.
package policy
