package cose

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/asn1"
	"io"
	"math/big"

	"github.com/idreader/idreader/mdoc"
)

// SignOptions shape a COSE_Sign1 made by [Sign1].
type SignOptions struct {
	// X5Chain are DER certificates, leaf first, put in the unprotected
	// header 33: one as a single bstr, more as an array (RFC 9360 section 2).
	// Empty means no x5chain header.
	X5Chain [][]byte
	// Detached leaves the payload out of the message (null), as readerAuth
	// and deviceSignature carry it (ISO/IEC 18013-5 clauses 9.1.3.6, 9.1.4).
	Detached bool
}

// Sign1 signs payload with key and returns an untagged COSE_Sign1
//
//	[<<{1: alg}>>, {? 33: x5chain}, payload / null, signature]
//
// The algorithm follows the key (see [AlgorithmFor]); an ECDSA signature is
// converted to raw r‖s (RFC 9053 section 2.1). rand feeds the signer.
func Sign1(rand io.Reader, key crypto.Signer, payload []byte, opts SignOptions) ([]byte, error) {
	alg, err := AlgorithmFor(key.Public())
	if err != nil {
		return nil, err
	}
	protected, err := mdoc.Marshal(map[int64]int64{HeaderAlg: int64(alg)})
	if err != nil {
		return nil, errorf(ErrMalformed, "encoding protected header: %v", err)
	}
	tbs := ToBeSigned(ContextSignature1, protected, payload)
	var sig []byte
	if alg == AlgEdDSA {
		if sig, err = key.Sign(rand, tbs, crypto.Hash(0)); err != nil {
			return nil, errorf(ErrUnsupported, "signing: %v", err)
		}
	} else {
		in := lookup(alg)
		h := in.hash.New()
		h.Write(tbs)
		der, err := key.Sign(rand, h.Sum(nil), in.hash)
		if err != nil {
			return nil, errorf(ErrUnsupported, "signing: %v", err)
		}
		if sig, err = rawECDSA(der, in.size); err != nil {
			return nil, err
		}
	}
	unprotected := map[int64]any{}
	switch len(opts.X5Chain) {
	case 0:
	case 1:
		unprotected[HeaderX5Chain] = opts.X5Chain[0]
	default:
		unprotected[HeaderX5Chain] = opts.X5Chain
	}
	return encode(protected, unprotected, payload, opts.Detached, sig)
}

// rawECDSA converts an ASN.1 ECDSA signature (crypto.Signer's form) to r‖s
// with coordinates of size bytes.
func rawECDSA(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) > 0 || sig.R == nil || sig.S == nil {
		return nil, errorf(ErrMalformed, "signer returned a malformed ECDSA signature")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 8*size || sig.S.BitLen() > 8*size {
		return nil, errorf(ErrMalformed, "signer returned an ECDSA signature out of range")
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}

// Mac0 computes HMAC 256/256 with key over payload and returns an untagged
// COSE_Mac0 [<<{1: 5}>>, {}, payload / null, tag] (RFC 9052 section 6.2,
// ISO/IEC 18013-5 clause 9.1.3.5, where the payload is detached).
func Mac0(key, payload []byte, detached bool) ([]byte, error) {
	protected, err := mdoc.Marshal(map[int64]int64{HeaderAlg: int64(AlgHMAC256)})
	if err != nil {
		return nil, errorf(ErrMalformed, "encoding protected header: %v", err)
	}
	mac := hmac.New(sha256.New, key)
	writeToBeSigned(mac, ContextMAC0, protected, payload)
	return encode(protected, map[int64]any{}, payload, detached, mac.Sum(nil))
}

func encode(protected []byte, unprotected map[int64]any, payload []byte, detached bool, sig []byte) ([]byte, error) {
	var p any = payload
	if detached {
		p = nil
	} else if payload == nil {
		p = []byte{}
	}
	out, err := mdoc.Marshal([]any{protected, unprotected, p, sig})
	if err != nil {
		return nil, errorf(ErrMalformed, "encoding COSE message: %v", err)
	}
	return out, nil
}
