// Package p256 verifies ECDSA signatures on NIST P-256 (FIPS 186-5 section
// 6.4.2), above all with a public key that is prepared once and then used
// for many verifications: a document signer's key signs the MSO of every
// mdoc that the DS issues, so a reader meets the same key again and again.
// Verify checks a signature with a key met once (a device key).
//
// Preparing a key computes a table of its multiples (a fixed-base comb of
// 43 windows of 6 bits, with signed digits), so that the variable-base half
// of a verification, u2·Q, becomes 43 point additions instead of 256
// doublings and the additions of a window method. A verification then
// costs less than half of crypto/ecdsa's (see BenchmarkVerify).
//
// Everything a verification handles is public (the key, the digest and the
// signature), so its running time may depend on them; nothing secret ever
// goes through this package. The point arithmetic is filippo.io/nistec, the
// module that Go's own crypto/internal/fips140/nistec is kept in step with.
package p256

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"math/big"

	"filippo.io/nistec"
)

// The scalar is written in signed digits of windowBits bits: digit i is in
// [-perWindow+1, perWindow] and weighs 2^(windowBits·i). A negative digit
// adds the negated table point, so each window needs only the multiples
// 1..perWindow: 43 windows of 32 points of 96 bytes, 129 KiB per key.
const (
	windowBits = 6
	perWindow  = 1 << (windowBits - 1)
	// windows covers 256 bits and the carry the signed digits may push
	// past them (the top window then holds at most 2^4, no further carry).
	windows = (256 + windowBits) / windowBits
)

// PreparedKey is a P-256 public key with its comb table. It is immutable
// and safe for concurrent use.
type PreparedKey struct {
	pub *ecdsa.PublicKey
	// table[i][j-1] = j · 2^(windowBits·i) · Q for j in 1..perWindow.
	table [windows][perWindow]nistec.P256Point
}

var order = elliptic.P256().Params().N

// Prepare builds the table of pub, which must be a valid P-256 key. It takes
// about as long as eight verifications with crypto/ecdsa.
func Prepare(pub *ecdsa.PublicKey) (*PreparedKey, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, errors.New("p256: not a P-256 public key")
	}
	raw, err := encodePoint(pub)
	if err != nil {
		return nil, err
	}
	base, err := nistec.NewP256Point().SetBytes(raw)
	if err != nil {
		return nil, errors.New("p256: invalid public key")
	}
	k := &PreparedKey{pub: pub}
	for i := range windows {
		row := &k.table[i]
		row[0].Set(base)
		for j := 1; j < perWindow; j++ {
			row[j].Add(&row[j-1], base)
		}
		for range windowBits {
			base.Double(base)
		}
	}
	return k, nil
}

// encodePoint is the uncompressed point of pub. crypto/ecdsa panics on a
// key without coordinates (a zero PublicKey); that is an error here.
func encodePoint(pub *ecdsa.PublicKey) (raw []byte, err error) {
	defer func() {
		if recover() != nil {
			raw, err = nil, errors.New("p256: invalid public key")
		}
	}()
	if raw, err = pub.Bytes(); err != nil {
		return nil, errors.New("p256: invalid public key")
	}
	return raw, nil
}

// PublicKey is the key the table was built from.
func (k *PreparedKey) PublicKey() *ecdsa.PublicKey { return k.pub }

// Verify reports whether (r, s), each a big-endian integer, is a valid
// ECDSA signature of digest by the key (FIPS 186-5 section 6.4.2). The
// digest is the hash of the message; one longer than 32 bytes is truncated
// to its leftmost 256 bits, as crypto/ecdsa does.
func (k *PreparedKey) Verify(digest, r, s []byte) bool {
	u, ok := scalars(digest, r, s)
	if !ok {
		return false
	}
	return u.check(k.mult(&u.u2))
}

// Verify is PreparedKey.Verify for a key used once, without a table: u2·Q
// is nistec's variable-base multiplication. It answers as crypto/ecdsa
// does, at about nine tenths of its cost, having no ASN.1 to encode and
// parse, no key conversion and no constant-time inversion of s (all
// public). A key that is not a valid P-256 point verifies nothing.
func Verify(pub *ecdsa.PublicKey, digest, r, s []byte) bool {
	if pub == nil || pub.Curve != elliptic.P256() {
		return false
	}
	raw, err := encodePoint(pub)
	if err != nil {
		return false
	}
	q, err := nistec.NewP256Point().SetBytes(raw)
	if err != nil {
		return false
	}
	u, ok := scalars(digest, r, s)
	if !ok {
		return false
	}
	if _, err := q.ScalarMult(q, u.u2[:]); err != nil {
		return false
	}
	return u.check(q)
}

// verification holds the scalars of FIPS 186-5 section 6.4.2 steps 1-5.
type verification struct {
	r      *big.Int
	u1, u2 [32]byte
}

// scalars checks 0 < r, s < n (step 1) and computes u1 = e·s⁻¹ and
// u2 = r·s⁻¹ mod n, e being the leftmost 256 bits of the digest (steps 2-5).
func scalars(digest, r, s []byte) (verification, bool) {
	ri := new(big.Int).SetBytes(r)
	si := new(big.Int).SetBytes(s)
	if ri.Sign() <= 0 || si.Sign() <= 0 || ri.Cmp(order) >= 0 || si.Cmp(order) >= 0 {
		return verification{}, false
	}
	if len(digest) > 32 {
		digest = digest[:32]
	}
	e := new(big.Int).SetBytes(digest)
	w := new(big.Int).ModInverse(si, order)
	if w == nil {
		return verification{}, false
	}
	v := verification{r: ri}
	e.Mul(e, w).Mod(e, order).FillBytes(v.u1[:])
	w.Mul(ri, w).Mod(w, order).FillBytes(v.u2[:])
	return v, true
}

// check finishes steps 6-8 with u2Q = u2·Q: R = u1·G + u2·Q must not be
// the point at infinity, and its x coordinate mod n must equal r.
func (v *verification) check(u2Q *nistec.P256Point) bool {
	p, err := nistec.NewP256Point().ScalarBaseMult(v.u1[:])
	if err != nil {
		return false
	}
	p.Add(p, u2Q)
	x, err := p.BytesX()
	if err != nil {
		return false
	}
	xi := new(big.Int).SetBytes(x)
	if xi.Cmp(order) >= 0 {
		xi.Sub(xi, order)
	}
	return xi.Cmp(v.r) == 0
}

// mult returns u·Q for the big-endian scalar u: the sum over the windows
// of the table entry that the window's signed digit selects, negated for a
// negative digit.
func (k *PreparedKey) mult(u *[32]byte) *nistec.P256Point {
	acc := nistec.NewP256Point()
	var neg nistec.P256Point
	carry := 0
	for i := range windows {
		d := window(u, i*windowBits) + carry
		carry = 0
		if d > perWindow {
			d -= 1 << windowBits
			carry = 1
		}
		switch {
		case d > 0:
			acc.Add(acc, &k.table[i][d-1])
		case d < 0:
			acc.Add(acc, neg.Negate(&k.table[i][-d-1]))
		}
	}
	return acc
}

// window returns the windowBits bits of the big-endian scalar u that start
// at bit pos (bit 0 is the least significant); bits past 255 are zero.
func window(u *[32]byte, pos int) int {
	at := func(i int) int {
		if i >= 32 {
			return 0
		}
		return int(u[31-i])
	}
	v := at(pos/8) | at(pos/8+1)<<8
	return v >> (pos % 8) & (1<<windowBits - 1)
}
