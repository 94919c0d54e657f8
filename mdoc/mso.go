package mdoc

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/internal/smallset"
)

// Digest algorithm identifiers of the MSO (ISO/IEC 18013-5 clause 9.1.2.4).
const (
	DigestSHA256 = "SHA-256"
	DigestSHA384 = "SHA-384"
	DigestSHA512 = "SHA-512"
)

// MSOVersion is the only MobileSecurityObject version defined (clause 9.1.2.4).
const MSOVersion = "1.0"

// MSO is the MobileSecurityObject, the issuer-signed payload of issuerAuth
// (ISO/IEC 18013-5 clause 9.1.2.4):
//
//	MobileSecurityObject = {"version": tstr, "digestAlgorithm": tstr,
//	    "valueDigests": ValueDigests, "deviceKeyInfo": DeviceKeyInfo,
//	    "docType": tstr, "validityInfo": ValidityInfo}
//	ValueDigests = {+ NameSpace => {+ DigestID => Digest}}
type MSO struct {
	Version         string
	DigestAlgorithm string
	ValueDigests    ValueDigests
	DeviceKeyInfo   DeviceKeyInfo
	DocType         string
	ValidityInfo    ValidityInfo
	// Status is the optional "status" member exactly as received: the
	// revocation reference (status list or identifier list) that later
	// editions of ISO/IEC 18013-5 add to the MSO. Not interpreted here;
	// nil when absent.
	Status cbor.RawMessage
}

// ValueDigests is the MSO's valueDigests (clause 9.1.2.4): for each
// namespace, in the order received, its digests sorted by digestID. It is
// read into slices rather than maps: a verification looks up a handful of
// digests once, and building maps for them cost more than the lookups.
type ValueDigests []NameSpaceDigests

// NameSpaceDigests are the digests of one namespace.
type NameSpaceDigests struct {
	NameSpace string
	Digests   DigestList
}

// DigestList is the DigestID => Digest pairs of one namespace, sorted by
// ID, each ID once.
type DigestList []ValueDigest

// ValueDigest is one DigestID => Digest pair.
type ValueDigest struct {
	ID     uint64
	Digest []byte
}

// Find returns the digest with the given digestID.
func (l DigestList) Find(id uint64) ([]byte, bool) {
	i, ok := slices.BinarySearchFunc(l, id, func(d ValueDigest, id uint64) int { return cmp.Compare(d.ID, id) })
	if !ok {
		return nil, false
	}
	return l[i].Digest, true
}

// NameSpace returns the digests of namespace ns, nil when it has none.
func (v ValueDigests) NameSpace(ns string) DigestList {
	for i := range v {
		if v[i].NameSpace == ns {
			return v[i].Digests
		}
	}
	return nil
}

// Find returns the digest of namespace ns with the given digestID.
func (v ValueDigests) Find(ns string, id uint64) ([]byte, bool) {
	return v.NameSpace(ns).Find(id)
}

// Map returns the digests as nested maps, the form the CDDL describes.
func (v ValueDigests) Map() map[string]map[uint64][]byte {
	out := make(map[string]map[uint64][]byte, len(v))
	for _, ns := range v {
		m := make(map[uint64][]byte, len(ns.Digests))
		for _, d := range ns.Digests {
			m[d.ID] = d.Digest
		}
		out[ns.NameSpace] = m
	}
	return out
}

// DeviceKeyInfo is the mdoc authentication key and what it may sign
// (clause 9.1.2.4):
//
//	DeviceKeyInfo = {"deviceKey": DeviceKey, ? "keyAuthorizations": KeyAuthorizations,
//	                 ? "keyInfo": {+ int => any}}
type DeviceKeyInfo struct {
	DeviceKey *COSEKey
	// KeyAuthorizations is nil when absent: then the device key authorizes no
	// device-signed element.
	KeyAuthorizations *KeyAuthorizations
	KeyInfo           map[int64]cbor.RawMessage
}

// KeyAuthorizations lists the namespaces and elements the device key may sign
// (clause 9.1.2.4):
//
//	KeyAuthorizations = {? "nameSpaces": [+ NameSpace], ? "dataElements": {+ NameSpace => [+ DataElementIdentifier]}}
type KeyAuthorizations struct {
	NameSpaces   []string            `cbor:"nameSpaces,omitempty"`
	DataElements map[string][]string `cbor:"dataElements,omitempty"`
}

// Authorizes reports whether the device key may sign element id of namespace
// ns: the namespace is authorized as a whole or the element is listed.
func (k *KeyAuthorizations) Authorizes(ns, id string) bool {
	if k == nil {
		return false
	}
	for _, n := range k.NameSpaces {
		if n == ns {
			return true
		}
	}
	for _, e := range k.DataElements[ns] {
		if e == id {
			return true
		}
	}
	return false
}

// ValidityInfo is the MSO validity (clause 9.1.2.4); every field is a tdate.
//
//	ValidityInfo = {"signed": tdate, "validFrom": tdate, "validUntil": tdate, ? "expectedUpdate": tdate}
type ValidityInfo struct {
	Signed     TDate
	ValidFrom  TDate
	ValidUntil TDate
	// Expected is expectedUpdate, nil when absent.
	Expected *TDate
}

type msoWire struct {
	Version         *string            `cbor:"version"`
	DigestAlgorithm *string            `cbor:"digestAlgorithm"`
	ValueDigests    cbor.RawMessage    `cbor:"valueDigests"`
	DeviceKeyInfo   *deviceKeyInfoWire `cbor:"deviceKeyInfo"`
	DocType         *string            `cbor:"docType"`
	ValidityInfo    *validityInfoWire  `cbor:"validityInfo"`
	Status          cbor.RawMessage    `cbor:"status,omitempty"`
}

type deviceKeyInfoWire struct {
	DeviceKey         cbor.RawMessage           `cbor:"deviceKey"`
	KeyAuthorizations *KeyAuthorizations        `cbor:"keyAuthorizations,omitempty"`
	KeyInfo           map[int64]cbor.RawMessage `cbor:"keyInfo,omitempty"`
}

type validityInfoWire struct {
	Signed     *TDate `cbor:"signed"`
	ValidFrom  *TDate `cbor:"validFrom"`
	ValidUntil *TDate `cbor:"validUntil"`
	Expected   *TDate `cbor:"expectedUpdate,omitempty"`
}

// ParseMobileSecurityObjectBytes decodes MobileSecurityObjectBytes =
// #6.24(bstr .cbor MobileSecurityObject), the issuerAuth payload.
func ParseMobileSecurityObjectBytes(data []byte) (*MSO, error) {
	inner, err := SplitTag24(data)
	if err != nil {
		return nil, fmt.Errorf("decoding MobileSecurityObjectBytes: %w", err)
	}
	return ParseMSO(inner)
}

// ParseMSO decodes a MobileSecurityObject map (clause 9.1.2.4). It checks
// shape only (required fields, tag-0 dates, a usable deviceKey); the
// verifier checks the values.
//
// The MSO is read in one pass over the bytes once checkShape has proven its
// shape (checkShape also enforces the limits of the decode mode: definite
// lengths, nesting and sizes, UTF-8, no duplicate key). The digests and the
// status member alias data; deviceKey.Raw and keyInfo values are copies.
func ParseMSO(data []byte) (*MSO, error) {
	if err := checkShape(data, msoShape, "MobileSecurityObject"); err != nil {
		return nil, fmt.Errorf("decoding MobileSecurityObject: %w", err)
	}
	m := &MSO{}
	var deviceKey, valueDigests []byte
	c := cursor(data)
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "version":
			m.Version = msoStr(c.text())
		case "digestAlgorithm":
			m.DigestAlgorithm = msoStr(c.text())
		case "valueDigests":
			valueDigests = c.item()
		case "deviceKeyInfo":
			var err error
			if deviceKey, err = m.DeviceKeyInfo.read(&c); err != nil {
				return nil, err
			}
		case "docType":
			m.DocType = msoStr(c.text())
		case "validityInfo":
			if err := m.ValidityInfo.read(&c); err != nil {
				return nil, err
			}
		case "status":
			m.Status = c.item()
		default:
			c.item()
		}
	}
	// checkShape proved version, digestAlgorithm, valueDigests,
	// deviceKeyInfo.deviceKey, docType and validityInfo present.
	key, err := ParseCOSEKey(deviceKey)
	if err != nil {
		return nil, fmt.Errorf("reading MSO deviceKey: %w", err)
	}
	m.DeviceKeyInfo.DeviceKey = key
	if m.ValueDigests, err = parseValueDigests(valueDigests); err != nil {
		return nil, fmt.Errorf("reading MSO valueDigests: %w", err)
	}
	return m, nil
}

// read reads DeviceKeyInfo (shape proved) and returns the deviceKey map as
// received; keyAuthorizations and keyInfo are decoded into k.
func (k *DeviceKeyInfo) read(c *cursor) (deviceKey []byte, err error) {
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "deviceKey":
			deviceKey = c.item()
		case "keyAuthorizations":
			k.KeyAuthorizations = readKeyAuthorizations(c)
		case "keyInfo":
			// KeyInfo = {+ int => any}; the keys must fit an int64, as the
			// decode mode requires.
			m, _ := c.head(majorMap)
			k.KeyInfo = make(map[int64]cbor.RawMessage, m)
			for ; m > 0; m-- {
				label, ok := c.int64()
				if !ok {
					return nil, fmt.Errorf("%w: MSO keyInfo label out of the int64 range", ErrMalformed)
				}
				k.KeyInfo[label] = bytes.Clone(c.item())
			}
		default:
			c.item()
		}
	}
	return deviceKey, nil
}

// readKeyAuthorizations reads KeyAuthorizations (shape proved: every text a
// valid tstr, every array and map non-empty, no duplicate key).
func readKeyAuthorizations(c *cursor) *KeyAuthorizations {
	ka := &KeyAuthorizations{}
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "nameSpaces":
			ka.NameSpaces = readTexts(c)
		case "dataElements":
			m, _ := c.head(majorMap)
			ka.DataElements = make(map[string][]string, m)
			for ; m > 0; m-- {
				ns := msoStr(c.text())
				ka.DataElements[ns] = readTexts(c)
			}
		default:
			c.item()
		}
	}
	return ka
}

// readTexts reads an array of text strings (shape proved).
func readTexts(c *cursor) []string {
	n, _ := c.head(majorArray)
	out := make([]string, n)
	for i := range out {
		out[i] = msoStr(c.text())
	}
	return out
}

// read reads ValidityInfo (shape proved: every member a tag-0 text string,
// signed, validFrom and validUntil present) and parses its dates.
func (v *ValidityInfo) read(c *cursor) error {
	for n, _ := c.head(majorMap); n > 0; n-- {
		var dst *TDate
		switch string(c.text()) {
		case "signed":
			dst = &v.Signed
		case "validFrom":
			dst = &v.ValidFrom
		case "validUntil":
			dst = &v.ValidUntil
		case "expectedUpdate":
			v.Expected = new(TDate)
			dst = v.Expected
		default:
			c.item()
			continue
		}
		c.head(majorTag) // tag 0, proved by the shape
		text := c.text()
		if t, ok := readUTCDateTime(text); ok {
			*dst = TDate{t}
			continue
		}
		t, err := ParseTDate(string(text))
		if err != nil {
			return fmt.Errorf("decoding MobileSecurityObject validityInfo: %w", err)
		}
		*dst = t
	}
	return nil
}

// msoStr returns the well-known strings of an MSO without allocating.
func msoStr(b []byte) string {
	switch string(b) {
	case DigestSHA256:
		return DigestSHA256
	case DigestSHA384:
		return DigestSHA384
	case DigestSHA512:
		return DigestSHA512
	}
	return str(b)
}

// MarshalCBOR encodes the MSO deterministically, for an issuer; deviceKey is
// written from DeviceKey.Raw.
func (m *MSO) MarshalCBOR() ([]byte, error) {
	if m.DeviceKeyInfo.DeviceKey == nil || len(m.DeviceKeyInfo.DeviceKey.Raw) == 0 {
		return nil, fmt.Errorf("mdoc: MSO without an encoded deviceKey")
	}
	vi := m.ValidityInfo
	vd, err := encMode.Marshal(m.ValueDigests.Map())
	if err != nil {
		return nil, fmt.Errorf("mdoc: encoding valueDigests: %w", err)
	}
	return encMode.Marshal(msoWire{
		Version:         &m.Version,
		DigestAlgorithm: &m.DigestAlgorithm,
		ValueDigests:    vd,
		DeviceKeyInfo: &deviceKeyInfoWire{
			DeviceKey:         m.DeviceKeyInfo.DeviceKey.Raw,
			KeyAuthorizations: m.DeviceKeyInfo.KeyAuthorizations,
			KeyInfo:           m.DeviceKeyInfo.KeyInfo,
		},
		DocType:      &m.DocType,
		ValidityInfo: &validityInfoWire{Signed: &vi.Signed, ValidFrom: &vi.ValidFrom, ValidUntil: &vi.ValidUntil, Expected: vi.Expected},
		Status:       m.Status,
	})
}

// parseValueDigests reads ValueDigests = {+ NameSpace => {+ DigestID => Digest}}
// (clause 9.1.2.4) with a direct reader instead of reflection: it is the
// largest map of the MSO and is read on every verification. Duplicate keys,
// non-text namespaces and trailing bytes are rejected; digests alias data.
// Each namespace's digests are sorted by ID (issuers that encode
// deterministically send them so), which also brings a repeated ID next to
// its twin.
func parseValueDigests(data []byte) (ValueDigests, error) {
	c := cursor(data)
	n, ok := c.head(5)
	if !ok {
		return nil, fmt.Errorf("%w: valueDigests is not a map", ErrMalformed)
	}
	out := make(ValueDigests, 0, min(n, uint64(len(c))))
	var seen smallset.Set[string]
	for ; n > 0; n-- {
		nsLen, ok := c.head(3)
		if !ok {
			return nil, fmt.Errorf("%w: valueDigests namespace is not a text string", ErrMalformed)
		}
		nsBytes, ok := c.take(nsLen)
		if !ok {
			return nil, fmt.Errorf("%w: truncated valueDigests", ErrMalformed)
		}
		if !utf8.Valid(nsBytes) {
			return nil, fmt.Errorf("%w: valueDigests namespace is not valid UTF-8", ErrMalformed)
		}
		ns := str(nsBytes)
		m, ok := c.head(5)
		if !ok {
			return nil, fmt.Errorf("%w: valueDigests[%q] is not a map", ErrMalformed, ns)
		}
		if seen.Add(ns) {
			return nil, fmt.Errorf("%w: valueDigests namespace %q twice", ErrMalformed, ns)
		}
		// Each pair takes at least two bytes: a count beyond that is a lie
		// the reads below catch, and must not size the allocation.
		ds := make(DigestList, 0, min(m, uint64(len(c))/2))
		for ; m > 0; m-- {
			id, ok := c.head(0)
			if !ok {
				return nil, fmt.Errorf("%w: valueDigests[%q] digestID is not a uint", ErrMalformed, ns)
			}
			l, ok := c.head(2)
			if !ok {
				return nil, fmt.Errorf("%w: valueDigests[%q][%d] is not a byte string", ErrMalformed, ns, id)
			}
			d, ok := c.take(l)
			if !ok {
				return nil, fmt.Errorf("%w: truncated valueDigests", ErrMalformed)
			}
			ds = append(ds, ValueDigest{ID: id, Digest: d})
		}
		byID := func(a, b ValueDigest) int { return cmp.Compare(a.ID, b.ID) }
		if !slices.IsSortedFunc(ds, byID) {
			slices.SortFunc(ds, byID)
		}
		for i := 1; i < len(ds); i++ {
			if ds[i].ID == ds[i-1].ID {
				return nil, fmt.Errorf("%w: valueDigests[%q] digestID %d twice", ErrMalformed, ns, ds[i].ID)
			}
		}
		out = append(out, NameSpaceDigests{NameSpace: ns, Digests: ds})
	}
	if len(c) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after valueDigests", ErrMalformed)
	}
	return out, nil
}

// cursor reads definite-length CBOR heads (RFC 8949 section 3).
type cursor []byte

// head reads a head of major type mt and returns its argument.
func (c *cursor) head(mt byte) (uint64, bool) {
	m, n, hl, ok := parseHead(*c)
	if !ok || m != mt {
		return 0, false
	}
	*c = (*c)[hl:]
	return n, true
}

// parseHead decodes the definite-length head at the start of b (RFC 8949
// section 3): major type, argument and the head's length. It writes
// nothing, so that comparing keys costs no write barrier.
func parseHead(b []byte) (mt byte, n uint64, hl int, ok bool) {
	if len(b) == 0 {
		return 0, 0, 0, false
	}
	switch ai := b[0] & 0x1f; {
	case ai < 24:
		return b[0] >> 5, uint64(ai), 1, true
	case ai == 24:
		hl = 2
	case ai == 25:
		hl = 3
	case ai == 26:
		hl = 5
	case ai == 27:
		hl = 9
	default:
		return 0, 0, 0, false
	}
	if len(b) < hl {
		return 0, 0, 0, false
	}
	for _, x := range b[1:hl] {
		n = n<<8 | uint64(x)
	}
	return b[0] >> 5, n, hl, true
}

// take returns the next n bytes.
func (c *cursor) take(n uint64) ([]byte, bool) {
	if uint64(len(*c)) < n {
		return nil, false
	}
	b := (*c)[:n:n]
	*c = (*c)[n:]
	return b, true
}
