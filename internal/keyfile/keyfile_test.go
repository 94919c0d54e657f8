package keyfile

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParseECDSA(t *testing.T) {
	k := newKey(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"pkcs8": pemOf("PRIVATE KEY", pkcs8),
		"sec1":  pemOf("EC PRIVATE KEY", sec1),
	} {
		got, err := ParseECDSA(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Equal(k) {
			t.Errorf("%s: parsed a different key", name)
		}
	}
}

func TestParseECDSARejects(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "no PEM block", nil},
		{"not pem", "no PEM block", []byte("not a key")},
		{"certificate", "is not a private key", pemOf("CERTIFICATE", []byte{0x30, 0})},
		{"bad pkcs8", "parsing PKCS#8", pemOf("PRIVATE KEY", []byte{0x30, 0})},
		{"bad sec1", "parsing EC key", pemOf("EC PRIVATE KEY", []byte{0x30, 0})},
		{"ed25519", "is not ECDSA", pemOf("PRIVATE KEY", ed)},
	} {
		_, err := ParseECDSA(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "keyfile: ") {
			t.Errorf("%s: error %v, want keyfile: …%s…", tc.name, err, tc.want)
		}
	}
}

func FuzzParseECDSA(f *testing.F) {
	k := newKey(f)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pemOf("PRIVATE KEY", der))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseECDSA(data)
		if (k == nil) == (err == nil) {
			t.Fatalf("key %v and error %v", k, err)
		}
	})
}
