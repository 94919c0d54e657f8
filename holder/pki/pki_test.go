package pki

import (
	"bytes"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newPKI(t testing.TB, o Options) *PKI {
	t.Helper()
	if o.Now.IsZero() {
		o.Now = testNow
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ext(c *x509.Certificate, id asn1.ObjectIdentifier) (crit bool, val []byte, ok bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(id) {
			return e.Critical, e.Value, true
		}
	}
	return false, nil, false
}

var (
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSKI              = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAKI              = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLDP            = asn1.ObjectIdentifier{2, 5, 29, 31}
)

// TestIACAProfile checks the IACA root against ISO/IEC 18013-5 Annex B.1.2.
func TestIACAProfile(t *testing.T) {
	p := newPKI(t, Options{Country: "JP", StateOrProvince: "Tokyo"})
	c := p.IACA
	if !c.IsCA || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("IACA basicConstraints: CA=%v pathLen=%d zero=%v", c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if crit, _, ok := ext(c, oidBasicConstraints); !ok || !crit {
		t.Error("IACA basicConstraints not critical")
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("IACA keyUsage = %b", c.KeyUsage)
	}
	if crit, _, ok := ext(c, oidKeyUsage); !ok || !crit {
		t.Error("IACA keyUsage not critical")
	}
	if _, _, ok := ext(c, oidSKI); !ok || len(c.SubjectKeyId) != 20 {
		t.Error("IACA has no 20-byte SKI")
	}
	if _, v, ok := ext(c, oidExtIssuerAltName); !ok || !bytes.Contains(v, []byte("https://")) {
		t.Error("IACA has no issuerAltName URI")
	}
	if len(c.CRLDistributionPoints) != 1 {
		t.Errorf("IACA CRL DPs = %v", c.CRLDistributionPoints)
	}
	if got := c.Subject.Country; len(got) != 1 || got[0] != "JP" {
		t.Errorf("IACA country = %v", got)
	}
	if got := c.Subject.Province; len(got) != 1 || got[0] != "Tokyo" {
		t.Errorf("IACA state = %v", got)
	}
	if !c.NotBefore.Equal(testNow.AddDate(-1, 0, 0)) || !c.NotAfter.Equal(testNow.AddDate(10, 0, 0)) {
		t.Errorf("IACA validity %v .. %v", c.NotBefore, c.NotAfter)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("IACA not self-signed: %v", err)
	}
}

func checkLeaf(t *testing.T, what string, c, issuer *x509.Certificate, eku asn1.ObjectIdentifier) {
	t.Helper()
	if c.IsCA {
		t.Errorf("%s is a CA", what)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("%s keyUsage = %b", what, c.KeyUsage)
	}
	if crit, _, ok := ext(c, oidKeyUsage); !ok || !crit {
		t.Errorf("%s keyUsage not critical", what)
	}
	crit, v, ok := ext(c, oidExtExtKeyUsage)
	if !ok || !crit {
		t.Fatalf("%s EKU missing or not critical", what)
	}
	var oids []asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(v, &oids); err != nil || len(rest) > 0 {
		t.Fatalf("%s EKU: %v", what, err)
	}
	if len(oids) != 1 || !oids[0].Equal(eku) {
		t.Errorf("%s EKU = %v, want only %v", what, oids, eku)
	}
	if len(c.UnknownExtKeyUsage) != 1 || !c.UnknownExtKeyUsage[0].Equal(eku) {
		t.Errorf("%s parsed EKU = %v", what, c.UnknownExtKeyUsage)
	}
	if _, _, ok := ext(c, oidAKI); !ok || !bytes.Equal(c.AuthorityKeyId, issuer.SubjectKeyId) {
		t.Errorf("%s AKI %x != issuer SKI %x", what, c.AuthorityKeyId, issuer.SubjectKeyId)
	}
	if _, _, ok := ext(c, oidSKI); !ok || len(c.SubjectKeyId) == 0 || bytes.Equal(c.SubjectKeyId, issuer.SubjectKeyId) {
		t.Errorf("%s SKI wrong: %x", what, c.SubjectKeyId)
	}
	if _, _, ok := ext(c, oidCRLDP); !ok || len(c.CRLDistributionPoints) != 1 {
		t.Errorf("%s CRL DP = %v", what, c.CRLDistributionPoints)
	}
	if _, _, ok := ext(c, oidExtIssuerAltName); !ok {
		t.Errorf("%s has no issuerAltName", what)
	}
	roots := x509.NewCertPool()
	roots.AddCert(issuer)
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("%s does not chain: %v", what, err)
	}
}

// TestDSProfile checks the Document Signer against Annex B.1.4.
func TestDSProfile(t *testing.T) {
	p := newPKI(t, Options{Country: "JP", StateOrProvince: "Tokyo"})
	checkLeaf(t, "DS", p.DS, p.IACA, OIDExtKeyUsageDocumentSigner)
	if got := p.DS.Subject.Country; len(got) != 1 || got[0] != "JP" {
		t.Errorf("DS country = %v, want IACA's", got)
	}
	if got := p.DS.Subject.Province; len(got) != 1 || got[0] != "Tokyo" {
		t.Errorf("DS state = %v, want IACA's", got)
	}
	if !p.DS.NotBefore.Equal(testNow.AddDate(0, 0, -1)) || !p.DS.NotAfter.Equal(testNow.AddDate(1, 0, 0)) {
		t.Errorf("DS validity %v .. %v", p.DS.NotBefore, p.DS.NotAfter)
	}
	if !bytes.Equal(issuerAltNameOf(p.DS), issuerAltNameOf(p.IACA)) {
		t.Error("DS issuerAltName differs from the IACA's")
	}
}

// TestReaderProfile checks the reader certificate (EKU 1.0.18013.5.1.6).
func TestReaderProfile(t *testing.T) {
	p := newPKI(t, Options{})
	checkLeaf(t, "reader", p.Reader, p.ReaderRoot, OIDExtKeyUsageReaderAuth)
	if !p.ReaderRoot.IsCA || p.ReaderRoot.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Error("reader root is not a CA")
	}
	// The two hierarchies are separate: the reader does not chain to the IACA.
	roots := x509.NewCertPool()
	roots.AddCert(p.IACA)
	if _, err := p.Reader.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Error("reader chains to the IACA")
	}
}

func TestCurves(t *testing.T) {
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		p := newPKI(t, Options{Curve: c})
		if p.DSKey.Curve != c || p.IACAKey.Curve != c {
			t.Errorf("%s: key curve mismatch", c.Params().Name)
		}
		checkLeaf(t, "DS "+c.Params().Name, p.DS, p.IACA, OIDExtKeyUsageDocumentSigner)
	}
	if _, err := New(Options{Curve: elliptic.P224()}); err == nil {
		t.Error("P-224 accepted")
	}
	if _, err := New(Options{Country: "USA"}); err == nil {
		t.Error("alpha-3 country accepted")
	}
}

func TestFaultyDocumentSigners(t *testing.T) {
	p := newPKI(t, Options{Country: "US", StateOrProvince: "Utopia"})
	c, k, err := NewDocumentSigner(p, DSOptions{OmitEKU: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ext(c, oidExtExtKeyUsage); ok || !k.PublicKey.Equal(c.PublicKey) {
		t.Error("OmitEKU: EKU still present or key mismatch")
	}
	c, _, _ = NewDocumentSigner(p, DSOptions{Country: "CA", StateOrProvince: "-"})
	if c.Subject.Country[0] != "CA" || len(c.Subject.Province) != 0 {
		t.Errorf("Country/state override: %v", c.Subject)
	}
	nb, na := testNow.AddDate(-2, 0, 0), testNow.AddDate(-1, 0, 0)
	c, _, _ = NewDocumentSigner(p, DSOptions{NotBefore: nb, NotAfter: na})
	if !c.NotBefore.Equal(nb) || !c.NotAfter.Equal(na) {
		t.Errorf("validity override: %v..%v", c.NotBefore, c.NotAfter)
	}
	c, _, _ = NewDocumentSigner(p, DSOptions{CA: true})
	if !c.IsCA {
		t.Error("CA: not a CA")
	}
	if _, _, err := NewDocumentSigner(&PKI{}, DSOptions{}); err == nil {
		t.Error("no IACA accepted")
	}
}

func TestSaveLoad(t *testing.T) {
	p := newPKI(t, Options{})
	dir := filepath.Join(t.TempDir(), "pki")
	if err := p.Save(dir); err != nil {
		t.Fatal(err)
	}
	q, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, pp := range p.pairs() {
		qq := q.pairs()[i]
		if !(*pp.cert).Equal(*qq.cert) || !(*pp.key).Equal(*qq.key) {
			t.Errorf("%s differs after Load", pp.certFile)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileDSKey))
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "PRIVATE KEY" {
		t.Error("key is not PKCS#8 PEM")
	}
	if fi, _ := os.Stat(filepath.Join(dir, FileIACAKey)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
	// A key that does not match its certificate is refused.
	other := newPKI(t, Options{})
	kp, _ := EncodeKeyPEM(other.DSKey)
	os.WriteFile(filepath.Join(dir, FileDSKey), kp, 0o600)
	if _, err := Load(dir); err == nil {
		t.Error("mismatched key accepted")
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("empty dir accepted")
	}
}

func FuzzParseKeyPEM(f *testing.F) {
	p := newPKI(f, Options{})
	k, _ := EncodeKeyPEM(p.DSKey)
	f.Add(k)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseKeyPEM(data)
	})
}

func FuzzParseCertificatePEM(f *testing.F) {
	p := newPKI(f, Options{})
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.DS.Raw}))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseCertificatePEM(data)
	})
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Options{Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}
