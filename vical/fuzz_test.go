package vical

import (
	"crypto/x509"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts has a signer
// certificate, a provider and entries with a certificate and doc types.
// Verify with the AAMVA root as anchor never panics either. Seeded with the
// production AAMVA VICAL and prefixes of it.
func FuzzParse(f *testing.F) {
	data := aamva(f)
	root := aamvaRoot(f, data)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(data[:200])
	f.Add([]byte{0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x41, 0xa0, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Parse(b)
		if err == nil {
			if len(v.Chain) == 0 || v.Provider == "" {
				t.Fatalf("accepted without signer or provider: %+v", v)
			}
			for _, e := range v.Entries {
				if e.Certificate == nil || len(e.DocTypes) == 0 || e.SerialNumber == nil {
					t.Fatalf("entry accepted incomplete: %+v", e)
				}
				_ = e.KeyIdentifier()
			}
		}
		if v, err := Verify(b, []*x509.Certificate{root}, aamvaNow); err == nil && v == nil {
			t.Fatal("no VICAL and no error")
		}
	})
}
