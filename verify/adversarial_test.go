package verify

import (
	"crypto"
	"crypto/ecdsa"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/mdoc"
)

// Responses a hostile wallet crafts from a genuine credential, re-signed by
// hand where the attack needs a signature the holder package would not make.

// signSign1 builds a tagged COSE_Sign1 [<<{1: alg}>>, unprot, payload or nil,
// r‖s] whose ECDSA signature uses hash h whatever alg says.
func signSign1(t testing.TB, key *ecdsa.PrivateKey, alg cose.Algorithm, h crypto.Hash, unprot map[int64]cbor.RawMessage, payload []byte, detached bool) []byte {
	t.Helper()
	prot, err := mdoc.Marshal(map[int64]int64{cose.HeaderAlg: int64(alg)})
	if err != nil {
		t.Fatal(err)
	}
	hh := h.New()
	hh.Write(cose.ToBeSigned(cose.ContextSignature1, prot, payload))
	r, s, err := ecdsa.Sign(seeded(11), key, hh.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	n := (key.Curve.Params().BitSize + 7) / 8
	sig := make([]byte, 2*n)
	r.FillBytes(sig[:n])
	s.FillBytes(sig[n:])
	if unprot == nil {
		unprot = map[int64]cbor.RawMessage{}
	}
	var pl any = payload
	if detached {
		pl = nil
	}
	out, err := mdoc.Marshal(cbor.Tag{Number: cose.TagSign1, Content: []any{prot, unprot, pl, sig}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyAlgorithmMustMatchCurve: an ECDSA alg names its curve (RFC 9053
// section 2.1; ISO/IEC 18013-5 clause 9.1.5.2: ES256 with P-256, ES384 with
// P-384, ES512 with P-521). A signature made with another hash on a key of
// another curve is refused, for issuerAuth and for deviceSignature.
func TestVerifyAlgorithmMustMatchCurve(t *testing.T) {
	f := newFixture(t)
	c := f.issue(t, issueTweak{})
	for _, tc := range []struct {
		alg cose.Algorithm
		h   crypto.Hash
	}{{cose.AlgES384, crypto.SHA384}, {cose.AlgES512, crypto.SHA512}} {
		t.Run(tc.alg.String()+" issuerAuth with a P-256 DS key", func(t *testing.T) {
			r, err := mdoc.ParseDeviceResponse(f.present(t, c, credential.PresentOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			d := &r.Documents[0]
			m, err := cose.ParseSign1(d.IssuerSigned.IssuerAuth)
			if err != nil {
				t.Fatal(err)
			}
			d.IssuerSigned.IssuerAuth = signSign1(t, f.pki.DSKey, tc.alg, tc.h, m.Unprotected, m.Payload, false)
			enc, err := r.MarshalCBOR()
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verify(enc, f.options())
			wantCode(t, res, err, CodeUnsupported)
			if ch := check(res, CheckIssuerSignature); ch.OK {
				t.Error("issuer signature accepted with an alg of another curve")
			}
		})
		t.Run(tc.alg.String()+" deviceSignature with a P-256 device key", func(t *testing.T) {
			r, err := mdoc.ParseDeviceResponse(f.present(t, c, credential.PresentOptions{}))
			if err != nil {
				t.Fatal(err)
			}
			d := &r.Documents[0]
			dab := mdoc.DeviceAuthenticationBytes(vec(t, "session_transcript"), d.DocType, d.DeviceSigned.NameSpaces.Raw)
			d.DeviceSigned.DeviceSignature = signSign1(t, c.DeviceKey.(*ecdsa.PrivateKey), tc.alg, tc.h, nil, dab, true)
			enc, err := r.MarshalCBOR()
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verify(enc, f.options())
			wantCode(t, res, err, CodeDeviceAuth)
			if ch := check(res, CheckDeviceAuth); ch.OK {
				t.Error("device signature accepted with an alg of another curve")
			}
		})
	}
	// The control: the same construction with the matching alg verifies.
	r, err := mdoc.ParseDeviceResponse(f.present(t, c, credential.PresentOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	d := &r.Documents[0]
	m, err := cose.ParseSign1(d.IssuerSigned.IssuerAuth)
	if err != nil {
		t.Fatal(err)
	}
	d.IssuerSigned.IssuerAuth = signSign1(t, f.pki.DSKey, cose.AlgES256, crypto.SHA256, m.Unprotected, m.Payload, false)
	dab := mdoc.DeviceAuthenticationBytes(vec(t, "session_transcript"), d.DocType, d.DeviceSigned.NameSpaces.Raw)
	d.DeviceSigned.DeviceSignature = signSign1(t, c.DeviceKey.(*ecdsa.PrivateKey), cose.AlgES256, crypto.SHA256, nil, dab, true)
	enc, err := r.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(enc, f.options()); err != nil {
		t.Fatalf("control: %v", err)
	}
}

func check(res *Result, name string) Check {
	for _, ch := range res.Documents[0].Checks {
		if ch.Name == name {
			return ch
		}
	}
	return Check{}
}

// TestVerifyMSOSignedWithinDSValidity: clause 9.3.1 — the MSO signed date
// lies within the validity period of the DS certificate. An MSO claiming a
// signing time before the DS certificate existed is refused.
func TestVerifyMSOSignedWithinDSValidity(t *testing.T) {
	f := newFixture(t)
	c := f.issue(t, issueTweak{signed: f.pki.DS.NotBefore.Add(-time.Hour)})
	res, err := Verify(f.present(t, c, credential.PresentOptions{}), f.options())
	wantCode(t, res, err, CodeMSOValidity)
	// On the boundary it is fine.
	c = f.issue(t, issueTweak{signed: f.pki.DS.NotBefore})
	if _, err := Verify(f.present(t, c, credential.PresentOptions{}), f.options()); err != nil {
		t.Fatalf("signed at DS notBefore: %v", err)
	}
}

// manyDocuments returns the Annex D response with its document repeated n times.
func manyDocuments(t testing.TB, n int) []byte {
	t.Helper()
	var m map[string]cbor.RawMessage
	if err := mdoc.Unmarshal(vec(t, "device_response"), &m); err != nil {
		t.Fatal(err)
	}
	var docs []cbor.RawMessage
	if err := mdoc.Unmarshal(m["documents"], &docs); err != nil {
		t.Fatal(err)
	}
	many := make([]cbor.RawMessage, n)
	for i := range many {
		many[i] = docs[0]
	}
	var err error
	if m["documents"], err = mdoc.Marshal(many); err != nil {
		t.Fatal(err)
	}
	out, err := mdoc.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyTooManyDocuments: a hostile wallet can fit over a thousand
// documents into one response, each costing certificate, issuer and device
// signature checks (seconds of CPU on a kiosk). A response with more than
// MaxDocuments documents is refused before any of them is verified.
func TestVerifyTooManyDocuments(t *testing.T) {
	opts := annexDOptions(t)
	res, err := Verify(manyDocuments(t, MaxDocuments), opts)
	if err != nil || len(res.Documents) != MaxDocuments {
		t.Fatalf("%d documents: %v", MaxDocuments, err)
	}
	res, err = Verify(manyDocuments(t, 1000), opts)
	wantCode(t, res, err, CodeMalformed)
	if len(res.Documents) != 0 {
		t.Errorf("%d documents verified", len(res.Documents))
	}
}
