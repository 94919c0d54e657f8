package revocation

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/idreader/idreader/verify"
)

// Mode is a profile's rule for an unknown revocation state (no fresh list).
type Mode string

// The modes. Soft is the default.
const (
	// Hard rejects a document whose revocation state is unknown, with
	// the code revocation_unknown.
	Hard Mode = "hard"
	// Soft accepts it; the check "revocation" passes with a detail that
	// starts "not proven: " and says what was missing.
	Soft Mode = "soft"
)

// ParseMode reads "hard" or "soft"; "" is Soft.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", Soft:
		return Soft, nil
	case Hard:
		return Hard, nil
	}
	return "", fmt.Errorf("revocation: mode %q is neither hard nor soft", s)
}

// Set indexes verified revocation data for queries: CRLs by issuing IACA
// and list tokens by URI. Build it with the Add methods, then share it
// read-only: queries are safe for concurrent use, Adds are not (build a
// new Set and swap it instead).
type Set struct {
	crls   map[string][]crlEntry // by IACA DER
	tokens map[string]*tokenEntry
	// anchorSources are the sources of trust anchors (a VICAL) that go
	// stale: past staleAfter an anchor from there no longer proves its
	// documents current (verify.AnchorInfo.Source → staleAfter).
	anchorSources map[string]time.Time
}

type crlEntry struct {
	crl        *CRL
	staleAfter time.Time
}

type tokenEntry struct {
	tok        *Token
	staleAfter time.Time
	// signedBy memoizes Token.SignedBy's signature check per trust point
	// DER: a query then costs a lookup, not an ECDSA verification.
	memo sync.Map // string -> okMarker or error
}

type okMarker struct{}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{crls: map[string][]crlEntry{}, tokens: map[string]*tokenEntry{}, anchorSources: map[string]time.Time{}}
}

// AddCRL adds a verified CRL. staleAfter, when not zero, is when the source
// it came from passes its maximum age: from then on the CRL no longer
// proves "not revoked" (it still proves "revoked").
func (s *Set) AddCRL(c *CRL, staleAfter time.Time) {
	if c == nil || c.Issuer == nil {
		return
	}
	k := string(c.Issuer.Raw)
	s.crls[k] = append(s.crls[k], crlEntry{crl: c, staleAfter: staleAfter})
	// Newest first, so a query reads the freshest without sorting.
	sort.SliceStable(s.crls[k], func(i, j int) bool { return s.crls[k][i].crl.ThisUpdate.After(s.crls[k][j].crl.ThisUpdate) })
}

// AddToken adds a parsed list token under its subject URI, replacing an
// older one (by iat) for the same URI.
func (s *Set) AddToken(t *Token, staleAfter time.Time) {
	if t == nil {
		return
	}
	if old := s.tokens[t.Subject]; old != nil && old.tok.IssuedAt.After(t.IssuedAt) {
		return
	}
	s.tokens[t.Subject] = &tokenEntry{tok: t, staleAfter: staleAfter}
}

// AddAnchorSource says that trust anchors whose AnchorInfo.Source is
// source (the anchors of one VICAL) come from a copy that goes stale at
// staleAfter. From then on the revocation state of their documents is
// unknown: the list that vouched for the IACA may have dropped it.
func (s *Set) AddAnchorSource(source string, staleAfter time.Time) {
	if source != "" && !staleAfter.IsZero() {
		s.anchorSources[source] = staleAfter
	}
}

// Len returns the number of CRLs and list tokens held.
func (s *Set) Len() (crls, tokens int) {
	if s == nil {
		return 0, 0
	}
	for _, l := range s.crls {
		crls += len(l)
	}
	return crls, len(s.tokens)
}

// Checker answers verify's revocation seam from a Set under a Mode. The
// zero Mode is Soft. A nil Set knows nothing: every answer is unknown.
type Checker struct {
	Set  *Set
	Mode Mode
}

// answer is one mechanism's finding.
type answer struct {
	status verify.RevocationStatus
	detail string
}

// CheckRevocation implements [verify.RevocationChecker].
//
// The DS is revoked when a verified CRL of its IACA lists its serial (even
// a stale one), and the document when its MSO status reference points at
// a status list entry that is invalid or suspended, or at an identifier
// list that lists it. "Not revoked" is proven when the freshest CRL of the
// IACA is fresh (within thisUpdate..nextUpdate and its source's maximum
// age) or, without any CRL of that IACA, a fresh list token answers for
// the MSO status; and, when the MSO has a status reference, that reference
// is answered by a fresh, trusted token. Anything else is unknown: Hard
// makes it RevocationUnknown, Soft RevocationGood with NotProven.
func (c Checker) CheckRevocation(q verify.RevocationQuery) verify.RevocationResult {
	crl := c.Set.checkCRL(q)
	found := []answer{crl}
	if a := c.Set.checkAnchorSource(q); a.status != 0 {
		found = append(found, a)
	}
	if q.MSOStatus != nil {
		st := c.Set.checkStatus(q)
		found = append(found, st)
		if crl.status == 0 && st.status == verify.RevocationGood {
			found = found[1:] // no CRL of the IACA, but the list answers
		}
	}
	if crl.status == 0 && len(found) > 0 && found[0].status == 0 {
		found[0].status = verify.RevocationUnknown
	}
	var good, unknown []string
	for _, a := range found {
		switch a.status {
		case verify.RevocationRevoked:
			return verify.RevocationResult{Status: verify.RevocationRevoked, Detail: a.detail}
		case verify.RevocationGood:
			good = append(good, a.detail)
		case verify.RevocationUnknown:
			unknown = append(unknown, a.detail)
		}
	}
	if len(unknown) == 0 {
		return verify.RevocationResult{Status: verify.RevocationGood, Detail: strings.Join(good, "; ")}
	}
	if c.Mode == Hard {
		return verify.RevocationResult{Status: verify.RevocationUnknown, Detail: strings.Join(unknown, "; ") + " (hard)"}
	}
	return verify.RevocationResult{Status: verify.RevocationGood, NotProven: true, Detail: strings.Join(unknown, "; ") + " (soft)"}
}

func name(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

// checkCRL answers from the CRLs of q.IACA; status 0 means there is none.
func (s *Set) checkCRL(q verify.RevocationQuery) answer {
	if q.IACA == nil || q.DS == nil {
		return answer{verify.RevocationUnknown, "no IACA"}
	}
	var list []crlEntry
	if s != nil {
		list = s.crls[string(q.IACA.Raw)]
	}
	if len(list) == 0 {
		return answer{0, "no CRL of " + name(q.IACA)}
	}
	for _, e := range list {
		if e.crl.Revoked(q.DS.SerialNumber) {
			return answer{verify.RevocationRevoked, fmt.Sprintf("DS serial %x listed on the CRL of %s of %s", q.DS.SerialNumber, name(q.IACA), e.crl.ThisUpdate.UTC().Format(time.RFC3339))}
		}
	}
	// The freshest CRL that is still fresh decides "not revoked" (the list
	// is newest first).
	for _, e := range list {
		if e.crl.FreshAt(q.Now) && (e.staleAfter.IsZero() || q.Now.Before(e.staleAfter)) {
			return answer{verify.RevocationGood, fmt.Sprintf("CRL of %s of %s", name(q.IACA), e.crl.ThisUpdate.UTC().Format(time.RFC3339))}
		}
	}
	return answer{verify.RevocationUnknown, fmt.Sprintf("no fresh CRL of %s (newest of %s)", name(q.IACA), list[0].crl.ThisUpdate.UTC().Format(time.RFC3339))}
}

// checkAnchorSource is unknown when the anchor's source is stale, and
// status 0 otherwise.
func (s *Set) checkAnchorSource(q verify.RevocationQuery) answer {
	if s == nil || q.Anchor.Source == "" {
		return answer{}
	}
	if t, ok := s.anchorSources[q.Anchor.Source]; ok && !q.Now.Before(t) {
		return answer{verify.RevocationUnknown, fmt.Sprintf("anchor source %s stale since %s", q.Anchor.Source, t.UTC().Format(time.RFC3339))}
	}
	return answer{}
}

// checkStatus answers from the list token the MSO status references.
func (s *Set) checkStatus(q verify.RevocationQuery) answer {
	ref, err := ParseReference(q.MSOStatus)
	if err != nil {
		return answer{verify.RevocationUnknown, err.Error()}
	}
	var uri string
	var cert []byte
	if ref.StatusList != nil {
		uri, cert = ref.StatusList.URI, ref.StatusList.Certificate
	} else {
		uri, cert = ref.IdentifierList.URI, ref.IdentifierList.Certificate
	}
	var e *tokenEntry
	if s != nil {
		e = s.tokens[uri]
	}
	if e == nil {
		return answer{verify.RevocationUnknown, "no list fetched from " + uri}
	}
	trust := q.IACA
	if cert != nil {
		if trust, err = x509.ParseCertificate(cert); err != nil {
			return answer{verify.RevocationUnknown, fmt.Sprintf("MSO status certificate: %v", err)}
		}
	}
	if err := e.signedBy(trust, q.Now); err != nil {
		return answer{verify.RevocationUnknown, fmt.Sprintf("list of %s not trusted: %v", uri, err)}
	}
	t := e.tok
	var verdict answer
	switch {
	case ref.StatusList != nil && t.statusList != nil:
		v, err := t.statusList.Status(ref.StatusList.Idx)
		switch {
		case err != nil:
			return answer{verify.RevocationUnknown, err.Error()}
		case v == StatusInvalid:
			return answer{verify.RevocationRevoked, fmt.Sprintf("status list %s index %d: invalid", uri, ref.StatusList.Idx)}
		case v == StatusSuspended:
			return answer{verify.RevocationRevoked, fmt.Sprintf("status list %s index %d: suspended", uri, ref.StatusList.Idx)}
		case v != StatusValid:
			return answer{verify.RevocationUnknown, fmt.Sprintf("status list %s index %d: status 0x%02x not understood", uri, ref.StatusList.Idx, v)}
		}
		verdict = answer{verify.RevocationGood, fmt.Sprintf("status list %s of %s", uri, t.IssuedAt.Format(time.RFC3339))}
	case ref.IdentifierList != nil && t.idList != nil:
		if t.Lists(ref.IdentifierList.ID) {
			return answer{verify.RevocationRevoked, fmt.Sprintf("identifier list %s lists the document", uri)}
		}
		verdict = answer{verify.RevocationGood, fmt.Sprintf("identifier list %s of %s", uri, t.IssuedAt.Format(time.RFC3339))}
	default:
		return answer{verify.RevocationUnknown, "the list at " + uri + " is not of the kind the MSO references"}
	}
	if !t.Expires.IsZero() && !q.Now.Before(t.Expires) {
		return answer{verify.RevocationUnknown, fmt.Sprintf("list %s expired %s", uri, t.Expires.Format(time.RFC3339))}
	}
	if !e.staleAfter.IsZero() && !q.Now.Before(e.staleAfter) {
		return answer{verify.RevocationUnknown, fmt.Sprintf("list %s stale since %s", uri, e.staleAfter.UTC().Format(time.RFC3339))}
	}
	if q.Now.Before(t.IssuedAt) {
		return answer{verify.RevocationUnknown, fmt.Sprintf("list %s issued in the future", uri)}
	}
	return verdict
}

// signedBy is Token.SignedBy with the signature check memoized per trust
// point.
func (e *tokenEntry) signedBy(trust *x509.Certificate, now time.Time) error {
	key := string(trust.Raw)
	if v, ok := e.memo.Load(key); ok {
		if _, ok := v.(okMarker); ok {
			return chainValidAt(e.tok.Chain, now)
		}
		return v.(error)
	}
	err := e.tok.SignedBy(trust, now)
	switch {
	case err == nil:
		e.memo.Store(key, okMarker{})
	case chainValidAt(e.tok.Chain, now) == nil:
		e.memo.Store(key, err) // a signature failure does not change with time
	}
	return err
}

func chainValidAt(chain []*x509.Certificate, now time.Time) error {
	for i, c := range chain {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return fmt.Errorf("%w: token x5chain certificate %d not valid at %s", ErrSignature, i, now.UTC().Format(time.RFC3339))
		}
	}
	return nil
}
