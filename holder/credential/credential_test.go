package credential_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"hash"
	"image/jpeg"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/mdoc"
)

// checkIssued verifies an issued credential independently of the package:
// every item digest against the MSO, the issuerAuth signature with the DS
// key, x5chain, deviceKey, validity, randoms and digest IDs.
func checkIssued(t *testing.T, w *testWallet, alg cose.Algorithm, newHash func() hash.Hash, decoys int) wireMSO {
	t.Helper()
	var is wireIssuerSigned
	mustUnmarshal(t, w.cred.IssuerSigned, &is)
	m, msg := msoOf(t, is.IssuerAuth)

	v, err := cose.NewVerifier(alg, w.pki.DS.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := (*cose.Sign1Message)(msg).Verify(nil, v); err != nil {
		t.Fatalf("issuerAuth signature: %v", err)
	}
	if got, ok := msg.Headers.Unprotected[cose.HeaderLabelX5Chain].([]byte); !ok || !bytes.Equal(got, w.pki.DS.Raw) {
		t.Error("x5chain is not the DS certificate")
	}
	wantProt := map[cose.Algorithm]string{cose.AlgorithmES256: "\x43\xa1\x01\x26", cose.AlgorithmES384: "\x44\xa1\x01\x38\x22"}[alg]
	if string(msg.Headers.RawProtected) != wantProt {
		t.Errorf("protected header %x", msg.Headers.RawProtected)
	}
	if m.Version != "1.0" || m.DocType != w.cred.DocType {
		t.Errorf("MSO version %q docType %q", m.Version, m.DocType)
	}
	for _, k := range []string{"signed", "validFrom", "validUntil"} {
		tag := m.ValidityInfo[k]
		s, _ := tag.Content.(string)
		if tag.Number != 0 || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(s) {
			t.Errorf("validityInfo.%s = %v", k, tag)
		}
	}
	kx, _ := m.DeviceKeyInfo.DeviceKey[-2].([]byte)
	devPub, err := w.dev.PublicKey.Bytes() // 04 ‖ X ‖ Y
	if err != nil {
		t.Fatal(err)
	}
	if kx == nil || !bytes.Equal(kx, devPub[1:33]) {
		t.Error("MSO deviceKey is not the device key")
	}
	n := 0
	for ns, items := range is.NameSpaces {
		for _, raw := range items {
			var it wireItem
			mustUnmarshal(t, untag24(t, raw), &it)
			h := newHash()
			h.Write(raw)
			if !bytes.Equal(m.ValueDigests[ns][it.DigestID], h.Sum(nil)) {
				t.Errorf("digest of %s/%s does not match the MSO", ns, it.ElementIdentifier)
			}
			if len(it.Random) < 16 {
				t.Errorf("%s random is %d bytes", it.ElementIdentifier, len(it.Random))
			}
			n++
		}
		if got := len(m.ValueDigests[ns]); got != len(items)+decoys {
			t.Errorf("%s: %d digests for %d items and %d decoys", ns, got, len(items), decoys)
		}
	}
	if n == 0 {
		t.Fatal("no items")
	}
	return m
}

func TestIssueMDL(t *testing.T) {
	w := newWallet(t, nil)
	m := checkIssued(t, w, cose.AlgorithmES256, sha256.New, 0)
	if m.DigestAlgorithm != "SHA-256" {
		t.Errorf("digestAlgorithm %q", m.DigestAlgorithm)
	}
	if w.cred.DocType != mdoc.DocTypeMDL || w.cred.DeviceKey == nil {
		t.Error("credential fields")
	}
	if !w.cred.ValidFrom.Equal(testNow.Add(-time.Hour)) || !w.cred.ValidUntil.Equal(testNow.Add(-time.Hour).AddDate(1, 0, 0)) {
		t.Errorf("validity %v..%v", w.cred.ValidFrom, w.cred.ValidUntil)
	}
	if len(w.cred.Items[mdoc.NameSpaceMDL]) != 16 {
		t.Errorf("%d mDL items", len(w.cred.Items[mdoc.NameSpaceMDL]))
	}
}

func TestIssueOptions(t *testing.T) {
	p384, err := pki.New(pki.Options{Now: testNow, Curve: elliptic.P384()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg     string
		newHash func() hash.Hash
	}{{"SHA-384", sha512.New384}, {"SHA-512", sha512.New}} {
		w := newWallet(t, func(o *credential.IssueOptions) {
			o.DigestAlgorithm = tc.alg
			o.Decoys = 3
			o.DSCert, o.DSKey = p384.DS, p384.DSKey
			o.ExtraCerts = nil
		})
		w.pki = p384
		m := checkIssued(t, w, cose.AlgorithmES384, tc.newHash, 3)
		if m.DigestAlgorithm != tc.alg || w.cred.DigestAlgorithm != tc.alg {
			t.Errorf("digestAlgorithm %q", m.DigestAlgorithm)
		}
	}
	// x5chain as an array when extra certificates are given; a public
	// device key gives a credential that cannot present.
	w := newWallet(t, nil)
	c, err := credential.Issue(credential.IssueOptions{DocType: "x", Elements: []credential.Element{{Namespace: "ns", Identifier: "a", Value: 1}},
		DeviceKey: &w.dev.PublicKey, DSCert: w.pki.DS, DSKey: w.pki.DSKey, ExtraCerts: []*x509.Certificate{w.pki.IACA}, Signed: testNow})
	if err != nil {
		t.Fatal(err)
	}
	_, msg := msoOf(t, c.IssuerAuth)
	chain, ok := msg.Headers.Unprotected[cose.HeaderLabelX5Chain].([]any)
	if !ok || len(chain) != 2 || !bytes.Equal(chain[0].([]byte), w.pki.DS.Raw) {
		t.Errorf("x5chain array: %T", msg.Headers.Unprotected[cose.HeaderLabelX5Chain])
	}
	if _, err := c.Present(credential.PresentOptions{}); !errors.Is(err, credential.ErrNoDeviceKey) {
		t.Errorf("present without device key: %v", err)
	}
	if err := c.SetDeviceKey(w.dev); err != nil {
		t.Fatal(err)
	}

	good := credential.IssueOptions{DocType: "x", Elements: []credential.Element{{Namespace: "ns", Identifier: "a", Value: 1}},
		DeviceKey: w.dev, DSCert: w.pki.DS, DSKey: w.pki.DSKey, Signed: testNow}
	for name, mod := range map[string]func(o *credential.IssueOptions){
		"no docType":    func(o *credential.IssueOptions) { o.DocType = "" },
		"no DS":         func(o *credential.IssueOptions) { o.DSKey = nil },
		"no device key": func(o *credential.IssueOptions) { o.DeviceKey = nil },
		"no time":       func(o *credential.IssueOptions) { o.Signed = time.Time{} },
		"bad digest":    func(o *credential.IssueOptions) { o.DigestAlgorithm = "MD5" },
		"duplicate": func(o *credential.IssueOptions) {
			o.Elements = append(o.Elements, o.Elements[0])
		},
		"empty id":   func(o *credential.IssueOptions) { o.Elements = []credential.Element{{Namespace: "ns"}} },
		"dead rand":  func(o *credential.IssueOptions) { o.Rand = bytes.NewReader(nil) },
		"same rand":  func(o *credential.IssueOptions) { o.Rand = zeroReader{}; o.Decoys = 1 },
		"bad device": func(o *credential.IssueOptions) { o.DeviceKey = "not a key" },
	} {
		o := good
		mod(&o)
		if _, err := credential.Issue(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestSaveLoadRoundTrip(t *testing.T) {
	w := newWallet(t, func(o *credential.IssueOptions) { o.Decoys = 2 })
	dir := filepath.Join(t.TempDir(), "cred")
	if err := w.cred.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, credential.FileIssuerSigned))
	if err != nil || !bytes.Equal(b, w.cred.IssuerSigned) {
		t.Fatal("issuer_signed.cbor differs")
	}
	c, err := credential.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.IssuerSigned, w.cred.IssuerSigned) || !bytes.Equal(c.IssuerAuth, w.cred.IssuerAuth) || c.DocType != w.cred.DocType {
		t.Fatal("loaded credential differs")
	}
	for ns, items := range w.cred.Items {
		for i, it := range items {
			if got := c.Items[ns][i]; !bytes.Equal(got.Bytes, it.Bytes) || got.DigestID != it.DigestID || got.ElementIdentifier != it.ElementIdentifier {
				t.Errorf("item %s/%s differs", ns, it.ElementIdentifier)
			}
		}
	}
	if k, ok := c.DeviceKey.(*ecdsa.PrivateKey); !ok || !k.Equal(w.dev) {
		t.Fatal("device key not loaded")
	}
	if fi, _ := os.Stat(filepath.Join(dir, credential.FileDeviceKey)); fi.Mode().Perm() != 0o600 {
		t.Errorf("device key mode %v", fi.Mode().Perm())
	}
	// Another key is refused; no key at all is fine.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c.DeviceKey = other
	c.Save(dir)
	if _, err := credential.Load(dir); err == nil {
		t.Error("mismatched device key accepted")
	}
	os.Remove(filepath.Join(dir, credential.FileDeviceKey))
	if c, err := credential.Load(dir); err != nil || c.DeviceKey != nil {
		t.Errorf("load without key: %v", err)
	}
	if _, err := credential.Load(t.TempDir()); err == nil {
		t.Error("empty dir accepted")
	}
}

var requestSome = map[string]map[string]bool{
	mdoc.NameSpaceMDL: {"family_name": true, "age_over_21": false, "portrait": false, "height": false},
}

func TestPresentSelective(t *testing.T) {
	w := newWallet(t, nil)
	stb, st := transcriptFor(t)
	docBytes, err := w.cred.Present(credential.PresentOptions{Requested: requestSome, SessionTranscript: stb})
	if err != nil {
		t.Fatal(err)
	}
	var doc wireDocument
	mustUnmarshal(t, docBytes, &doc)
	if doc.DocType != mdoc.DocTypeMDL {
		t.Errorf("docType %q", doc.DocType)
	}
	if !bytes.Equal(doc.IssuerSigned.IssuerAuth, w.cred.IssuerAuth) {
		t.Error("issuerAuth not the issued bytes")
	}
	if len(doc.IssuerSigned.NameSpaces) != 1 {
		t.Errorf("namespaces %v", doc.IssuerSigned.NameSpaces)
	}
	got := map[string]bool{}
	m, _ := msoOf(t, doc.IssuerSigned.IssuerAuth)
	for _, raw := range doc.IssuerSigned.NameSpaces[mdoc.NameSpaceMDL] {
		var it wireItem
		mustUnmarshal(t, untag24(t, raw), &it)
		got[it.ElementIdentifier] = true
		if d := sha256.Sum256(raw); !bytes.Equal(d[:], m.ValueDigests[mdoc.NameSpaceMDL][it.DigestID]) {
			t.Errorf("%s: digest mismatch", it.ElementIdentifier)
		}
	}
	if len(got) != 3 || !got["family_name"] || !got["age_over_21"] || !got["portrait"] {
		t.Errorf("disclosed %v, want family_name, age_over_21, portrait", got)
	}
	if code, ok := doc.Errors[mdoc.NameSpaceMDL]["height"]; !ok || code != 0 || len(doc.Errors[mdoc.NameSpaceMDL]) != 1 {
		t.Errorf("errors %v", doc.Errors)
	}
	if !bytes.Equal(doc.DeviceSigned.NameSpaces, []byte{0xd8, 0x18, 0x41, 0xa0}) {
		t.Errorf("DeviceNameSpacesBytes %x", doc.DeviceSigned.NameSpaces)
	}
	if err := checkDeviceSignature(doc, &w.dev.PublicKey, deviceAuthBytes(t, st, mdoc.DocTypeMDL)); err != nil {
		t.Errorf("deviceSignature: %v", err)
	}
	// Nothing requested: no nameSpaces at all, still device-authenticated.
	docBytes, err = w.cred.Present(credential.PresentOptions{SessionTranscript: stb})
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]cbor.RawMessage
	mustUnmarshal(t, docBytes, &raw)
	var isRaw map[string]cbor.RawMessage
	mustUnmarshal(t, raw["issuerSigned"], &isRaw)
	if _, ok := isRaw["nameSpaces"]; ok {
		t.Error("nameSpaces present with nothing requested")
	}
}

func TestPresentMAC(t *testing.T) {
	w := newWallet(t, nil)
	stb, st := transcriptFor(t)
	reader, _ := ecdh.P256().GenerateKey(rand.Reader)
	docBytes, err := w.cred.Present(credential.PresentOptions{Requested: requestSome, SessionTranscript: stb, MAC: true, ReaderKey: reader.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	var doc wireDocument
	mustUnmarshal(t, docBytes, &doc)
	if _, ok := doc.DeviceSigned.DeviceAuth["deviceSignature"]; ok || len(doc.DeviceSigned.DeviceAuth) != 1 {
		t.Fatal("deviceAuth has more than deviceMac")
	}
	if !checkDeviceMAC(t, doc, reader, &w.dev.PublicKey, stb, deviceAuthBytes(t, st, mdoc.DocTypeMDL)) {
		t.Error("deviceMac does not verify")
	}
	if _, err := w.cred.Present(credential.PresentOptions{SessionTranscript: stb, MAC: true}); err == nil {
		t.Error("MAC without reader key accepted")
	}
	for _, bad := range [][]byte{nil, {0xa0}, {0x82, 0xf6, 0xf6}, {0xd8, 0x18, 0x41, 0xa0}} {
		if _, err := w.cred.Present(credential.PresentOptions{SessionTranscript: bad}); err == nil {
			t.Errorf("transcript %x accepted", bad)
		}
	}
}

func TestFaults(t *testing.T) {
	w := newWallet(t, nil)
	stb, st := transcriptFor(t)
	reader, _ := ecdh.P256().GenerateKey(rand.Reader)
	dab := deviceAuthBytes(t, st, mdoc.DocTypeMDL)
	present := func(f credential.Faults, mac bool) wireDocument {
		t.Helper()
		b, err := w.cred.Present(credential.PresentOptions{Requested: requestSome, SessionTranscript: stb, MAC: mac, ReaderKey: reader.PublicKey(), Faults: f})
		if err != nil {
			t.Fatal(err)
		}
		var d wireDocument
		mustUnmarshal(t, b, &d)
		return d
	}

	d := present(credential.Faults{TamperValue: "family_name"}, false)
	m, _ := msoOf(t, d.IssuerSigned.IssuerAuth)
	tampered := 0
	for _, raw := range d.IssuerSigned.NameSpaces[mdoc.NameSpaceMDL] {
		var it wireItem
		mustUnmarshal(t, untag24(t, raw), &it)
		dg := sha256.Sum256(raw)
		if !bytes.Equal(dg[:], m.ValueDigests[mdoc.NameSpaceMDL][it.DigestID]) {
			tampered++
			if it.ElementIdentifier != "family_name" || string(it.ElementValue) == string(must(cbor.Marshal("Sample"))) {
				t.Errorf("tampered %s = %x", it.ElementIdentifier, it.ElementValue)
			}
		}
	}
	if tampered != 1 {
		t.Errorf("%d tampered items, want 1", tampered)
	}
	if err := checkDeviceSignature(d, &w.dev.PublicKey, dab); err != nil {
		t.Errorf("tampering broke device auth: %v", err)
	}

	if err := checkDeviceSignature(present(credential.Faults{SignOtherTranscript: true}, false), &w.dev.PublicKey, dab); err == nil {
		t.Error("SignOtherTranscript: signature still verifies")
	}
	if err := checkDeviceSignature(present(credential.Faults{WrongDeviceKey: true}, false), &w.dev.PublicKey, dab); err == nil {
		t.Error("WrongDeviceKey: signature still verifies")
	}
	if checkDeviceMAC(t, present(credential.Faults{SignOtherTranscript: true}, true), reader, &w.dev.PublicKey, stb, dab) {
		t.Error("SignOtherTranscript: MAC still verifies")
	}
	if checkDeviceMAC(t, present(credential.Faults{WrongDeviceKey: true}, true), reader, &w.dev.PublicKey, stb, dab) {
		t.Error("WrongDeviceKey: MAC still verifies")
	}

	d = present(credential.Faults{CorruptIssuerAuth: true}, false)
	_, msg := msoOf(t, d.IssuerSigned.IssuerAuth)
	v, _ := cose.NewVerifier(cose.AlgorithmES256, w.pki.DS.PublicKey)
	if err := (*cose.Sign1Message)(msg).Verify(nil, v); err == nil {
		t.Error("CorruptIssuerAuth: issuer signature still verifies")
	}

	d = present(credential.Faults{DocType: "org.example.other"}, false)
	m, _ = msoOf(t, d.IssuerSigned.IssuerAuth)
	if d.DocType != "org.example.other" || m.DocType != mdoc.DocTypeMDL {
		t.Errorf("DocType fault: doc %q MSO %q", d.DocType, m.DocType)
	}
	if err := checkDeviceSignature(d, &w.dev.PublicKey, deviceAuthBytes(t, st, "org.example.other")); err != nil {
		t.Errorf("DocType fault: device auth over the wrong docType: %v", err)
	}

	d = present(credential.Faults{DiscloseAll: true}, false)
	if n := len(d.IssuerSigned.NameSpaces[mdoc.NameSpaceMDL]); n != 16 {
		t.Errorf("DiscloseAll disclosed %d", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestRespond(t *testing.T) {
	w := newWallet(t, nil)
	stb, _ := transcriptFor(t)
	resp, err := credential.Respond([]*credential.Credential{w.cred}, []credential.DocRequest{
		{DocType: mdoc.DocTypeMDL, NameSpaces: requestSome},
		{DocType: mdoc.DocTypeMyNumberCard, NameSpaces: map[string]map[string]bool{mdoc.NameSpace23220: {"age_over_20": false}}},
	}, credential.PresentOptions{SessionTranscript: stb})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Version        string            `cbor:"version"`
		Documents      []cbor.RawMessage `cbor:"documents"`
		DocumentErrors []map[string]int  `cbor:"documentErrors"`
		Status         *uint             `cbor:"status"`
	}
	mustUnmarshal(t, resp, &r)
	if r.Version != "1.0" || r.Status == nil || *r.Status != 0 || len(r.Documents) != 1 {
		t.Fatalf("response %+v", r)
	}
	if len(r.DocumentErrors) != 1 || r.DocumentErrors[0][mdoc.DocTypeMyNumberCard] != 0 || len(r.DocumentErrors[0]) != 1 {
		t.Errorf("documentErrors %v", r.DocumentErrors)
	}
	// Only the status when nothing is returned.
	empty, _ := credential.DeviceResponse(credential.StatusGeneralError, nil)
	if want := []byte("\xa2fstatus\x0agversionc1.0"); !bytes.Equal(empty, want) {
		t.Errorf("empty response %x", empty)
	}
}

func TestSamples(t *testing.T) {
	els, err := credential.MDL(credential.SampleOptions{Now: testNow, Country: "JP", BirthDate: time.Date(2009, 3, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{}
	for _, e := range els {
		vals[e.Identifier] = e.Value
	}
	// Born 2009-03-02, on 2026-03-01 the holder is 16.
	if vals["age_in_years"] != 16 || vals["age_over_18"] != false || vals["age_birth_year"] != 2009 {
		t.Errorf("ages %v %v %v", vals["age_in_years"], vals["age_over_18"], vals["age_birth_year"])
	}
	if vals["issuing_country"] != "JP" || vals["un_distinguishing_sign"] != "J" {
		t.Errorf("country %v %v", vals["issuing_country"], vals["un_distinguishing_sign"])
	}
	if bd := vals["birth_date"].(cbor.Tag); bd.Number != 1004 || bd.Content != "2009-03-02" {
		t.Errorf("birth_date %v", bd)
	}
	if ed := vals["expiry_date"].(cbor.Tag); ed.Content != "2030-03-01" {
		t.Errorf("expiry_date %v", ed)
	}
	for _, id := range []string{"family_name", "given_name", "birth_date", "issue_date", "expiry_date", "issuing_country",
		"issuing_authority", "document_number", "portrait", "driving_privileges", "un_distinguishing_sign", "age_over_20", "age_over_21"} {
		if _, ok := vals[id]; !ok {
			t.Errorf("mDL lacks %s", id)
		}
	}
	if _, err := credential.MDL(credential.SampleOptions{}); err == nil {
		t.Error("sample without Now accepted")
	}
	if _, err := credential.MyNumberCard(credential.SampleOptions{Now: testNow, BirthDate: testNow.AddDate(1, 0, 0)}); err == nil {
		t.Error("birth after now accepted")
	}

	mnc, err := credential.MyNumberCard(credential.SampleOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, e := range mnc {
		got[e.Namespace+"/"+e.Identifier] = e.Value
	}
	if got["org.iso.23220.1.jp/birth_date_unicode"] != "平成2年4月15日" || got["org.iso.23220.1/age_over_20"] != true || got["org.iso.23220.1/age_in_years"] != 35 {
		t.Errorf("MNC values %v", got)
	}
}

// TestNoIndividualNumber: the sample My Number Card must never carry the
// Individual Number (12 digits), whose use is restricted by Japanese law.
func TestNoIndividualNumber(t *testing.T) {
	mnc, err := credential.MyNumberCard(credential.SampleOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	forbiddenID := regexp.MustCompile(`(?i)individual|my_?number|kojin|personal_number|mnc_number|number`)
	twelveDigits := regexp.MustCompile(`\d{12}`)
	for _, e := range mnc {
		if forbiddenID.MatchString(e.Identifier) {
			t.Errorf("element %s/%s looks like an Individual Number", e.Namespace, e.Identifier)
		}
		if s, ok := e.Value.(string); ok && twelveDigits.MatchString(s) {
			t.Errorf("element %s holds 12 digits: %q", e.Identifier, s)
		}
	}
	// Also over the issued bytes.
	p, _ := pki.New(pki.Options{Now: testNow, Country: "JP"})
	dev, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, err := credential.Issue(credential.IssueOptions{DocType: mdoc.DocTypeMyNumberCard, Elements: mnc, DeviceKey: dev, DSCert: p.DS, DSKey: p.DSKey, Signed: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, items := range c.Items {
		for _, it := range items {
			if forbiddenID.MatchString(it.ElementIdentifier) {
				t.Errorf("issued element %s", it.ElementIdentifier)
			}
		}
	}
	if len(c.Items[mdoc.NameSpace23220JP]) != 6 || len(c.Items[mdoc.NameSpace23220]) != 5 {
		t.Errorf("MNC namespaces %v", c.Namespaces())
	}
}

func TestPortrait(t *testing.T) {
	a, err := credential.Portrait()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := credential.Portrait()
	if !bytes.Equal(a, b) {
		t.Error("portrait is not deterministic")
	}
	img, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 96 || r.Dy() != 120 || !bytes.HasPrefix(a, []byte{0xff, 0xd8}) {
		t.Errorf("portrait %v", r)
	}
}

func TestParseRejects(t *testing.T) {
	w := newWallet(t, nil)
	good := w.cred.IssuerSigned
	for i := 0; i < len(good); i += 97 {
		if _, err := credential.Parse(good[:i]); err == nil {
			t.Errorf("truncated at %d accepted", i)
		}
	}
	if _, err := credential.Parse(append(append([]byte(nil), good...), 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	for name, v := range map[string]any{
		"no issuerAuth": map[string]any{"nameSpaces": map[string]any{}},
		"bad item":      map[string]any{"nameSpaces": map[string]any{"ns": []any{[]byte{1}}}, "issuerAuth": []any{}},
		"bad cose":      map[string]any{"issuerAuth": []any{1, 2}},
	} {
		b, _ := cbor.Marshal(v)
		if _, err := credential.Parse(b); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(annexD(f, "issuer_signed"))
	// A small seed too: minimizing mutants of the 3.4 kB Annex D seed is
	// slow, so most progress comes from this one.
	w := newWallet(f, nil)
	small, err := credential.Issue(credential.IssueOptions{DocType: "d", Elements: []credential.Element{{Namespace: "n", Identifier: "a", Value: true}},
		DeviceKey: w.dev, DSCert: w.pki.DS, DSKey: w.pki.DSKey, Signed: testNow})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small.IssuerSigned)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := credential.Parse(data)
		if err != nil {
			return
		}
		if !bytes.Equal(c.IssuerSigned, data) || c.DocType == "" {
			t.Fatal("parsed credential does not keep its bytes")
		}
	})
}

func BenchmarkIssueMDL(b *testing.B) {
	w := newWallet(b, nil)
	els, err := credential.MDL(credential.SampleOptions{Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	o := credential.IssueOptions{DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: w.dev, DSCert: w.pki.DS, DSKey: w.pki.DSKey, Signed: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := credential.Issue(o); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkPresent(b *testing.B, mac bool) {
	w := newWallet(b, nil)
	stb, _ := transcriptFor(b)
	reader, _ := ecdh.P256().GenerateKey(rand.Reader)
	o := credential.PresentOptions{Requested: requestSome, SessionTranscript: stb, MAC: mac, ReaderKey: reader.PublicKey()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.cred.Present(o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPresentSignature(b *testing.B) { benchmarkPresent(b, false) }
func BenchmarkPresentMAC(b *testing.B)       { benchmarkPresent(b, true) }
