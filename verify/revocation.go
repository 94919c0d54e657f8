package verify

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// RevocationStatus is a [RevocationChecker]'s answer.
type RevocationStatus int

// The answers. The zero value is not an answer and counts as unknown.
const (
	RevocationGood    RevocationStatus = iota + 1 // not revoked, per the checker's sources
	RevocationRevoked                             // revoked
	RevocationUnknown                             // the checker could not tell
)

// String returns "good", "revoked" or "unknown".
func (s RevocationStatus) String() string {
	switch s {
	case RevocationGood:
		return "good"
	case RevocationRevoked:
		return "revoked"
	}
	return "unknown"
}

// RevocationQuery is what a [RevocationChecker] is asked about one
// document. It is only asked when the DS certificate chains to an anchor of
// the trust store.
type RevocationQuery struct {
	// DS is the document signer certificate of issuerAuth.
	DS *x509.Certificate
	// IACA is the trust anchor that signed DS, and Anchor what the trust
	// store knows of it (its source, the doc types it may issue).
	IACA   *x509.Certificate
	Anchor AnchorInfo
	// DocType is the Document's docType.
	DocType string
	// MSOStatus is the MSO's "status" member exactly as received (the
	// status list or identifier list reference later editions of ISO/IEC
	// 18013-5 put in the MSO), nil when the MSO has none or did not decode.
	MSOStatus cbor.RawMessage
	// Now is the verification time (Options.Now).
	Now time.Time
}

// RevocationResult is a checker's answer with a detail for the report
// (which list was consulted, as of when; never personal data).
type RevocationResult struct {
	Status RevocationStatus
	Detail string
	// NotProven, with Status RevocationGood, says the checker accepts the
	// document without proof (a soft-fail policy and no fresh list): the
	// check passes, and its detail starts "not proven: " instead of "not
	// revoked: ", so reports show plainly that nothing was proven.
	NotProven bool
}

// RevocationChecker decides whether a document signer (or the document,
// through its MSO status) is revoked: CRLs of the IACAs, a VICAL's
// withdrawn entries, status lists. Verification is pure, so a checker
// answers from what it already holds (fetched and refreshed elsewhere) and
// must be safe for concurrent use. Soft-fail is the checker's policy: a
// checker that accepts a stale list answers RevocationGood with NotProven
// set; RevocationUnknown fails the check.
type RevocationChecker interface {
	CheckRevocation(q RevocationQuery) RevocationResult
}

// RevocationFunc adapts a function to [RevocationChecker].
type RevocationFunc func(RevocationQuery) RevocationResult

// CheckRevocation calls f.
func (f RevocationFunc) CheckRevocation(q RevocationQuery) RevocationResult { return f(q) }

// revocation is the check step: it asks Options.Revocation about the DS and
// the MSO status.
func (v *docVerifier) revocation() outcome {
	q := RevocationQuery{DS: v.ds, IACA: v.iaca, DocType: v.doc.DocType, Now: v.opts.Now}
	q.Anchor, _ = v.opts.Trust.Anchor(v.iaca)
	if v.mso != nil {
		q.MSOStatus = v.mso.Status
	}
	r := v.opts.Revocation.CheckRevocation(q)
	detail := r.Detail
	if detail == "" {
		detail = "no detail"
	}
	switch r.Status {
	case RevocationGood:
		if r.NotProven {
			return passed("not proven: " + detail)
		}
		return passed("not revoked: " + detail)
	case RevocationRevoked:
		return failed(fmt.Errorf("%w: %s", ErrRevoked, detail))
	}
	return failed(fmt.Errorf("%w: %s", ErrRevocationUnknown, detail))
}
