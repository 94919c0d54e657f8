package identity

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func seeded(n byte) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = n
	return rand.NewChaCha8(seed)
}

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t *testing.T) *ca {
	t.Helper()
	key, err := NewKey(seeded(9))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reader CA", Country: []string{"JP"}},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(seeded(8), tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &ca{c, key}
}

// issue signs the request as a reader CA would, with tweak applied to the
// template.
func (c *ca) issue(t *testing.T, csrDER []byte, tweak func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: csr.Subject,
		NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(1, 0, 0), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature, UnknownExtKeyUsage: []asn1.ObjectIdentifier{OIDReaderAuth}}
	if tweak != nil {
		tweak(tmpl)
	}
	der, err := x509.CreateCertificate(seeded(7), tmpl, c.cert, csr.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func TestRequestAndCheck(t *testing.T) {
	key, err := NewKey(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := NewRequest(seeded(2), key, "Shop 12 counter", "JP")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil || csr.Subject.CommonName != "Shop 12 counter" || csr.Subject.Country[0] != "JP" || csr.CheckSignature() != nil {
		t.Fatalf("csr %+v %v", csr, err)
	}
	c := newCA(t)
	good := c.issue(t, csrDER, nil)
	if err := CheckCertificate(good, key.Public(), now); err != nil {
		t.Fatal(err)
	}
	other, _ := NewKey(seeded(3))
	for name, tc := range map[string]struct {
		cert *x509.Certificate
		key  any
		at   time.Time
		want error
		text string
	}{
		"no EKU":    {c.issue(t, csrDER, func(x *x509.Certificate) { x.UnknownExtKeyUsage = nil }), key.Public(), now, ErrProfile, "1.0.18013.5.1.6"},
		"other EKU": {c.issue(t, csrDER, func(x *x509.Certificate) { x.UnknownExtKeyUsage = []asn1.ObjectIdentifier{{1, 0, 18013, 5, 1, 2}} }), key.Public(), now, ErrProfile, "1.0.18013.5.1.6"},
		"no digSig": {c.issue(t, csrDER, func(x *x509.Certificate) { x.KeyUsage = x509.KeyUsageKeyAgreement }), key.Public(), now, ErrProfile, "digitalSignature"},
		"a CA":      {c.issue(t, csrDER, func(x *x509.Certificate) { x.IsCA = true; x.KeyUsage |= x509.KeyUsageCertSign }), key.Public(), now, ErrProfile, "CA"},
		"other key": {good, other.Public(), now, ErrKeyMismatch, "public key"},
		"expired":   {good, key.Public(), now.AddDate(2, 0, 0), ErrValidity, "expired"},
		"not yet":   {good, key.Public(), now.AddDate(0, -2, 0), ErrValidity, "not valid before"},
	} {
		err := CheckCertificate(tc.cert, tc.key, tc.at)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRequestRefusesBadNames(t *testing.T) {
	key, _ := NewKey(seeded(1))
	for _, tc := range []struct{ cn, c string }{{"", "JP"}, {"  ", ""}, {"x", "jp"}, {"x", "JPN"}, {"x", "J1"}} {
		if _, err := NewRequest(seeded(2), key, tc.cn, tc.c); err == nil {
			t.Errorf("cn %q country %q accepted", tc.cn, tc.c)
		}
	}
	if _, err := NewRequest(seeded(2), key, "x", ""); err != nil {
		t.Error(err)
	}
}
