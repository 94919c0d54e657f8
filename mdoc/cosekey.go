package mdoc

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"
)

// ErrUnsupportedCurve is returned for a COSE_Key on a curve this project does
// not implement (X448, Ed448, the brainpool curves, or an unknown value).
var ErrUnsupportedCurve = errors.New("mdoc: unsupported cipher suite")

// COSE key types and curves (RFC 9053 tables 17, 18; RFC 8152 section 13).
const (
	KtyOKP = 1
	KtyEC2 = 2

	CrvP256    = 1
	CrvP384    = 2
	CrvP521    = 3
	CrvX25519  = 4
	CrvX448    = 5
	CrvEd25519 = 6
	CrvEd448   = 7
)

// COSEKey is a COSE_Key (RFC 9052 section 7) as 18013-5 uses it for EDeviceKey,
// EReaderKey and the MSO deviceKey: kty 2 (EC2) with crv, x, y, or kty 1 (OKP)
// with crv, x. Raw holds the map exactly as received.
type COSEKey struct {
	Kty int
	Crv int
	X   []byte
	Y   []byte
	Raw []byte
}

// coseKeyMap is the wire form. Labels: 1 kty, -1 crv, -2 x, -3 y, -4 d.
type coseKeyMap struct {
	Kty int    `cbor:"1,keyasint"`
	Crv int    `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
	Y   any    `cbor:"-3,keyasint,omitempty"` // bstr, or a bool sign bit (compressed)
}

// ParseCOSEKey decodes a COSE_Key map. Only the fields the key needs are
// checked; other labels (kid, alg, ...) are allowed and ignored.
func ParseCOSEKey(data []byte) (*COSEKey, error) {
	m, ok := directCOSEKey(data)
	if !ok {
		if err := Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("decoding COSE_Key: %w", err)
		}
	}
	k := &COSEKey{Kty: m.Kty, Crv: m.Crv, X: m.X, Raw: append([]byte(nil), data...)}
	switch m.Kty {
	case KtyEC2:
		y, ok := m.Y.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: EC2 COSE_Key without an uncompressed y coordinate", ErrMalformed)
		}
		k.Y = y
	case KtyOKP:
		if m.Y != nil {
			return nil, fmt.Errorf("%w: OKP COSE_Key with a y coordinate", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("%w: COSE_Key kty %d", ErrUnsupportedCurve, m.Kty)
	}
	if _, err := k.curveInfo(); err != nil {
		return nil, err
	}
	return k, nil
}

// coseKeyShape is COSE_Key = {1 => int, ? -1 => int, * label => values}
// (RFC 9052 section 7) as far as directCOSEKey reads it: integer labels.
var coseKeyShape = mapOf(intShape, anyShape, false)

// directCOSEKey reads the usual form of a COSE_Key without the generic
// decoder: integer labels (each once), kty and crv untagged integers, x a
// byte string, y a byte string or a boolean, to exactly the coseKeyMap the
// decoder would give (x and y copied). ok is false for any other form,
// errors included: the generic decoder then reads it and says why.
func directCOSEKey(data []byte) (m coseKeyMap, ok bool) {
	if checkShape(data, coseKeyShape, "COSE_Key") != nil {
		return coseKeyMap{}, false
	}
	c := cursor(data)
	for n, _ := c.head(majorMap); n > 0; n-- {
		label, ok := c.int64()
		if !ok {
			return coseKeyMap{}, false
		}
		switch label {
		case 1, -1:
			v, ok := c.int64()
			if !ok || int64(int(v)) != v {
				return coseKeyMap{}, false
			}
			if label == 1 {
				m.Kty = int(v)
			} else {
				m.Crv = int(v)
			}
		case -2, -3:
			switch mt, _ := c.peekMajor(); {
			case mt == majorBytes:
				b := bytes.Clone(c.bytes())
				if label == -2 {
					m.X = b
				} else {
					m.Y = b
				}
			case label == -3 && (c[0] == 0xf4 || c[0] == 0xf5):
				m.Y = c[0] == 0xf5
				c = c[1:]
			default:
				return coseKeyMap{}, false
			}
		default:
			c.item()
		}
	}
	return m, true
}

type curveInfo struct {
	kty   int
	size  int
	ecdh  ecdh.Curve
	ecdsa elliptic.Curve
}

func (k *COSEKey) curveInfo() (curveInfo, error) {
	var ci curveInfo
	switch k.Crv {
	case CrvP256:
		ci = curveInfo{KtyEC2, 32, ecdh.P256(), elliptic.P256()}
	case CrvP384:
		ci = curveInfo{KtyEC2, 48, ecdh.P384(), elliptic.P384()}
	case CrvP521:
		ci = curveInfo{KtyEC2, 66, ecdh.P521(), elliptic.P521()}
	case CrvX25519:
		ci = curveInfo{KtyOKP, 32, ecdh.X25519(), nil}
	case CrvEd25519:
		ci = curveInfo{KtyOKP, 32, nil, nil}
	default:
		return ci, fmt.Errorf("%w: COSE curve %d", ErrUnsupportedCurve, k.Crv)
	}
	if ci.kty != k.Kty {
		return ci, fmt.Errorf("%w: COSE curve %d with kty %d", ErrMalformed, k.Crv, k.Kty)
	}
	if len(k.X) != ci.size || (ci.kty == KtyEC2 && len(k.Y) != ci.size) {
		return ci, fmt.Errorf("%w: COSE_Key coordinate length for curve %d", ErrMalformed, k.Crv)
	}
	return ci, nil
}

// ECDHPublicKey returns the key for key agreement (P-256, P-384, P-521, X25519).
// The point is checked to be on the curve.
func (k *COSEKey) ECDHPublicKey() (*ecdh.PublicKey, error) {
	ci, err := k.curveInfo()
	if err != nil {
		return nil, err
	}
	if ci.ecdh == nil {
		return nil, fmt.Errorf("%w: curve %d cannot do key agreement", ErrUnsupportedCurve, k.Crv)
	}
	var enc []byte
	if ci.kty == KtyEC2 {
		enc = append(append([]byte{4}, k.X...), k.Y...)
	} else {
		enc = k.X
	}
	pub, err := ci.ecdh.NewPublicKey(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: COSE_Key is not a point on curve %d", ErrMalformed, k.Crv)
	}
	return pub, nil
}

// PublicKey returns the key for signature verification: *ecdsa.PublicKey for
// EC2 keys, ed25519.PublicKey for Ed25519.
func (k *COSEKey) PublicKey() (crypto.PublicKey, error) {
	ci, err := k.curveInfo()
	if err != nil {
		return nil, err
	}
	switch {
	case ci.ecdsa != nil:
		// ParseUncompressedPublicKey checks that the point is on the curve.
		pub, err := ecdsa.ParseUncompressedPublicKey(ci.ecdsa, append(append([]byte{4}, k.X...), k.Y...))
		if err != nil {
			return nil, fmt.Errorf("%w: COSE_Key is not a point on curve %d", ErrMalformed, k.Crv)
		}
		return pub, nil
	case k.Crv == CrvEd25519:
		return ed25519.PublicKey(append([]byte(nil), k.X...)), nil
	}
	return nil, fmt.Errorf("%w: curve %d cannot verify signatures", ErrUnsupportedCurve, k.Crv)
}

// EncodeCOSEKey encodes a public key as a COSE_Key map (deterministic
// encoding): *ecdh.PublicKey (P-256/384/521, X25519), *ecdsa.PublicKey or
// ed25519.PublicKey.
func EncodeCOSEKey(pub crypto.PublicKey) ([]byte, error) {
	switch p := pub.(type) {
	case *ecdh.PublicKey:
		b := p.Bytes()
		switch p.Curve() {
		case ecdh.P256():
			return encodeEC2(CrvP256, b)
		case ecdh.P384():
			return encodeEC2(CrvP384, b)
		case ecdh.P521():
			return encodeEC2(CrvP521, b)
		case ecdh.X25519():
			return Marshal(coseKeyMap{Kty: KtyOKP, Crv: CrvX25519, X: b})
		}
	case *ecdsa.PublicKey:
		e, err := p.ECDH()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupportedCurve, err)
		}
		return EncodeCOSEKey(e)
	case ed25519.PublicKey:
		return Marshal(coseKeyMap{Kty: KtyOKP, Crv: CrvEd25519, X: []byte(p)})
	}
	return nil, fmt.Errorf("%w: key type %T", ErrUnsupportedCurve, pub)
}

func encodeEC2(crv int, uncompressed []byte) ([]byte, error) {
	n := (len(uncompressed) - 1) / 2
	return Marshal(coseKeyMap{Kty: KtyEC2, Crv: crv, X: uncompressed[1 : 1+n], Y: uncompressed[1+n:]})
}
