package session

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"testing"
)

// TestHostileEDeviceKey: an EDeviceKey that is not a usable point of its
// curve never yields session keys. X25519 small-order points would make the
// shared secret all zeros (RFC 7748 section 6.1); P-256 points off the curve
// would leak the reader's key (invalid-curve attack).
func TestHostileEDeviceKey(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string]map[int]any{
		"X25519 zero":     {1: 1, -1: 4, -2: make([]byte, 32)},
		"X25519 one":      {1: 1, -1: 4, -2: append([]byte{1}, make([]byte, 31)...)},
		"X25519 order 8":  {1: 1, -1: 4, -2: h("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")},
		"X25519 p-1":      {1: 1, -1: 4, -2: h("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")},
		"P-256 origin":    {1: 2, -1: 1, -2: make([]byte, 32), -3: make([]byte, 32)},
		"P-256 off curve": {1: 2, -1: 1, -2: bytes.Repeat([]byte{1}, 32), -3: bytes.Repeat([]byte{2}, 32)},
	}
	for name, key := range cases {
		de := foreignDE(t, key)
		if r, err := NewReader(rand.Reader, de, QRHandover()); err == nil {
			t.Errorf("%s: session keys derived (%x)", name, r.skReader)
		}
	}
}
