package vical

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idreader/idreader/verify"
)

// aamva is the production AAMVA VICAL of 2025-11-18 (vicalIssueID 227602,
// 14 entries), as published.
func aamva(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "interop", "aamva_vical.hex"))
	if err != nil {
		t.Fatal(err)
	}
	b, ok := verify.DecodeHexText(data)
	if !ok {
		t.Fatal("aamva_vical.hex is not hex text")
	}
	return b
}

// aamvaNow lies between the VICAL's date and its nextUpdate.
var aamvaNow = time.Date(2025, 11, 18, 20, 0, 0, 0, time.UTC)

// aamvaRoot is the self-signed root at the end of the VICAL's own x5chain
// (AAMVA DTS Root CA), the anchor an operator configures for it.
func aamvaRoot(t testing.TB, data []byte) *x509.Certificate {
	t.Helper()
	v, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	root := v.Chain[len(v.Chain)-1]
	if !bytes.Equal(root.RawIssuer, root.RawSubject) || root.CheckSignatureFrom(root) != nil {
		t.Fatalf("last x5chain certificate %q is not self-signed", root.Subject)
	}
	return root
}

func TestAAMVAVerifies(t *testing.T) {
	data := aamva(t)
	v, err := Verify(data, []*x509.Certificate{aamvaRoot(t, data)}, aamvaNow)
	if err != nil {
		t.Fatal(err)
	}
	if v.Provider != "AAMVA" || v.Version != "1.0" || v.IssueID == nil || *v.IssueID != 227602 {
		t.Errorf("provider %q version %q issue %v", v.Provider, v.Version, v.IssueID)
	}
	if !v.Date.Equal(time.Date(2025, 11, 18, 18, 38, 12, 0, time.UTC)) || !v.NextUpdate.Equal(time.Date(2025, 11, 19, 18, 38, 12, 0, time.UTC)) {
		t.Errorf("date %v nextUpdate %v", v.Date, v.NextUpdate)
	}
	if len(v.Entries) != 14 {
		t.Fatalf("%d entries, want 14", len(v.Entries))
	}
	for i, e := range v.Entries {
		if e.Certificate == nil || len(e.DocTypes) == 0 || e.Country() != "US" {
			t.Errorf("entry %d: %+v", i, e)
		}
		// The ski quirk: AAMVA lists the OCTET STRING wrapper.
		if !bytes.Equal(e.KeyIdentifier(), e.Certificate.SubjectKeyId) {
			t.Errorf("entry %d: key identifier %x, certificate SKI %x", i, e.KeyIdentifier(), e.Certificate.SubjectKeyId)
		}
		if e.SerialNumber.Cmp(e.Certificate.SerialNumber) != 0 {
			t.Errorf("entry %d: serial %v, certificate %v", i, e.SerialNumber, e.Certificate.SerialNumber)
		}
	}
	if got := v.Entries[0].Certificate.Subject.CommonName; got != "Fast Enterprises Root" {
		t.Errorf("first entry %q", got)
	}
	// The capitalised quirk: entry 3 has "CertificateProfile", all have "Extensions".
	if len(v.Entries[3].CertificateProfiles) != 1 || v.Entries[3].Extensions == nil {
		t.Errorf("entry 3 profiles %v extensions %x", v.Entries[3].CertificateProfiles, v.Entries[3].Extensions)
	}
}

func TestAAMVAFlippedByte(t *testing.T) {
	data := aamva(t)
	root := aamvaRoot(t, data)
	// A byte in the middle of the payload (inside an entry) and one in
	// the signature.
	for _, at := range []int{len(data) / 2, len(data) - 5} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x01
		v, err := Verify(bad, []*x509.Certificate{root}, aamvaNow)
		if err == nil || v != nil {
			t.Errorf("byte %d flipped: verified", at)
		}
	}
}

func TestAAMVAStale(t *testing.T) {
	data := aamva(t)
	root := aamvaRoot(t, data)
	v, err := Verify(data, []*x509.Certificate{root}, time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC))
	if !errors.Is(err, ErrStale) || v == nil {
		t.Fatalf("past nextUpdate: %v, %v", v, err)
	}
	if p := Problems(err); len(p) != 1 || p[0].Code != CodeStale {
		t.Errorf("problems %v", p)
	}
}

// TestTdate: both RFC 8949 date forms decode; anything else is malformed.
func TestTdate(t *testing.T) {
	want := time.Date(2025, 11, 18, 18, 38, 12, 0, time.UTC)
	for name, tc := range map[string]struct {
		hex string
		ok  bool
	}{
		"tag 0":            {"c074323032352d31312d31385431383a33383a31325a", true},
		"tag 1 int":        {"c11a691cbd14", true},
		"tag 1 float":      {"c1fb41da472f45000000", true},
		"untagged":         {"74323032352d31312d31385431383a33383a31325a", false},
		"tag 0 not a date": {"c06178", false},
		"tag 2":            {"c24100", false},
		"tag 1 huge":       {"c11bffffffffffffffff", false},
	} {
		b, _ := verify.DecodeHexText([]byte(tc.hex))
		got, err := tdate(b)
		if tc.ok != (err == nil) || (tc.ok && !got.Equal(want)) {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
}

// TestAAMVAAnchors: the 14 IACAs go into a trust store, each for the mDL
// only, with the VICAL as source and US as country.
func TestAAMVAAnchors(t *testing.T) {
	data := aamva(t)
	v, err := Verify(data, []*x509.Certificate{aamvaRoot(t, data)}, aamvaNow)
	if err != nil {
		t.Fatal(err)
	}
	store := verify.NewTrustStore()
	v.AddTo(store, "")
	if store.Len() != 14 {
		t.Fatalf("%d anchors", store.Len())
	}
	for _, c := range store.Certificates() {
		info, _ := store.Anchor(c)
		if info.Source != "VICAL AAMVA 2025-11-18 #227602" || info.Country != "US" || len(info.DocTypes) != 1 || info.DocTypes[0] != "org.iso.18013.5.1.mDL" {
			t.Errorf("%s: %+v", c.Subject, info)
		}
	}
}
