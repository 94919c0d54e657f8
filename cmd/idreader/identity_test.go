package main

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/identity"
	"github.com/idreader/idreader/internal/keyfile"
)

// readerCA signs reader certificates from requests, as an enrolment CA
// would.
type readerCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newReaderCA(t *testing.T) *readerCA {
	t.Helper()
	key, err := identity.NewKey(seeded(5))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reader CA", Country: []string{"JP"}},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(seeded(6), tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &readerCA{c, key}
}

// sign issues a reader certificate for the request in csrPath, with tweak
// applied, and writes it (and the CA) as PEM to a new file.
func (ca *readerCA) sign(t *testing.T, csrPath string, tweak func(*x509.Certificate)) string {
	t.Helper()
	b, err := os.ReadFile(csrPath)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("%s is not a PEM request", csrPath)
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		t.Fatalf("request: %v", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: csr.Subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature, UnknownExtKeyUsage: []asn1.ObjectIdentifier{identity.OIDReaderAuth}}
	if tweak != nil {
		tweak(tmpl)
	}
	der, err := x509.CreateCertificate(seeded(7), tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "issued.pem")
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	if err := os.WriteFile(out, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIdentityRequestInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "id")
	code, out, errOut := runCmd(t, "identity", "request", "--out", dir, "--cn", "Counter 1", "--country", "JP")
	if code != exitOK {
		t.Fatalf("request: exit %d %s %s", code, out, errOut)
	}
	fi, err := os.Stat(filepath.Join(dir, "reader_key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	kb, _ := os.ReadFile(filepath.Join(dir, "reader_key.pem"))
	key, err := keyfile.ParseECDSA(kb)
	if err != nil || key.Curve.Params().Name != "P-256" {
		t.Fatalf("key: %v", err)
	}
	// A second request never replaces the key; --reuse-key renews with it.
	if code, _, errOut := runCmd(t, "identity", "request", "--out", dir, "--cn", "Counter 1"); code != exitReject || !strings.Contains(errOut, "exists") {
		t.Errorf("second request: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "identity", "request", "--out", dir, "--cn", "Counter 1", "--reuse-key"); code != exitOK {
		t.Errorf("--reuse-key: exit %d %s", code, errOut)
	}
	kb2, _ := os.ReadFile(filepath.Join(dir, "reader_key.pem"))
	if string(kb) != string(kb2) {
		t.Error("the key changed")
	}

	ca := newReaderCA(t)
	csr := filepath.Join(dir, "reader.csr")
	// Refused: without the reader authentication EKU, a CA certificate,
	// another key; nothing is written.
	other := filepath.Join(t.TempDir(), "other")
	runCmd(t, "identity", "request", "--out", other, "--cn", "Other")
	for name, tc := range map[string]struct {
		cert, want string
	}{
		"no EKU":    {ca.sign(t, csr, func(c *x509.Certificate) { c.UnknownExtKeyUsage = nil }), "1.0.18013.5.1.6"},
		"CA":        {ca.sign(t, csr, func(c *x509.Certificate) { c.IsCA = true; c.KeyUsage |= x509.KeyUsageCertSign }), "CA certificate"},
		"no digSig": {ca.sign(t, csr, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyAgreement }), "digitalSignature"},
		"other key": {ca.sign(t, filepath.Join(other, "reader.csr"), nil), "public key differs"},
		"expired":   {ca.sign(t, csr, func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-time.Minute) }), "expired"},
	} {
		code, _, errOut := runCmd(t, "identity", "install", "--dir", dir, tc.cert)
		if code != exitReject || !strings.Contains(errOut, "refusing") || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d %s", name, code, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "reader.pem")); err == nil {
			t.Fatalf("%s: reader.pem written", name)
		}
	}
	code, out, errOut = runCmd(t, "identity", "install", "--dir", dir, ca.sign(t, csr, nil))
	if code != exitOK || !strings.Contains(out, "Counter 1") {
		t.Fatalf("install: exit %d %s %s", code, out, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "reader.pem"))
	if strings.Count(string(b), "BEGIN CERTIFICATE") != 2 {
		t.Errorf("reader.pem:\n%s", b)
	}
	// Usage and unreadable input.
	for _, args := range [][]string{
		{"identity"}, {"identity", "bogus"}, {"identity", "request", "--cn", "x"}, {"identity", "request", "--out", dir},
		{"identity", "request", "--out", t.TempDir(), "--cn", "x", "--country", "Japan"},
		{"identity", "install", "--dir", dir}, {"identity", "install", "--dir", t.TempDir(), ca.sign(t, csr, nil)},
		{"identity", "install", "--dir", dir, filepath.Join(dir, "missing.pem")},
	} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}
