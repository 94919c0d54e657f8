package cose

import (
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

type wireMessage struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected map[int64]cbor.RawMessage
	Payload     cbor.RawMessage
	Sig         []byte
}

// ParseSign1 decodes a COSE_Sign1, tagged (18) or untagged.
func ParseSign1(data []byte) (*Message, error) { return parse(data, TagSign1) }

// ParseMac0 decodes a COSE_Mac0, tagged (17) or untagged.
func ParseMac0(data []byte) (*Message, error) { return parse(data, TagMac0) }

// parse decodes a message with the optional tag. The alg must be in the
// protected header (ISO/IEC 18013-5 clause 9.1.2.4, 9.1.3); a crit header
// is refused since no extension is understood here; alg or x5chain in both
// buckets is malformed (RFC 9052 section 3).
func parse(data []byte, tag uint64) (*Message, error) {
	body := data
	if len(data) > 0 && data[0]>>5 == 6 { // major type 6: tagged
		var rt cbor.RawTag
		if err := mdoc.Unmarshal(data, &rt); err != nil {
			return nil, errorf(ErrMalformed, "%v", err)
		}
		if rt.Number != tag {
			return nil, errorf(ErrMalformed, "COSE tag %d, want %d", rt.Number, tag)
		}
		body = rt.Content
	}
	// The generic decoder would turn a text string into the protected
	// bstr and drop a tag in front of any member: hold the message to its
	// CDDL first.
	if err := mdoc.Unmarshal(data, new(cbor.RawMessage)); err != nil {
		return nil, errorf(ErrMalformed, "%v", err)
	}
	if err := mdoc.CheckCOSEStructure(data, tag); err != nil {
		return nil, errorf(ErrMalformed, "%v", err)
	}
	var w wireMessage
	if err := mdoc.Unmarshal(body, &w); err != nil {
		return nil, errorf(ErrMalformed, "COSE structure: %v", err)
	}
	if w.Protected == nil || w.Sig == nil || w.Payload == nil {
		return nil, errorf(ErrMalformed, "COSE structure with missing members")
	}
	m := &Message{Protected: w.Protected, Unprotected: w.Unprotected, Signature: w.Sig}
	if len(w.Payload) == 1 && w.Payload[0] == 0xf6 { // null
		m.Detached = true
	} else if err := mdoc.Unmarshal(w.Payload, &m.Payload); err != nil {
		return nil, errorf(ErrMalformed, "COSE payload is neither bstr nor null")
	}
	var prot map[int64]cbor.RawMessage
	if len(w.Protected) > 0 {
		if err := mdoc.Unmarshal(w.Protected, &prot); err != nil {
			return nil, errorf(ErrMalformed, "COSE protected header: %v", err)
		}
	}
	if _, ok := prot[HeaderCrit]; ok {
		return nil, errorf(ErrUnsupported, "COSE crit header")
	}
	alg, ok := prot[HeaderAlg]
	if !ok {
		return nil, errorf(ErrMalformed, "COSE protected header without alg")
	}
	var a int64
	if err := mdoc.Unmarshal(alg, &a); err != nil {
		return nil, errorf(ErrUnsupported, "COSE alg is not an integer")
	}
	m.Alg = Algorithm(a)
	if _, dup := m.Unprotected[HeaderAlg]; dup {
		return nil, errorf(ErrMalformed, "COSE alg in both header buckets")
	}
	m.x5chain = m.Unprotected[HeaderX5Chain]
	if x, ok := prot[HeaderX5Chain]; ok {
		if m.x5chain != nil {
			return nil, errorf(ErrMalformed, "x5chain in both header buckets")
		}
		m.x5chain = x
	}
	return m, nil
}

// X5Chain returns the DER certificates of header 33 (RFC 9360 section 2),
// from the protected or the unprotected bucket: one bstr, or an array of
// bstr with the leaf first. The certificates are not parsed.
func (m *Message) X5Chain() ([][]byte, error) {
	raw := m.x5chain
	if raw == nil {
		return nil, errorf(ErrMalformed, "no x5chain (COSE header 33)")
	}
	if len(raw) > 0 && raw[0]>>5 == 2 { // major type 2: bstr
		var one []byte
		if err := mdoc.Unmarshal(raw, &one); err != nil {
			return nil, errorf(ErrMalformed, "x5chain: %v", err)
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
