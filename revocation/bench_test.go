package revocation_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/revocation/revocationtest"
	"github.com/idreader/idreader/verify"
)

// The revocation budget: verifying a response with a 10,000-entry CRL of
// its IACA loaded must cost at most 5 % more than verifying it without a
// revocation checker. Compare
//
//	go test -run '^$' -bench 'Verify(NoRevocation|CRL10k)$' -benchmem -count 10 ./revocation/
//
// (the CRL is parsed, verified and indexed once, at install time, as the
// daemon does; a query is a map lookup).

func benchResponse(b *testing.B) (*fixture, []byte) {
	f := newFixture(b)
	return f, f.response(b, nil)
}

func BenchmarkVerifyNoRevocation(b *testing.B) {
	f, resp := benchResponse(b)
	opts := f.options(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCRL10k(b *testing.B) {
	f, resp := benchResponse(b)
	serials := make([]*big.Int, 10000)
	for i := range serials {
		serials[i] = new(big.Int).Lsh(big.NewInt(int64(i)+1), 64) // 9-byte serials, like real ones
	}
	der, err := revocationtest.CRL(seeded(30), f.pki.IACA, f.pki.IACAKey, serials, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	crl, err := revocation.LoadCRL(der, f.options(nil).Trust.Certificates())
	if err != nil {
		b.Fatal(err)
	}
	set := revocation.NewSet()
	set.AddCRL(crl, time.Time{})
	opts := f.options(revocation.Checker{Set: set, Mode: revocation.Hard})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadCRL10k is the install-time cost: parse, verify, index.
func BenchmarkLoadCRL10k(b *testing.B) {
	f := newFixture(b)
	serials := make([]*big.Int, 10000)
	for i := range serials {
		serials[i] = new(big.Int).Lsh(big.NewInt(int64(i)+1), 64)
	}
	der, err := revocationtest.CRL(seeded(30), f.pki.IACA, f.pki.IACAKey, serials, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	trust := f.options(nil).Trust.Certificates()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := revocation.LoadCRL(der, trust); err != nil {
			b.Fatal(err)
		}
	}
}
