package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/mdoc"
)

// TestBadIACAIsCertificateProfile: every Annex B IACA profile violation of a
// trusted IACA gets the same code, certificate_profile, and the detail names
// the rule. (Before, those that crypto/x509 checks as a parent's constraints
// came out as issuer_untrusted.)
func TestBadIACAIsCertificateProfile(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		edit func(*x509.Certificate)
		rule string
	}{
		{"no keyCertSign", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign }, "keyUsage lacks keyCertSign"},
		{"cA false", func(c *x509.Certificate) { c.IsCA = false }, "cA is FALSE"},
		{"no basicConstraints", func(c *x509.Certificate) { c.BasicConstraintsValid, c.IsCA = false, false }, "no basicConstraints"},
		{"no keyUsage", func(c *x509.Certificate) { c.KeyUsage = 0 }, "no keyUsage"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iacaKey, err := ecdsa.GenerateKey(elliptic.P256(), seeded(uint64(20+i)))
			if err != nil {
				t.Fatal(err)
			}
			name := pkix.Name{Country: []string{"US"}, CommonName: "bad IACA " + tc.name}
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(100 + i)), Subject: name,
				NotBefore: testNow.AddDate(-1, 0, 0), NotAfter: testNow.AddDate(5, 0, 0),
				KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
				BasicConstraintsValid: true, IsCA: true,
			}
			tc.edit(tmpl)
			der, err := x509.CreateCertificate(seeded(uint64(30+i)), tmpl, tmpl, &iacaKey.PublicKey, iacaKey)
			if err != nil {
				t.Fatal(err)
			}
			iaca, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			dsKey, err := ecdsa.GenerateKey(elliptic.P256(), seeded(uint64(40+i)))
			if err != nil {
				t.Fatal(err)
			}
			dsTmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(200 + i)), Subject: pkix.Name{Country: []string{"US"}, CommonName: "DS"},
				NotBefore: testNow.AddDate(0, -1, 0), NotAfter: testNow.AddDate(1, 0, 0),
				KeyUsage: x509.KeyUsageDigitalSignature, UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidMdlDS},
			}
			dsDER, err := x509.CreateCertificate(seeded(uint64(50+i)), dsTmpl, iaca, &dsKey.PublicKey, iacaKey)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := x509.ParseCertificate(dsDER)
			if err != nil {
				t.Fatal(err)
			}
			els, err := credential.MDL(credential.SampleOptions{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			devKey, _ := ecdsa.GenerateKey(elliptic.P256(), seeded(3))
			c, err := credential.Issue(credential.IssueOptions{Rand: seeded(4), DocType: mdoc.DocTypeMDL, Elements: els,
				DeviceKey: devKey, DSCert: ds, DSKey: dsKey, Signed: testNow.Add(-time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			opts := f.options()
			opts.Trust = NewTrustStore(iaca)
			res, err := Verify(f.present(t, c, credential.PresentOptions{}), opts)
			wantCode(t, res, err, CodeCertificateProfile)
			if CodeOf(err) != CodeCertificateProfile {
				t.Errorf("first code %s, want certificate_profile (%v)", CodeOf(err), err)
			}
			for _, fl := range res.Failures {
				if fl.Code == CodeIssuerUntrusted {
					t.Errorf("also issuer_untrusted: %s", fl.Detail)
				}
			}
			if ch := check(res, CheckCertificateProfile); !strings.Contains(ch.Detail, tc.rule) {
				t.Errorf("detail %q does not name the rule %q", ch.Detail, tc.rule)
			}
		})
	}
}
