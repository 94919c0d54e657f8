package revocation_test

import (
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/revocation/revocationtest"
)

// FuzzParseCRL: any input either fails with an error or gives a CRL that
// VerifyCRL checks without panicking.
func FuzzParseCRL(f *testing.F) {
	fx := newFixture(f)
	der, err := revocationtest.CRL(seeded(20), fx.pki.IACA, fx.pki.IACAKey, []*big.Int{big.NewInt(1), fx.pki.DS.SerialNumber}, testNow, testNow.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add(revocationtest.PEM(der))
	f.Add([]byte("3003020100"))
	f.Add([]byte{})
	issuers := []*x509.Certificate{fx.pki.IACA}
	f.Fuzz(func(t *testing.T, data []byte) {
		rl, err := revocation.ParseCRL(data)
		if err != nil {
			return
		}
		if c, err := revocation.VerifyCRL(rl, issuers); err == nil {
			c.Revoked(fx.pki.DS.SerialNumber)
			c.FreshAt(testNow)
		}
	})
}

// FuzzParseToken: status list and identifier list tokens, malformed or not,
// never panic, and a parsed status list answers any index with a value or
// an error.
func FuzzParseToken(f *testing.F) {
	fx := newFixture(f)
	o := revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow, Expires: testNow.Add(time.Hour), TTL: time.Minute}
	for bits := 1; bits <= 8; bits *= 2 {
		tok, err := fx.signer.StatusListToken(seeded(21), o, bits, 100, map[int]byte{3: 1, 4: 2})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok, uint64(3))
	}
	il, err := fx.signer.IdentifierListToken(seeded(22), o, []byte{1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(il, uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, idx uint64) {
		tok, err := revocation.ParseToken(data)
		if err != nil {
			return
		}
		if l := tok.StatusList(); l != nil {
			if v, err := l.Status(idx); err == nil && v>>l.Bits != 0 {
				t.Fatalf("status %d wider than %d bits", v, l.Bits)
			}
		}
		tok.Lists([]byte{1})
		_ = tok.SignedBy(fx.pki.IACA, testNow)
	})
}

// FuzzParseReference: the MSO status member.
func FuzzParseReference(f *testing.F) {
	f.Add([]byte(revocationtest.StatusListReference(7, listURI)))
	f.Add([]byte(revocationtest.IdentifierListReference([]byte{1, 2}, listURI)))
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ref, err := revocation.ParseReference(data)
		if err == nil && ref.StatusList == nil && ref.IdentifierList == nil {
			t.Fatal("reference with nothing")
		}
	})
}
