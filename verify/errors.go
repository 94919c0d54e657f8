package verify

import (
	"errors"

	"github.com/idreader/idreader/reason"
)

// Code is a stable reason code for a rejected response; the registry with
// the display texts of every code is package reason. Tools and the daemon
// print these; they never change meaning.
type Code = reason.Code

// The verification codes (their meanings: package reason).
const (
	// CodeMalformed: the response or a structure in it does not decode or
	// does not have the shape the 18013-5 CDDL requires, or the response
	// carries no document (status ≠ 0 or no documents).
	CodeMalformed = reason.Malformed
	// CodeIssuerUntrusted: the document signer certificate does not chain to
	// an IACA of the trust store (check issuer_chain), or that IACA is
	// trusted only for other doc types (check anchor_doctype).
	CodeIssuerUntrusted = reason.IssuerUntrusted
	// CodeIssuerSignature: the issuerAuth signature does not verify.
	CodeIssuerSignature = reason.IssuerSignature
	// CodeCertificateProfile: a certificate breaks its Annex B profile, or
	// the countries of DS, IACA and issuing_country disagree.
	CodeCertificateProfile = reason.CertificateProfile
	// CodeCertificateValidity: the DS or IACA certificate is not valid at
	// the verification time.
	CodeCertificateValidity = reason.CertificateValidity
	// CodeMSOValidity: the MSO is expired, not yet valid, or signed in the
	// future (clause 9.3.1).
	CodeMSOValidity = reason.MSOValidity
	// CodeValueDigest: a disclosed element's digest is missing from the MSO
	// or differs from it (clause 9.1.2.5).
	CodeValueDigest = reason.ValueDigest
	// CodeDocTypeMismatch: the MSO docType differs from the Document docType.
	CodeDocTypeMismatch = reason.DocTypeMismatch
	// CodeDeviceAuth: mdoc authentication (clause 9.1.3) failed or could not
	// be proven (no transcript, no reader key for a MAC), or device-signed
	// elements are not covered by keyAuthorizations.
	CodeDeviceAuth = reason.DeviceAuth
	// CodeUnsupported: an algorithm, MSO version or curve this reader does
	// not implement.
	CodeUnsupported = reason.Unsupported
	// CodeRevoked: the configured [RevocationChecker] reports the DS
	// certificate or the document revoked.
	CodeRevoked = reason.Revoked
	// CodeRevocationUnknown: the configured [RevocationChecker] could not
	// establish the status.
	CodeRevocationUnknown = reason.RevocationUnknown
	// CodeNotReturned: the wallet answered status 0 without any document and
	// listed the requested doc types in documentErrors (ISO/IEC 18013-5
	// clause 8.3.2.1.2.3): it does not hold them or declined to return
	// them. The response is well formed; nothing was proven.
	CodeNotReturned = reason.NotReturned
)

// Sentinel errors, one per [Code]. Every failure in a [Result] wraps one.
var (
	ErrMalformed           = errors.New("verify: malformed")
	ErrIssuerUntrusted     = errors.New("verify: issuer untrusted")
	ErrIssuerSignature     = errors.New("verify: issuer signature invalid")
	ErrCertificateProfile  = errors.New("verify: certificate profile violated")
	ErrCertificateValidity = errors.New("verify: certificate not valid")
	ErrMSOValidity         = errors.New("verify: mso not valid")
	ErrValueDigest         = errors.New("verify: value digest mismatch")
	ErrDocTypeMismatch     = errors.New("verify: doctype mismatch")
	ErrDeviceAuth          = errors.New("verify: device authentication failed")
	ErrUnsupported         = errors.New("verify: unsupported")
	ErrRevoked             = errors.New("verify: revoked")
	ErrRevocationUnknown   = errors.New("verify: revocation status unknown")
	ErrNotReturned         = errors.New("verify: document not returned")
)

var codeErrs = []struct {
	code Code
	err  error
}{
	{CodeMalformed, ErrMalformed},
	{CodeIssuerUntrusted, ErrIssuerUntrusted},
	{CodeIssuerSignature, ErrIssuerSignature},
	{CodeCertificateProfile, ErrCertificateProfile},
	{CodeCertificateValidity, ErrCertificateValidity},
	{CodeMSOValidity, ErrMSOValidity},
	{CodeValueDigest, ErrValueDigest},
	{CodeDocTypeMismatch, ErrDocTypeMismatch},
	{CodeDeviceAuth, ErrDeviceAuth},
	{CodeUnsupported, ErrUnsupported},
	{CodeRevoked, ErrRevoked},
	{CodeRevocationUnknown, ErrRevocationUnknown},
	{CodeNotReturned, ErrNotReturned},
}

// ErrOf returns the sentinel error of a verification code, or nil for a
// code without one.
func ErrOf(c Code) error {
	for _, ce := range codeErrs {
		if ce.code == c {
			return ce.err
		}
	}
	return nil
}

// CodeOf returns the code of the sentinel error found first in a depth-first
// walk of err's wrap tree (so the outermost category wins), or "" if none.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	for _, ce := range codeErrs {
		if err == ce.err {
			return ce.code
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return CodeOf(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if c := CodeOf(e); c != "" {
				return c
			}
		}
	}
	return ""
}
