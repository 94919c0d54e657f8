package main

import (
	"context"
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
)

// writeReaderCert issues a reader authentication certificate for key
// (serial n, without the reader-auth EKU when noEKU) under a throwaway CA
// and replaces path with it atomically, as `idreader identity install`
// does.
func writeReaderCert(t *testing.T, path string, key *ecdsa.PrivateKey, n int64, noEKU bool) {
	t.Helper()
	caKey, err := identity.NewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reader CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: "counter"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature}
	if !noEKU {
		tmpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{identity.OIDReaderAuth}
	}
	der, err := x509.CreateCertificate(nil, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestReaderIdentityRenewedOnSIGHUP: a renewed reader certificate installed
// over the configured file is in force after SIGHUP without a restart; a
// renewal that breaks the reader-auth profile is refused and the previous
// certificate stays.
func TestReaderIdentityRenewedOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	key, err := identity.NewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(filepath.Join(dir, "reader_key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, "reader.pem")
	writeReaderCert(t, certPath, key, 100, false)
	cfgPath := filepath.Join(dir, "idreaderd.yaml")
	cfg := strings.Replace(simConfig, "PROFILE", "age-21", 1) + "identities:\n  counter: {cert: reader.pem, key: reader_key.pem}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	o, err := parseFlags([]string{"--config", cfgPath}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(o, &syncBuffer{}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, hup) }()
	defer func() {
		cancel()
		<-done
	}()
	serial := func() int64 {
		id := a.d.Settings().Identities["counter"]
		if id == nil {
			return 0
		}
		return id.Chain[0].SerialNumber.Int64()
	}
	if serial() != 100 {
		t.Fatalf("serial %d at start", serial())
	}
	writeReaderCert(t, certPath, key, 101, false)
	hup <- os.Interrupt
	waitFor(t, "the renewed certificate", func() bool { return serial() == 101 })

	writeReaderCert(t, certPath, key, 102, true)
	hup <- os.Interrupt
	waitFor(t, "the refused reload", func() bool { return strings.Contains(stderr.String(), "1.0.18013.5.1.6") })
	if serial() != 101 {
		t.Errorf("serial %d after a refused renewal", serial())
	}
}
