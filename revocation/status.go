package revocation

import (
	"bytes"
	"compress/zlib"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/mdoc"
)

// Status values of the Token Status List (draft-ietf-oauth-status-list,
// section "Status Types"); values above 2 are application-specific and not
// understood here.
const (
	StatusValid     = 0x00
	StatusInvalid   = 0x01 // revoked for good
	StatusSuspended = 0x02 // temporarily not valid
)

// CWT claim keys of a status list token (RFC 8392 section 4, and the
// draft's IANA registrations) and of the ISO/IEC 18013-5 identifier list.
const (
	claimSub            = 2
	claimExp            = 4
	claimIat            = 6
	claimIdentifierList = 65530
	claimStatusList     = 65533
	claimTTL            = 65534
)

// headerTyp is the COSE "typ" header (RFC 9596); the draft sets it to
// application/statuslist+cwt on a status list token.
const (
	headerTyp         = 16
	typStatusListCWT  = "application/statuslist+cwt"
	maxListBytes      = 16 << 20 // bound on a decompressed status list
	maxTokenSize      = 32 << 20
	maxIdentifierList = 1 << 22
)

// Reference is the MSO "status" member of ISO/IEC 18013-5 second edition
// (clause 9.1.2.6):
//
//	Status = {? "status_list": StatusListInfo, ? "identifier_list": IdentifierListInfo}
//	StatusListInfo = {"idx": uint, "uri": tstr, ? "certificate": bstr}
//	IdentifierListInfo = {"id": bstr, "uri": tstr, ? "certificate": bstr}
type Reference struct {
	StatusList     *StatusListInfo
	IdentifierList *IdentifierListInfo
}

// StatusListInfo points at the document's entry of a status list.
type StatusListInfo struct {
	Idx uint64
	URI string
	// Certificate, when present, is the trust point for the list token's
	// x5chain (DER) instead of the IACA.
	Certificate []byte
}

// IdentifierListInfo names the document in an identifier list.
type IdentifierListInfo struct {
	ID          []byte
	URI         string
	Certificate []byte
}

type statusWire struct {
	StatusList     *statusListInfoWire     `cbor:"status_list,omitempty"`
	IdentifierList *identifierListInfoWire `cbor:"identifier_list,omitempty"`
}

type statusListInfoWire struct {
	Idx         *uint64 `cbor:"idx"`
	URI         *string `cbor:"uri"`
	Certificate []byte  `cbor:"certificate,omitempty"`
}

type identifierListInfoWire struct {
	ID          []byte  `cbor:"id"`
	URI         *string `cbor:"uri"`
	Certificate []byte  `cbor:"certificate,omitempty"`
}

// ParseReference decodes the MSO status member. Unknown members are
// ignored (they are reserved for future use); a reference with neither
// status_list nor identifier_list is malformed.
func ParseReference(raw cbor.RawMessage) (*Reference, error) {
	var w statusWire
	if err := mdoc.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: MSO status: %v", ErrMalformed, err)
	}
	ref := &Reference{}
	if s := w.StatusList; s != nil {
		if s.Idx == nil || s.URI == nil || *s.URI == "" {
			return nil, fmt.Errorf("%w: MSO status_list without idx or uri", ErrMalformed)
		}
		ref.StatusList = &StatusListInfo{Idx: *s.Idx, URI: *s.URI, Certificate: s.Certificate}
	}
	if s := w.IdentifierList; s != nil {
		if len(s.ID) == 0 || s.URI == nil || *s.URI == "" {
			return nil, fmt.Errorf("%w: MSO identifier_list without id or uri", ErrMalformed)
		}
		ref.IdentifierList = &IdentifierListInfo{ID: s.ID, URI: *s.URI, Certificate: s.Certificate}
	}
	if ref.StatusList == nil && ref.IdentifierList == nil {
		return nil, fmt.Errorf("%w: MSO status with neither status_list nor identifier_list", ErrMalformed)
	}
	return ref, nil
}

// Token is a status list token or identifier list token: a CWT in a
// COSE_Sign1 whose signature verified with the first certificate of its
// x5chain, and whose x5chain is internally consistent (each certificate
// signed by the next). Whom the top of the chain is trusted through is
// decided per document by [Token.SignedBy].
type Token struct {
	// Subject is the sub claim: the URI the token is published at, which
	// the MSO reference's uri must equal.
	Subject string
	// IssuedAt is iat; Expires is exp (zero when absent); TTL is ttl
	// (zero when absent), the draft's hint on how long to cache it.
	IssuedAt, Expires time.Time
	TTL               time.Duration
	// Chain is the token's x5chain, leaf first.
	Chain []*x509.Certificate

	// Exactly one of these is set.
	statusList *StatusList
	idList     map[string]struct{}
}

// StatusList is the decoded status_list claim:
//
//	StatusList = {"bits": 1 / 2 / 4 / 8, "lst": bstr, ? "aggregation_uri": tstr}
//
// lst is the zlib (RFC 1950) compressed byte array; the status of index i
// is bits wide at bit offset i*bits, least significant bits first.
type StatusList struct {
	Bits int
	list []byte
}

// Len is the number of entries the list holds.
func (l *StatusList) Len() uint64 { return uint64(len(l.list)) * 8 / uint64(l.Bits) }

// Status returns the status value at idx.
func (l *StatusList) Status(idx uint64) (byte, error) {
	if idx >= l.Len() {
		return 0, fmt.Errorf("%w: index %d beyond the %d entries of the status list", ErrMalformed, idx, l.Len())
	}
	bit := idx * uint64(l.Bits)
	b := l.list[bit/8]
	return (b >> (bit % 8)) & byte(1<<l.Bits-1), nil
}

// StatusList returns the token's status list, nil for an identifier list.
func (t *Token) StatusList() *StatusList { return t.statusList }

// IsIdentifierList reports whether the token is an identifier list.
func (t *Token) IsIdentifierList() bool { return t.idList != nil }

// Lists reports whether an identifier list token lists id (a listed
// document is revoked).
func (t *Token) Lists(id []byte) bool {
	_, ok := t.idList[string(id)]
	return ok
}

type statusListWire struct {
	Bits *int   `cbor:"bits"`
	Lst  []byte `cbor:"lst"`
}

type identifierListWire struct {
	Identifiers map[cbor.ByteString]cbor.RawMessage `cbor:"identifiers"`
}

// ParseToken decodes a status list token or an identifier list token and
// verifies what it can on its own: the COSE_Sign1 signature with the
// public key of the first x5chain certificate, and each certificate of the
// chain signed by the next. It does not decide trust or freshness.
func ParseToken(data []byte) (*Token, error) {
	if len(data) > maxTokenSize {
		return nil, fmt.Errorf("%w: token of %d bytes", ErrMalformed, len(data))
	}
	m, err := cose.ParseSign1(data)
	if err != nil {
		return nil, fmt.Errorf("%w: token: %w", ErrMalformed, err)
	}
	if m.Detached {
		return nil, fmt.Errorf("%w: token without payload", ErrMalformed)
	}
	var prot map[int64]cbor.RawMessage
	if err := mdoc.Unmarshal(m.Protected, &prot); err != nil {
		return nil, fmt.Errorf("%w: token protected header: %v", ErrMalformed, err)
	}
	chain, err := m.Certificates()
	if err != nil {
		return nil, fmt.Errorf("%w: token: %w", ErrMalformed, err)
	}
	if err := m.VerifySignature(chain[0].PublicKey, m.Payload); err != nil {
		return nil, fmt.Errorf("%w: token: %w", ErrSignature, err)
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return nil, fmt.Errorf("%w: token x5chain certificate %d: %v", ErrSignature, i, err)
		}
	}
	var claims map[int64]cbor.RawMessage
	if err := mdoc.Unmarshal(m.Payload, &claims); err != nil {
		return nil, fmt.Errorf("%w: token claims: %v", ErrMalformed, err)
	}
	t := &Token{Chain: chain}
	if err := mdoc.Unmarshal(claims[claimSub], &t.Subject); err != nil || t.Subject == "" {
		return nil, fmt.Errorf("%w: token without a sub claim", ErrMalformed)
	}
	if t.IssuedAt, err = numericDate(claims[claimIat]); err != nil || t.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: token without a valid iat claim", ErrMalformed)
	}
	if raw, ok := claims[claimExp]; ok {
		if t.Expires, err = numericDate(raw); err != nil {
			return nil, fmt.Errorf("%w: token exp: %v", ErrMalformed, err)
		}
	}
	if raw, ok := claims[claimTTL]; ok {
		var ttl uint64
		if err := mdoc.Unmarshal(raw, &ttl); err != nil || ttl > math.MaxInt64/uint64(time.Second) {
			return nil, fmt.Errorf("%w: token ttl is not a positive number of seconds", ErrMalformed)
		}
		t.TTL = time.Duration(ttl) * time.Second
	}
	sl, hasSL := claims[claimStatusList]
	il, hasIL := claims[claimIdentifierList]
	switch {
	case hasSL && hasIL:
		return nil, fmt.Errorf("%w: token with both status_list and identifier_list", ErrMalformed)
	case hasSL:
		if typ, ok := prot[headerTyp]; ok {
			var s string
			if err := mdoc.Unmarshal(typ, &s); err != nil || s != typStatusListCWT {
				return nil, fmt.Errorf("%w: status list token typ is not %s", ErrMalformed, typStatusListCWT)
			}
		}
		if t.statusList, err = parseStatusList(sl); err != nil {
			return nil, err
		}
	case hasIL:
		var w identifierListWire
		if err := mdoc.Unmarshal(il, &w); err != nil || w.Identifiers == nil {
			return nil, fmt.Errorf("%w: identifier_list claim", ErrMalformed)
		}
		if len(w.Identifiers) > maxIdentifierList {
			return nil, fmt.Errorf("%w: identifier list of %d entries", ErrMalformed, len(w.Identifiers))
		}
		t.idList = make(map[string]struct{}, len(w.Identifiers))
		for id := range w.Identifiers {
			t.idList[string(id)] = struct{}{}
		}
	default:
		return nil, fmt.Errorf("%w: token with neither status_list nor identifier_list", ErrMalformed)
	}
	return t, nil
}

func parseStatusList(raw cbor.RawMessage) (*StatusList, error) {
	var w statusListWire
	if err := mdoc.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: status_list claim: %v", ErrMalformed, err)
	}
	if w.Bits == nil || w.Lst == nil {
		return nil, fmt.Errorf("%w: status_list without bits or lst", ErrMalformed)
	}
	switch *w.Bits {
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("%w: status_list bits %d (want 1, 2, 4 or 8)", ErrMalformed, *w.Bits)
	}
	list, err := inflate(w.Lst)
	if err != nil {
		return nil, err
	}
	return &StatusList{Bits: *w.Bits, list: list}, nil
}

// inflate decompresses a zlib stream, refusing more than maxListBytes.
func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: status_list lst: %v", ErrMalformed, err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: status_list lst: %v", ErrMalformed, err)
	}
	if len(out) > maxListBytes {
		return nil, fmt.Errorf("%w: status_list lst inflates beyond %d bytes", ErrMalformed, maxListBytes)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty status_list lst", ErrMalformed)
	}
	return out, nil
}

// numericDate decodes a CWT NumericDate (RFC 8392 section 2): seconds since
// the epoch, integer or float.
func numericDate(raw cbor.RawMessage) (time.Time, error) {
	if raw == nil {
		return time.Time{}, errors.New("absent")
	}
	var v any
	if err := mdoc.Unmarshal(raw, &v); err != nil {
		return time.Time{}, err
	}
	switch x := v.(type) {
	case uint64:
		if x > math.MaxInt64/2 {
			return time.Time{}, errors.New("out of range")
		}
		return time.Unix(int64(x), 0).UTC(), nil
	case int64:
		return time.Unix(x, 0).UTC(), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e15 {
			return time.Time{}, errors.New("out of range")
		}
		return time.Unix(int64(x), 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not a number")
}

// SignedBy reports whether the top of the token's x5chain is signed by
// trustPoint (ISO/IEC 18013-5 clause 9.1.2.6: the MSO reference's
// certificate, or else the IACA that signed the document signer) and every
// certificate of the chain is valid at now.
func (t *Token) SignedBy(trustPoint *x509.Certificate, now time.Time) error {
	if trustPoint == nil {
		return fmt.Errorf("%w: no trust point for the token", ErrSignature)
	}
	for i, c := range t.Chain {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return fmt.Errorf("%w: token x5chain certificate %d not valid at %s", ErrSignature, i, now.UTC().Format(time.RFC3339))
		}
	}
	top := t.Chain[len(t.Chain)-1]
	if bytes.Equal(top.Raw, trustPoint.Raw) {
		return nil
	}
	if err := top.CheckSignatureFrom(trustPoint); err != nil {
		return fmt.Errorf("%w: token x5chain not signed by %s: %v", ErrSignature, trustPoint.Subject, err)
	}
	return nil
}
