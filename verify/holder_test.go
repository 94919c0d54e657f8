package verify

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/mdoc"
)

// Tests with keys of our own, made by the simulated wallet (holder/pki and
// holder/credential): deviceSignature, and faults the Annex D vectors cannot
// show.

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func seeded(seed uint64) io.Reader { return rand.NewChaCha8([32]byte{byte(seed)}) }

type fixture struct {
	pki        *pki.PKI
	transcript []byte
	readerKey  *ecdh.PrivateKey
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	p, err := pki.New(pki.Options{Rand: seeded(1), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	rk, err := ecdh.P256().GenerateKey(seeded(2))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{pki: p, transcript: vec(t, "session_transcript_bytes"), readerKey: rk}
}

type issueTweak struct {
	ds                  *x509.Certificate
	dsKey               *ecdsa.PrivateKey
	country             string
	digest              string // MSO digest algorithm; SHA-256 when empty
	signed, from, until time.Time
}

func (f *fixture) issue(t testing.TB, tw issueTweak) *credential.Credential {
	t.Helper()
	els, err := credential.MDL(credential.SampleOptions{Now: testNow, Country: tw.country})
	if err != nil {
		t.Fatal(err)
	}
	devKey, err := ecdsa.GenerateKey(elliptic.P256(), seeded(3))
	if err != nil {
		t.Fatal(err)
	}
	ds, dsKey := f.pki.DS, f.pki.DSKey
	if tw.ds != nil {
		ds, dsKey = tw.ds, tw.dsKey
	}
	signed := testNow.Add(-time.Hour)
	if !tw.signed.IsZero() {
		signed = tw.signed
	}
	c, err := credential.Issue(credential.IssueOptions{
		Rand: seeded(4), DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: devKey,
		DSCert: ds, DSKey: dsKey, Signed: signed, ValidFrom: tw.from, ValidUntil: tw.until, Decoys: 2,
		DigestAlgorithm: tw.digest,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var requestAll = map[string]map[string]bool{mdoc.NameSpaceMDL: {
	"family_name": false, "given_name": false, "birth_date": false, "issuing_country": false,
	"portrait": false, "driving_privileges": false, "age_over_18": false,
}}

func (f *fixture) present(t testing.TB, c *credential.Credential, po credential.PresentOptions) []byte {
	t.Helper()
	po.Rand = seeded(5)
	if po.Requested == nil {
		po.Requested = requestAll
	}
	if po.SessionTranscript == nil {
		po.SessionTranscript = f.transcript
	}
	if po.MAC {
		po.ReaderKey = f.readerKey.PublicKey()
	}
	doc, err := c.Present(po)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := credential.DeviceResponse(0, nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *fixture) options() Options {
	return Options{Trust: NewTrustStore(f.pki.IACA), Now: testNow, SessionTranscript: f.transcript, ReaderKey: f.readerKey}
}

func TestVerifyWalletSignatureAndMac(t *testing.T) {
	f := newFixture(t)
	c := f.issue(t, issueTweak{})
	for _, mac := range []bool{false, true} {
		res, err := Verify(f.present(t, c, credential.PresentOptions{MAC: mac}), f.options())
		if err != nil {
			t.Fatalf("mac=%v: %v", mac, err)
		}
		d := res.Documents[0]
		want := map[bool]string{false: DeviceAuthSignature, true: DeviceAuthMAC}[mac]
		if d.DeviceAuth != want || len(d.Elements) != len(requestAll[mdoc.NameSpaceMDL]) {
			t.Errorf("mac=%v: %s, %d elements", mac, d.DeviceAuth, len(d.Elements))
		}
	}
}

// TestVerifyDigestAlgorithms: value digests of every MSO digest algorithm
// (clause 9.1.2.5) are checked, and a changed value fails under each.
func TestVerifyDigestAlgorithms(t *testing.T) {
	f := newFixture(t)
	for _, alg := range []string{mdoc.DigestSHA256, mdoc.DigestSHA384, mdoc.DigestSHA512} {
		c := f.issue(t, issueTweak{digest: alg})
		res, err := Verify(f.present(t, c, credential.PresentOptions{}), f.options())
		if err != nil || res.Documents[0].MSO.DigestAlgorithm != alg {
			t.Fatalf("%s: %v", alg, err)
		}
		tampered := f.present(t, c, credential.PresentOptions{Faults: credential.Faults{TamperValue: "family_name"}})
		if _, err := Verify(tampered, f.options()); CodeOf(err) != CodeValueDigest {
			t.Errorf("%s: a changed family_name gives %v, want %s", alg, err, CodeValueDigest)
		}
	}
}

func TestVerifyWalletFaults(t *testing.T) {
	f := newFixture(t)
	good := f.issue(t, issueTweak{})

	noEKU, noEKUKey, err := pki.NewDocumentSigner(f.pki, pki.DSOptions{Rand: seeded(6), OmitEKU: true})
	if err != nil {
		t.Fatal(err)
	}
	caDS, caDSKey, err := pki.NewDocumentSigner(f.pki, pki.DSOptions{Rand: seeded(7), CA: true})
	if err != nil {
		t.Fatal(err)
	}
	deDS, deDSKey, err := pki.NewDocumentSigner(f.pki, pki.DSOptions{Rand: seeded(8), Country: "DE"})
	if err != nil {
		t.Fatal(err)
	}
	oldDS, oldDSKey, err := pki.NewDocumentSigner(f.pki, pki.DSOptions{Rand: seeded(9),
		NotBefore: testNow.AddDate(0, -6, 0), NotAfter: testNow.AddDate(0, 0, -1)})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		cred *credential.Credential
		po   credential.PresentOptions
		code Code
	}{
		{"DS without mdoc EKU", f.issue(t, issueTweak{ds: noEKU, dsKey: noEKUKey}), credential.PresentOptions{}, CodeCertificateProfile},
		{"DS is a CA", f.issue(t, issueTweak{ds: caDS, dsKey: caDSKey}), credential.PresentOptions{}, CodeCertificateProfile},
		{"DS country differs from IACA", f.issue(t, issueTweak{ds: deDS, dsKey: deDSKey}), credential.PresentOptions{}, CodeCertificateProfile},
		{"issuing_country differs from DS", f.issue(t, issueTweak{country: "FR"}), credential.PresentOptions{}, CodeCertificateProfile},
		{"DS expired", f.issue(t, issueTweak{ds: oldDS, dsKey: oldDSKey, signed: testNow.AddDate(0, -1, 0)}), credential.PresentOptions{}, CodeCertificateValidity},
		{"MSO expired", f.issue(t, issueTweak{signed: testNow.AddDate(0, 0, -20), until: testNow.AddDate(0, 0, -1)}), credential.PresentOptions{}, CodeMSOValidity},
		{"MSO not yet valid", f.issue(t, issueTweak{from: testNow.AddDate(0, 0, 1)}), credential.PresentOptions{}, CodeMSOValidity},
		{"MSO signed in the future", f.issue(t, issueTweak{signed: testNow.Add(time.Hour), from: testNow.Add(-time.Hour)}), credential.PresentOptions{}, CodeMSOValidity},
		{"tampered value", good, credential.PresentOptions{Faults: credential.Faults{TamperValue: "family_name"}}, CodeValueDigest},
		{"wrong doc type", good, credential.PresentOptions{Faults: credential.Faults{DocType: "org.example.other"}}, CodeDocTypeMismatch},
		{"broken device signature", good, credential.PresentOptions{Faults: credential.Faults{WrongDeviceKey: true}}, CodeDeviceAuth},
		{"device signature over another transcript", good, credential.PresentOptions{Faults: credential.Faults{SignOtherTranscript: true}}, CodeDeviceAuth},
		{"device mac over another transcript", good, credential.PresentOptions{MAC: true, Faults: credential.Faults{SignOtherTranscript: true}}, CodeDeviceAuth},
		{"corrupt issuer signature", good, credential.PresentOptions{Faults: credential.Faults{CorruptIssuerAuth: true}}, CodeIssuerSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(f.present(t, tc.cred, tc.po), f.options())
			wantCode(t, res, err, tc.code)
			if CodeOf(err) != tc.code {
				t.Errorf("first code %s, want %s (%v)", CodeOf(err), tc.code, err)
			}
		})
	}
}

// TestVerifyDeviceSignedElements: device-signed elements need keyAuthorizations
// (clause 9.1.2.4); the wallet's MSO has none, so they are refused even with
// a valid device signature.
func TestVerifyDeviceSignedElements(t *testing.T) {
	f := newFixture(t)
	c := f.issue(t, issueTweak{})
	r, err := mdoc.ParseDeviceResponse(f.present(t, c, credential.PresentOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	d := &r.Documents[0]
	dns, err := mdoc.WrapCBOR(map[string]map[string]any{mdoc.NameSpaceMDL: {"given_name": "Mallory"}})
	if err != nil {
		t.Fatal(err)
	}
	d.DeviceSigned.NameSpaces = dns
	dab := mdoc.DeviceAuthenticationBytes(vec(t, "session_transcript"), d.DocType, dns.Raw)
	sig, err := credential.DeviceSignature(seeded(9), c.DeviceKey, dab)
	if err != nil {
		t.Fatal(err)
	}
	d.DeviceSigned.DeviceSignature = sig
	enc, err := r.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(enc, f.options())
	wantCode(t, res, err, CodeDeviceAuth)
	for _, ch := range res.Documents[0].Checks {
		if ch.Name == CheckDeviceAuth && !ch.OK {
			t.Errorf("device signature itself should verify: %s", ch.Detail)
		}
		if ch.Name == CheckKeyAuthorizations && ch.OK {
			t.Error("unauthorized device-signed element accepted")
		}
	}
	for _, e := range res.Documents[0].Elements {
		if e.DeviceSigned {
			t.Error("unauthorized device-signed element listed")
		}
	}
}
