package cose

import (
	"crypto/x509"
	"errors"
	"testing"
)

// FuzzParse runs both parsers, the x5chain reader and both verifications
// on arbitrary input: no panic, every error of one of the three kinds, and
// a verification that fails says why by its kind.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"issuer_auth", "device_mac", "reader_auth"} {
		f.Add(vec(f, n))
	}
	f.Add([]byte{0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0xf6, 0x40})
	f.Add([]byte{0x84, 0x40, 0xa1, 0x18, 0x21, 0x80, 0xf6, 0x40})
	ds, err := x509.ParseCertificate(vec(f, "ds_cert"))
	if err != nil {
		f.Fatal(err)
	}
	key := vec(f, "emac_key")
	kinds := []error{ErrMalformed, ErrUnsupported, ErrVerify}
	isKind := func(err error) bool {
		for _, k := range kinds {
			if errors.Is(err, k) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (*Message, error){ParseSign1, ParseMac0} {
			m, err := parse(data)
			if err != nil {
				if !isKind(err) {
					t.Fatalf("error of no kind: %v", err)
				}
				continue
			}
			if _, err := m.X5Chain(); err != nil && !isKind(err) {
				t.Fatalf("x5chain error of no kind: %v", err)
			}
			if _, err := m.Certificates(); err != nil && !isKind(err) {
				t.Fatalf("certificates error of no kind: %v", err)
			}
			if err := m.VerifySignature(ds.PublicKey, m.Payload); err != nil && !isKind(err) {
				t.Fatalf("signature error of no kind: %v", err)
			}
			if err := m.VerifyMAC(key, m.Payload); err != nil && !isKind(err) {
				t.Fatalf("MAC error of no kind: %v", err)
			}
		}
	})
}
