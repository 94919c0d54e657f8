package cose

import (
	"bytes"
	"crypto/x509"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
)

// Message is a decoded COSE_Sign1 or COSE_Mac0 (RFC 9052 sections 4.2 and
// 6.2):
//
//	COSE_Sign1 = [protected: bstr, unprotected: header_map, payload: bstr / nil, signature: bstr]
//	COSE_Mac0  = [protected: bstr, unprotected: header_map, payload: bstr / nil, tag: bstr]
//
// Protected is the content of the protected bstr exactly as received; it is
// what the Sig_structure and MAC_structure cover.
type Message struct {
	Protected   []byte
	Alg         Algorithm
	Unprotected map[int64]cbor.RawMessage
	// Payload is the attached payload, nil when Detached.
	Payload  []byte
	Detached bool
	// Signature is the signature of a COSE_Sign1 or the tag of a COSE_Mac0.
	Signature []byte

	// x5chain is header 33 from whichever bucket holds it.
	x5chain cbor.RawMessage
}

// ParseSign1 decodes a COSE_Sign1, tagged (18) or untagged.
func ParseSign1(data []byte) (*Message, error) { return parse(bytes.Clone(data), TagSign1) }

// ParseMac0 decodes a COSE_Mac0, tagged (17) or untagged.
func ParseMac0(data []byte) (*Message, error) { return parse(bytes.Clone(data), TagMac0) }

// ParseSign1NoCopy is [ParseSign1] without the private copy: the result
// aliases data, which must not change while the result is in use. It is
// for data that is already a private copy, such as the issuerAuth of a
// response read by mdoc.ParseDeviceResponse.
func ParseSign1NoCopy(data []byte) (*Message, error) { return parse(data, TagSign1) }

// ParseMac0NoCopy is [ParseMac0] without the private copy, as
// [ParseSign1NoCopy] is for a COSE_Sign1.
func ParseMac0NoCopy(data []byte) (*Message, error) { return parse(data, TagMac0) }

// parse decodes a message with the optional tag. The alg must be in the
// protected header (ISO/IEC 18013-5 clause 9.1.2.4, 9.1.3); a crit header
// is refused since no extension is understood here; alg or x5chain in both
// buckets is malformed (RFC 9052 section 3).
//
// The message is held to its CDDL (the generic decoder would turn a text
// string into the protected bstr and drop a tag in front of any member) and
// read in one pass over data (mdoc.ReadCOSEStructure), which the result's
// slices alias: the exported parsers give it a private copy unless the
// caller holds one.
func parse(data []byte, tag uint64) (*Message, error) {
	if n, ok := tagNumber(data); ok && n != tag {
		return nil, errorf(ErrMalformed, "COSE tag %d, want %d", n, tag)
	}
	s, err := mdoc.ReadCOSEStructure(data, tag)
	if err != nil {
		return nil, errorf(ErrMalformed, "%v", err)
	}
	m := &Message{Protected: s.Protected, Unprotected: s.Unprotected, Payload: s.Payload, Detached: s.Detached, Signature: s.Signature}
	var alg, x5chain []byte
	var crit bool
	if len(s.Protected) > 0 {
		err := mdoc.ScanCOSEHeaderMap(s.Protected, func(label int64, value []byte) {
			switch label {
			case HeaderAlg:
				alg = value
			case HeaderCrit:
				crit = true
			case HeaderX5Chain:
				x5chain = value
			}
		})
		if err != nil {
			return nil, errorf(ErrMalformed, "COSE protected header: %v", err)
		}
	}
	if crit {
		return nil, errorf(ErrUnsupported, "COSE crit header")
	}
	if alg == nil {
		return nil, errorf(ErrMalformed, "COSE protected header without alg")
	}
	a, ok := mdoc.ReadInt(alg)
	if !ok {
		return nil, errorf(ErrUnsupported, "COSE alg is not an integer")
	}
	m.Alg = Algorithm(a)
	if _, dup := m.Unprotected[HeaderAlg]; dup {
		return nil, errorf(ErrMalformed, "COSE alg in both header buckets")
	}
	m.x5chain = m.Unprotected[HeaderX5Chain]
	if x5chain != nil {
		if m.x5chain != nil {
			return nil, errorf(ErrMalformed, "x5chain in both header buckets")
		}
		m.x5chain = x5chain
	}
	return m, nil
}

// tagNumber returns the number of the tag that data starts with, if it
// starts with a complete tag head (RFC 8949 section 3.4, major type 6).
func tagNumber(data []byte) (uint64, bool) {
	if len(data) == 0 || data[0]>>5 != 6 {
		return 0, false
	}
	ai := data[0] & 0x1f
	if ai < 24 {
		return uint64(ai), true
	}
	if ai > 27 || len(data) < 1+1<<(ai-24) {
		return 0, false
	}
	var n uint64
	for _, b := range data[1 : 1+1<<(ai-24)] {
		n = n<<8 | uint64(b)
	}
	return n, true
}

// X5Chain returns the DER certificates of header 33 (RFC 9360 section 2),
// from the protected or the unprotected bucket: one bstr, or an array of
// bstr with the leaf first. The certificates are not parsed. A single
// certificate aliases the message's bytes; those of an array are copies.
func (m *Message) X5Chain() ([][]byte, error) {
	raw := m.x5chain
	if raw == nil {
		return nil, errorf(ErrMalformed, "no x5chain (COSE header 33)")
	}
	if len(raw) > 0 && raw[0]>>5 == 2 { // major type 2: bstr
		one, ok := mdoc.ReadBytes(raw)
		if !ok {
			return nil, errorf(ErrMalformed, "x5chain: not one definite-length bstr")
		}
		return [][]byte{one}, nil
	}
	var many [][]byte
	if err := mdoc.Unmarshal(raw, &many); err != nil {
		return nil, errorf(ErrMalformed, "x5chain is neither bstr nor array of bstr")
	}
	if len(many) == 0 {
		return nil, errorf(ErrMalformed, "empty x5chain")
	}
	return many, nil
}

// Certificates parses every certificate of the x5chain, leaf first. It
// validates nothing: chains are the caller's business (Annex B profiles and
// trust anchors).
func (m *Message) Certificates() ([]*x509.Certificate, error) {
	ders, err := m.X5Chain()
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, errorf(ErrMalformed, "x5chain certificate %d: %v", i, err)
		}
		certs[i] = c
	}
	return certs, nil
}
