package cose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	gocose "github.com/veraison/go-cose"
)

// TestInteropGoCOSE cross-checks against an independent implementation
// (veraison/go-cose, a test-only dependency): each side verifies what the
// other signed, on every curve.
func TestInteropGoCOSE(t *testing.T) {
	payload := []byte("ReaderAuthenticationBytes stand-in")
	for _, tc := range []struct {
		curve elliptic.Curve
		alg   gocose.Algorithm
	}{{elliptic.P256(), gocose.AlgorithmES256}, {elliptic.P384(), gocose.AlgorithmES384}, {elliptic.P521(), gocose.AlgorithmES512}} {
		key, _ := ecdsa.GenerateKey(tc.curve, rand.Reader)

		// Ours → go-cose.
		b, err := Sign1(rand.Reader, key, payload, SignOptions{X5Chain: [][]byte{vec(t, "ds_cert")}})
		if err != nil {
			t.Fatal(err)
		}
		var theirs gocose.UntaggedSign1Message
		if err := theirs.UnmarshalCBOR(b); err != nil {
			t.Fatalf("%v: go-cose decoding ours: %v", tc.alg, err)
		}
		v, err := gocose.NewVerifier(tc.alg, &key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := theirs.Verify(nil, v); err != nil {
			t.Errorf("%v: go-cose verifying ours: %v", tc.alg, err)
		}

		// go-cose → ours, detached.
		s, err := gocose.NewSigner(tc.alg, crypto.Signer(key))
		if err != nil {
			t.Fatal(err)
		}
		msg := gocose.UntaggedSign1Message{
			Headers: gocose.Headers{Protected: gocose.ProtectedHeader{gocose.HeaderLabelAlgorithm: tc.alg}},
			Payload: payload,
		}
		if err := msg.Sign(rand.Reader, nil, s); err != nil {
			t.Fatal(err)
		}
		msg.Payload = nil
		wire, err := msg.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseSign1(wire)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Detached {
			t.Error("go-cose detached payload not seen as detached")
		}
		if err := m.VerifySignature(&key.PublicKey, payload); err != nil {
			t.Errorf("%v: verifying go-cose's: %v", tc.alg, err)
		}
	}
}
