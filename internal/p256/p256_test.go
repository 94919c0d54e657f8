package p256

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"testing"

	"filippo.io/nistec"
)

// newKey returns a fresh P-256 key and its prepared public key.
func newKey(t testing.TB) (*ecdsa.PrivateKey, *PreparedKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Prepare(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return priv, k
}

func sign(t testing.TB, priv *ecdsa.PrivateKey, digest []byte) (r, s []byte) {
	t.Helper()
	ri, si, err := ecdsa.Sign(rand.Reader, priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	return ri.FillBytes(make([]byte, 32)), si.FillBytes(make([]byte, 32))
}

// agree fails t unless k.Verify, the plain Verify with k's key and
// crypto/ecdsa give the same answer, and returns it.
func agree(t testing.TB, k *PreparedKey, digest, r, s []byte) bool {
	t.Helper()
	want := ecdsa.Verify(k.PublicKey(), digest, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s))
	if got := k.Verify(digest, r, s); got != want {
		t.Fatalf("PreparedKey.Verify(%x, %x, %x) = %v, crypto/ecdsa says %v", digest, r, s, got, want)
	}
	if got := Verify(k.PublicKey(), digest, r, s); got != want {
		t.Fatalf("Verify(%x, %x, %x) = %v, crypto/ecdsa says %v", digest, r, s, got, want)
	}
	return want
}

func TestVerifyMatchesECDSA(t *testing.T) {
	for key := range 8 {
		priv, k := newKey(t)
		for msg := range 16 {
			d := sha256.Sum256([]byte{byte(key), byte(msg)})
			r, s := sign(t, priv, d[:])
			if !agree(t, k, d[:], r, s) {
				t.Fatal("a valid signature was refused")
			}
			// Any changed bit of digest, r or s is refused.
			for _, buf := range [][]byte{d[:], r, s} {
				bit := msg * 13 % (8 * len(buf))
				buf[bit/8] ^= 1 << (bit % 8)
				if agree(t, k, d[:], r, s) {
					t.Fatalf("accepted with bit %d changed", bit)
				}
				buf[bit/8] ^= 1 << (bit % 8)
			}
			// Another key's signature is refused.
			other, _ := newKey(t)
			r2, s2 := sign(t, other, d[:])
			if agree(t, k, d[:], r2, s2) {
				t.Fatal("accepted another key's signature")
			}
		}
	}
}

func TestVerifyEdges(t *testing.T) {
	priv, k := newKey(t)
	n := order.Bytes()
	nPlus := new(big.Int).Add(order, big.NewInt(1)).Bytes()
	nMinus := new(big.Int).Sub(order, big.NewInt(1)).Bytes()
	one := []byte{1}
	long := sha512.Sum384([]byte("a digest longer than the order"))
	zero := make([]byte, 32)
	d := sha256.Sum256([]byte("edges"))
	r, s := sign(t, priv, d[:])

	for _, tc := range []struct {
		name         string
		digest, r, s []byte
		want         bool
	}{
		{"valid", d[:], r, s, true},
		{"r zero", d[:], zero, s, false},
		{"s zero", d[:], r, zero, false},
		{"r empty", d[:], nil, s, false},
		{"r = n", d[:], n, s, false},
		{"s = n", d[:], r, n, false},
		{"r = n+1", d[:], nPlus, s, false},
		{"s = n-1", d[:], r, nMinus, false},
		{"r, s = 1", d[:], one, one, false},
		{"r + n", d[:], new(big.Int).Add(new(big.Int).SetBytes(r), order).Bytes(), s, false},
		{"s + n", d[:], r, new(big.Int).Add(new(big.Int).SetBytes(s), order).Bytes(), false},
		{"s negated", d[:], r, new(big.Int).Sub(order, new(big.Int).SetBytes(s)).Bytes(), true},
		{"r with leading zeros", d[:], append(make([]byte, 8), r...), s, true},
		{"empty digest", nil, r, s, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := agree(t, k, tc.digest, tc.r, tc.s); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
		})
	}

	// Digests the signer truncated or that reduce to zero verify as crypto/ecdsa has them.
	for name, digest := range map[string][]byte{"SHA-384 digest": long[:], "zero digest": zero, "short digest": []byte{7}} {
		r, s := sign(t, priv, digest)
		if !agree(t, k, digest, r, s) {
			t.Errorf("%s: a valid signature was refused", name)
		}
	}
}

func TestPrepareRefuses(t *testing.T) {
	if _, err := Prepare(nil); err == nil {
		t.Error("Prepare(nil) succeeded")
	}
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(&other.PublicKey); err == nil {
		t.Error("Prepare of a P-384 key succeeded")
	}
	if _, err := Prepare(&ecdsa.PublicKey{Curve: elliptic.P256()}); err == nil {
		t.Error("Prepare of a key without a point succeeded")
	}
}

// The plain Verify refuses, without panicking, keys that are not P-256
// points: nil, another curve, no coordinates. (A key off the curve can be
// built only through the deprecated X and Y fields; Verify decodes every
// key with nistec's SetBytes, which refuses such a point.)
func TestVerifyRefusesKeys(t *testing.T) {
	priv, _ := newKey(t)
	d := sha256.Sum256([]byte("keys"))
	r, s := sign(t, priv, d[:])
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range map[string]*ecdsa.PublicKey{
		"nil": nil, "P-384": &other.PublicKey, "no point": {Curve: elliptic.P256()},
	} {
		if Verify(pub, d[:], r, s) {
			t.Errorf("%s: verified", name)
		}
	}
	if !Verify(&priv.PublicKey, d[:], r, s) {
		t.Error("the signer's key refused")
	}
}

// FuzzVerify holds Verify to crypto/ecdsa for any digest and signature
// under one key.
func FuzzVerify(f *testing.F) {
	priv, k := newKey(f)
	d := sha256.Sum256([]byte("fuzz"))
	r, s := sign(f, priv, d[:])
	f.Add(d[:], r, s)
	f.Add(d[:], order.Bytes(), s)
	f.Add([]byte{}, []byte{1}, []byte{1})
	f.Fuzz(func(t *testing.T, digest, r, s []byte) {
		if len(r) > 64 || len(s) > 64 {
			return
		}
		agree(t, k, digest, r, s)
	})
}

// FuzzVerifySigned holds Verify to crypto/ecdsa on real signatures: msg is
// signed under one key, then, when flip is below 768, one bit of r, s or
// the digest is flipped. Unflipped signatures must verify.
func FuzzVerifySigned(f *testing.F) {
	priv, k := newKey(f)
	f.Add([]byte("fuzz"), uint16(1000))
	f.Add([]byte("fuzz"), uint16(0))
	f.Add([]byte{}, uint16(300))
	f.Add([]byte{0xff}, uint16(767))
	f.Fuzz(func(t *testing.T, msg []byte, flip uint16) {
		d := sha256.Sum256(msg)
		r, s := sign(t, priv, d[:])
		if flip < 768 {
			buf := [][]byte{r, s, d[:]}[flip/256]
			buf[flip%256/8] ^= 1 << (flip % 8)
		}
		if ok := agree(t, k, d[:], r, s); flip >= 768 && !ok {
			t.Fatal("a valid signature was refused")
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	priv, k := newKey(b)
	d := sha256.Sum256([]byte("bench"))
	r, s := sign(b, priv, d[:])
	ri, si := new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)
	b.Run("prepared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.Verify(d[:], r, s) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !Verify(&priv.PublicKey, d[:], r, s) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("crypto-ecdsa", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.Verify(&priv.PublicKey, d[:], ri, si) {
				b.Fatal("refused")
			}
		}
	})
}

func BenchmarkPrepare(b *testing.B) {
	priv, _ := newKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Prepare(&priv.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

// The comb's signed digits give u·Q for every scalar, including those whose
// every window holds the same value at the carrying edge (31, 32, 33, 63),
// all ones, zero, one and n-1.
func TestMultMatchesScalarMult(t *testing.T) {
	_, k := newKey(t)
	raw, err := k.PublicKey().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	q, err := nistec.NewP256Point().SetBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	var scalars [][32]byte
	for _, fill := range []byte{0x00, 0xff} {
		var u [32]byte
		for i := range u {
			u[i] = fill
		}
		scalars = append(scalars, u)
	}
	for _, digit := range []int64{31, 32, 33, 63, 1} {
		v := new(big.Int)
		for pos := 0; pos < 256; pos += windowBits {
			v.Or(v, new(big.Int).Lsh(big.NewInt(digit), uint(pos)))
		}
		var u [32]byte
		v.SetBit(v, 256, 0).SetBit(v, 257, 0).FillBytes(u[:])
		scalars = append(scalars, u)
	}
	var one, nMinus1 [32]byte
	one[31] = 1
	new(big.Int).Sub(order, big.NewInt(1)).FillBytes(nMinus1[:])
	scalars = append(scalars, one, nMinus1)
	for range 200 {
		var u [32]byte
		if _, err := rand.Read(u[:]); err != nil {
			t.Fatal(err)
		}
		scalars = append(scalars, u)
	}
	for _, u := range scalars {
		got := k.mult(&u).Bytes()
		want, err := nistec.NewP256Point().ScalarMult(q, u[:])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("mult(%x) differs from ScalarMult", u)
		}
	}
}
