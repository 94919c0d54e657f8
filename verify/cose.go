package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"math/big"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
)

// COSE algorithm identifiers (RFC 9053 tables 1, 2, 3; ISO/IEC 18013-5 clause
// 9.1.2.4 and 9.1.3.5) and header labels (RFC 9052 table 3, RFC 9360).
const (
	algES256     = -7
	algES384     = -35
	algES512     = -36
	algEdDSA     = -8
	algHMAC256   = 5 // HMAC 256/256
	labelAlg     = 1
	labelCrit    = 2
	labelX5Chain = 33
)

// COSE message tags (RFC 9052 table 4); both forms are accepted.
const (
	tagCOSEMac0  = 17
	tagCOSESign1 = 18
)

// coseMessage is a decoded COSE_Sign1 or COSE_Mac0 (RFC 9052 sections 4.2
// and 6.2): [protected: bstr, unprotected: map, payload: bstr / nil,
// signature-or-tag: bstr]. Protected is the bstr content exactly as received.
type coseMessage struct {
	Protected   []byte
	Alg         int64
	Unprotected map[int64]cbor.RawMessage
	Payload     []byte // nil when detached
	Detached    bool
	Sig         []byte
}

type coseWire struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected map[int64]cbor.RawMessage
	Payload     cbor.RawMessage
	Sig         []byte
}

// parseCOSE decodes a COSE_Sign1 (tag 18 optional) or COSE_Mac0 (tag 17
// optional). The alg must be in the protected header (18013-5 requires it);
// a crit header is refused since no extension is understood here.
func parseCOSE(data []byte, tag uint64) (*coseMessage, error) {
	body := data
	if len(data) > 0 && data[0]>>5 == 6 { // major type 6: tagged
		var rt cbor.RawTag
		if err := mdoc.Unmarshal(data, &rt); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if rt.Number != tag {
			return nil, fmt.Errorf("%w: COSE tag %d, want %d", ErrMalformed, rt.Number, tag)
		}
		body = rt.Content
	}
	var w coseWire
	if err := mdoc.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: COSE structure: %v", ErrMalformed, err)
	}
	if w.Protected == nil || w.Sig == nil || w.Payload == nil {
		return nil, fmt.Errorf("%w: COSE structure with missing members", ErrMalformed)
	}
	m := &coseMessage{Protected: w.Protected, Unprotected: w.Unprotected, Sig: w.Sig}
	if len(w.Payload) == 1 && w.Payload[0] == 0xf6 { // null
		m.Detached = true
	} else if err := mdoc.Unmarshal(w.Payload, &m.Payload); err != nil {
		return nil, fmt.Errorf("%w: COSE payload is neither bstr nor null", ErrMalformed)
	}
	var prot map[int64]cbor.RawMessage
	if len(w.Protected) > 0 {
		if err := mdoc.Unmarshal(w.Protected, &prot); err != nil {
			return nil, fmt.Errorf("%w: COSE protected header: %v", ErrMalformed, err)
		}
	}
	if _, ok := prot[labelCrit]; ok {
		return nil, fmt.Errorf("%w: COSE crit header", ErrUnsupported)
	}
	alg, ok := prot[labelAlg]
	if !ok {
		return nil, fmt.Errorf("%w: COSE protected header without alg", ErrMalformed)
	}
	if err := mdoc.Unmarshal(alg, &m.Alg); err != nil {
		return nil, fmt.Errorf("%w: COSE alg is not an integer", ErrUnsupported)
	}
	if _, dup := m.Unprotected[labelAlg]; dup {
		return nil, fmt.Errorf("%w: COSE alg in both header buckets", ErrMalformed)
	}
	if x, ok := prot[labelX5Chain]; ok {
		if m.Unprotected == nil {
			m.Unprotected = map[int64]cbor.RawMessage{}
		}
		if _, dup := m.Unprotected[labelX5Chain]; dup {
			return nil, fmt.Errorf("%w: x5chain in both header buckets", ErrMalformed)
		}
		m.Unprotected[labelX5Chain] = x
	}
	return m, nil
}

// x5chain returns the certificates of header 33 (RFC 9360 section 2): one
// bstr, or an array of bstr with the leaf first.
func (m *coseMessage) x5chain() ([][]byte, error) {
	raw, ok := m.Unprotected[labelX5Chain]
	if !ok {
		return nil, fmt.Errorf("%w: no x5chain (COSE header 33)", ErrMalformed)
	}
	if len(raw) > 0 && raw[0]>>5 == 2 { // major type 2: bstr
		var one []byte
		if err := mdoc.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("%w: x5chain: %v", ErrMalformed, err)
		}
		return [][]byte{one}, nil
	}
	var many [][]byte
	if err := mdoc.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("%w: x5chain is neither bstr nor array of bstr", ErrMalformed)
	}
	if len(many) == 0 {
		return nil, fmt.Errorf("%w: empty x5chain", ErrMalformed)
	}
	return many, nil
}

// writeToBeSigned writes Sig_structure / MAC_structure (RFC 9052 sections
// 4.4 and 6.3) with an empty external_aad into w without building it:
//
//	Sig_structure = ["Signature1", body_protected, external_aad, payload]
//	MAC_structure = ["MAC0", protected, external_aad, payload]
func writeToBeSigned(w io.Writer, context string, protected, payload []byte) {
	var hdr [16]byte
	b := append(hdr[:0], 0x84)
	b = mdoc.AppendHead(b, 0x60, uint64(len(context)))
	w.Write(b)
	w.Write([]byte(context))
	w.Write(mdoc.AppendHead(hdr[:0], 0x40, uint64(len(protected))))
	w.Write(protected)
	w.Write([]byte{0x40}) // external_aad = h''
	w.Write(mdoc.AppendHead(hdr[:0], 0x40, uint64(len(payload))))
	w.Write(payload)
}

// toBeSigned returns the Sig_structure bytes (needed for EdDSA, which signs
// the message itself).
func toBeSigned(context string, protected, payload []byte) []byte {
	var buf bytes.Buffer
	writeToBeSigned(&buf, context, protected, payload)
	return buf.Bytes()
}

// verifySign1 verifies a COSE_Sign1 signature with pub over payload (the
// attached payload or, when detached, the one the caller supplies).
// ECDSA signatures are the raw r‖s of RFC 9053 section 2.1. An ECDSA alg is
// bound to its curve (ES256 to P-256, ES384 to P-384, ES512 to P-521: RFC 9053
// section 2.1, ISO/IEC 18013-5 clause 9.1.5.2), so a signer cannot pick the
// hash for a key whatever curve the key is on.
func verifySign1(m *coseMessage, payload []byte, pub crypto.PublicKey) error {
	var h hash.Hash
	var curve elliptic.Curve
	switch m.Alg {
	case algES256:
		h, curve = sha256.New(), elliptic.P256()
	case algES384:
		h, curve = sha512.New384(), elliptic.P384()
	case algES512:
		h, curve = sha512.New(), elliptic.P521()
	case algEdDSA:
		pk, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("%w: EdDSA signature with a %T key", ErrUnsupported, pub)
		}
		if !ed25519.Verify(pk, toBeSigned("Signature1", m.Protected, payload), m.Sig) {
			return fmt.Errorf("signature does not verify")
		}
		return nil
	default:
		return fmt.Errorf("%w: COSE signature algorithm %d", ErrUnsupported, m.Alg)
	}
	pk, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: ECDSA algorithm %d with a %T key", ErrUnsupported, m.Alg, pub)
	}
	if pk.Curve != curve {
		return fmt.Errorf("%w: %s with a key on %s", ErrUnsupported, algName(m.Alg), pk.Curve.Params().Name)
	}
	n := (pk.Curve.Params().BitSize + 7) / 8
	if len(m.Sig) != 2*n {
		return fmt.Errorf("signature of %d bytes, want %d (raw r‖s)", len(m.Sig), 2*n)
	}
	writeToBeSigned(h, "Signature1", m.Protected, payload)
	var sum [64]byte
	r := new(big.Int).SetBytes(m.Sig[:n])
	s := new(big.Int).SetBytes(m.Sig[n:])
	if !ecdsa.Verify(pk, h.Sum(sum[:0]), r, s) {
		return fmt.Errorf("signature does not verify")
	}
	return nil
}

// verifyMac0 checks a COSE_Mac0 tag with HMAC 256/256 (RFC 9053 section
// 3.1, alg 5), the only MAC ISO/IEC 18013-5 clause 9.1.3.5 allows.
func verifyMac0(m *coseMessage, payload, key []byte) error {
	if m.Alg != algHMAC256 {
		return fmt.Errorf("%w: COSE MAC algorithm %d (only HMAC 256/256)", ErrUnsupported, m.Alg)
	}
	mac := hmac.New(sha256.New, key)
	writeToBeSigned(mac, "MAC0", m.Protected, payload)
	var sum [32]byte
	if !hmac.Equal(mac.Sum(sum[:0]), m.Sig) {
		return fmt.Errorf("MAC tag does not verify")
	}
	return nil
}
