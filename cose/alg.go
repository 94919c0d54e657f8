package cose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"strconv"
)

// Algorithm is a COSE algorithm identifier (RFC 9053 tables 1, 2 and 7).
type Algorithm int64

// The algorithms of ISO/IEC 18013-5 clause 9.1.3.6 (signatures) and 9.1.3.5
// (MAC).
const (
	AlgES256   Algorithm = -7  // ECDSA with SHA-256 on P-256
	AlgES384   Algorithm = -35 // ECDSA with SHA-384 on P-384
	AlgES512   Algorithm = -36 // ECDSA with SHA-512 on P-521
	AlgEdDSA   Algorithm = -8  // EdDSA (Ed25519 here)
	AlgHMAC256 Algorithm = 5   // HMAC 256/256
)

// Header labels (RFC 9052 table 3, RFC 9360 section 2) and message tags
// (RFC 9052 table 4).
const (
	HeaderAlg     = 1
	HeaderCrit    = 2
	HeaderX5Chain = 33

	TagMac0  = 17
	TagSign1 = 18
)

// algInfo is one row of the algorithm table.
type algInfo struct {
	alg   Algorithm
	name  string
	curve elliptic.Curve // nil unless ECDSA
	hash  crypto.Hash    // 0 for EdDSA
	size  int            // coordinate size in bytes (ECDSA)
}

// algTable is the algorithm ↔ curve table (RFC 9053 section 2.1).
var algTable = []algInfo{
	{AlgES256, "ES256", elliptic.P256(), crypto.SHA256, 32},
	{AlgES384, "ES384", elliptic.P384(), crypto.SHA384, 48},
	{AlgES512, "ES512", elliptic.P521(), crypto.SHA512, 66},
	{AlgEdDSA, "EdDSA", nil, 0, 0},
	{AlgHMAC256, "HMAC 256/256", nil, crypto.SHA256, 0},
}

func lookup(a Algorithm) *algInfo {
	for i := range algTable {
		if algTable[i].alg == a {
			return &algTable[i]
		}
	}
	return nil
}

// String returns the RFC 9053 name ("ES256", "HMAC 256/256"), or "alg N".
func (a Algorithm) String() string {
	if in := lookup(a); in != nil {
		return in.name
	}
	return "alg " + strconv.FormatInt(int64(a), 10)
}

// Curve returns the curve an ECDSA algorithm is bound to, nil otherwise.
func (a Algorithm) Curve() elliptic.Curve {
	if in := lookup(a); in != nil {
		return in.curve
	}
	return nil
}

// Hash returns the hash of an ECDSA or HMAC algorithm, 0 otherwise.
func (a Algorithm) Hash() crypto.Hash {
	if in := lookup(a); in != nil {
		return in.hash
	}
	return 0
}

// AlgorithmFor returns the signature algorithm for a public key: ES256,
// ES384 or ES512 for an ECDSA key on P-256, P-384 or P-521, EdDSA for an
// Ed25519 key. Other keys are [ErrUnsupported].
func AlgorithmFor(pub crypto.PublicKey) (Algorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		for _, in := range algTable {
			if in.curve != nil && in.curve == k.Curve {
				return in.alg, nil
			}
		}
		return 0, errorf(ErrUnsupported, "ECDSA key on %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return AlgEdDSA, nil
	}
	return 0, errorf(ErrUnsupported, "signing key %T", pub)
}
