package credential

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
)

// This file is the wallet's own COSE, independent of the reader's package
// cose by design (see the package documentation).

// COSE algorithm identifiers (RFC 9053 table 1 and 7) and header labels
// (RFC 9052 table 3, RFC 9360 for x5chain).
const (
	algES256   = -7
	algES384   = -35
	algES512   = -36
	algEdDSA   = -8
	algHMAC256 = 5 // HMAC 256/256, the only MAC algorithm of 18013-5 9.1.3.5

	headerAlg     = 1
	headerX5Chain = 33
)

// coseSign1 is COSE_Sign1 (RFC 9052 section 4.2), untagged as 18013-5 uses it:
// [protected: bstr .cbor header_map, unprotected: header_map,
// payload: bstr / nil, signature: bstr].
type coseSign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Payload     []byte // nil encodes as null (detached payload)
	Signature   []byte
}

// coseMac0 is COSE_Mac0 (RFC 9052 section 6.2): [protected, unprotected,
// payload / nil, tag].
type coseMac0 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Payload     []byte
	Tag         []byte
}

// emptyMap is the CBOR encoding of {}.
var emptyMap = cbor.RawMessage{0xa0}

// signAlg returns the COSE algorithm, the hash and the coordinate size for a
// public key: ES256/384/512 for P-256/384/521, EdDSA for Ed25519.
func signAlg(pub crypto.PublicKey) (alg int, h crypto.Hash, size int, err error) {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return algES256, crypto.SHA256, 32, nil
		case elliptic.P384():
			return algES384, crypto.SHA384, 48, nil
		case elliptic.P521():
			return algES512, crypto.SHA512, 66, nil
		}
		return 0, 0, 0, fmt.Errorf("credential: unsupported ECDSA curve %s", p.Curve.Params().Name)
	case ed25519.PublicKey:
		return algEdDSA, 0, 0, nil
	}
	return 0, 0, 0, fmt.Errorf("credential: unsupported signing key %T", pub)
}

// protectedAlg encodes the protected header {1: alg}.
func protectedAlg(alg int) ([]byte, error) {
	return mdoc.Marshal(map[int]int{headerAlg: alg})
}

// coseSign signs ["Signature1", protected, empty bstr, payload] (RFC 9052 section
// 4.4) with signer and returns the COSE signature: raw r‖s for ECDSA
// (RFC 9053 section 2.1), the plain signature for EdDSA.
func coseSign(r io.Reader, signer crypto.Signer, protected, payload []byte) ([]byte, error) {
	_, h, size, err := signAlg(signer.Public())
	if err != nil {
		return nil, err
	}
	tbs, err := mdoc.Marshal([]any{"Signature1", protected, []byte{}, payload})
	if err != nil {
		return nil, fmt.Errorf("encoding Sig_structure: %w", err)
	}
	if h == 0 { // EdDSA signs the message itself.
		return signer.Sign(r, tbs, crypto.Hash(0))
	}
	hh := h.New()
	hh.Write(tbs)
	der, err := signer.Sign(r, hh.Sum(nil), h)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) > 0 {
		return nil, errors.New("credential: signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}

// mac0Tag computes the COSE_Mac0 tag HMAC-SHA256(key, ["MAC0", protected,
// empty bstr, payload]) (RFC 9052 section 6.3, 18013-5 9.1.3.5).
func mac0Tag(key, protected, payload []byte) ([]byte, error) {
	mac, err := mdoc.Marshal([]any{"MAC0", protected, []byte{}, payload})
	if err != nil {
		return nil, fmt.Errorf("encoding MAC_structure: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write(mac)
	return m.Sum(nil), nil
}
