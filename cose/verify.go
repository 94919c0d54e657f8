package cose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"math/big"

	"github.com/idreader/idreader/internal/p256"
)

// VerifySignature checks the signature of a COSE_Sign1 with pub over payload:
// the attached m.Payload, or for a detached message the payload the caller
// rebuilt (DeviceAuthenticationBytes, ReaderAuthenticationBytes). It never
// substitutes one for the other.
//
// pub is an *ecdsa.PublicKey, an ed25519.PublicKey, or a P-256 key prepared
// for many verifications (*p256.PreparedKey). P-256 signatures are checked
// by internal/p256, which gives the answers of crypto/ecdsa at less cost;
// P-384 and P-521 by crypto/ecdsa. ECDSA signatures are the raw r‖s of
// RFC 9053 section 2.1, and the algorithm must match the key's curve. A
// signature that does not verify is [ErrVerify]; a key or algorithm
// outside the table is [ErrUnsupported].
func (m *Message) VerifySignature(pub crypto.PublicKey, payload []byte) error {
	var h hash.Hash
	switch m.Alg {
	case AlgES256:
		h = sha256.New()
	case AlgES384:
		h = sha512.New384()
	case AlgES512:
		h = sha512.New()
	case AlgEdDSA:
		pk, ok := pub.(ed25519.PublicKey)
		if !ok {
			return errorf(ErrUnsupported, "EdDSA signature with a %T key", pub)
		}
		if !ed25519.Verify(pk, ToBeSigned(ContextSignature1, m.Protected, payload), m.Signature) {
			return errorf(ErrVerify, "signature does not verify")
		}
		return nil
	default:
		return errorf(ErrUnsupported, "COSE signature algorithm %d", int64(m.Alg))
	}
	var curve elliptic.Curve
	var verifyDigest func(digest, r, s []byte) bool
	switch pk := pub.(type) {
	case *p256.PreparedKey:
		curve, verifyDigest = elliptic.P256(), pk.Verify
	case *ecdsa.PublicKey:
		curve = pk.Curve
		if curve == elliptic.P256() {
			verifyDigest = func(digest, r, s []byte) bool { return p256.Verify(pk, digest, r, s) }
		} else {
			verifyDigest = func(digest, r, s []byte) bool {
				return ecdsa.Verify(pk, digest, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s))
			}
		}
	default:
		return errorf(ErrUnsupported, "ECDSA algorithm %d with a %T key", int64(m.Alg), pub)
	}
	if curve != m.Alg.Curve() {
		return errorf(ErrUnsupported, "%s with a key on %s", m.Alg, curve.Params().Name)
	}
	n := (curve.Params().BitSize + 7) / 8
	if len(m.Signature) != 2*n {
		return errorf(ErrVerify, "signature of %d bytes, want %d (raw r‖s)", len(m.Signature), 2*n)
	}
	writeToBeSigned(h, ContextSignature1, m.Protected, payload)
	var sum [64]byte
	if !verifyDigest(h.Sum(sum[:0]), m.Signature[:n], m.Signature[n:]) {
		return errorf(ErrVerify, "signature does not verify")
	}
	return nil
}

// VerifyMAC checks the tag of a COSE_Mac0 with HMAC 256/256 (RFC 9053
// section 3.1, alg 5), the only MAC ISO/IEC 18013-5 clause 9.1.3.5 allows,
// over payload (attached or rebuilt by the caller, as for VerifySignature).
func (m *Message) VerifyMAC(key, payload []byte) error {
	if m.Alg != AlgHMAC256 {
		return errorf(ErrUnsupported, "COSE MAC algorithm %d (only HMAC 256/256)", int64(m.Alg))
	}
	mac := hmac.New(sha256.New, key)
	writeToBeSigned(mac, ContextMAC0, m.Protected, payload)
	var sum [32]byte
	if !hmac.Equal(mac.Sum(sum[:0]), m.Signature) {
		return errorf(ErrVerify, "MAC tag does not verify")
	}
	return nil
}
