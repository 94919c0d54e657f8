package revocation_test

import (
	"github.com/idreader/idreader/internal/cputime"
	"math/big"
	"runtime"
	"testing"
	"time"

	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/revocation/revocationtest"
	"github.com/idreader/idreader/verify"
)

// BenchmarkCRL10kOverheadCPU verifies the same response alternately
// without a revocation checker and with a 10,000-entry CRL of its IACA
// installed, in thread CPU time, and reports the ratio "crl/none" (the
// budget is 1.05): on a loaded machine the ratio still holds where wall
// times do not.
//
//	go test -run '^$' -bench CRL10kOverheadCPU -benchmem -count 5 ./revocation/
func BenchmarkCRL10kOverheadCPU(b *testing.B) {
	f, resp := benchResponse(b)
	set := crl10k(b, f)
	overheadCPU(b, f.options(nil), f.options(revocation.Checker{Set: set, Mode: revocation.Hard}), resp)
}

// BenchmarkStatusListOverheadCPU is the same with an MSO status reference
// answered by a 100,000-entry status list as well as the CRL: the
// document's verification with both against the same document (its MSO
// carries the reference) without a checker.
//
//	go test -run '^$' -bench StatusListOverheadCPU -benchmem -count 5 ./revocation/
func BenchmarkStatusListOverheadCPU(b *testing.B) {
	f := newFixture(b)
	resp := f.response(b, revocationtest.StatusListReference(4242, listURI))
	set := crl10k(b, f)
	tok, err := f.signer.StatusListToken(seeded(31), revocationtest.TokenOptions{URI: listURI, IssuedAt: testNow.Add(-time.Hour)}, 2, 100000, map[int]byte{7: 1})
	if err != nil {
		b.Fatal(err)
	}
	parsed, err := revocation.ParseToken(tok)
	if err != nil {
		b.Fatal(err)
	}
	set.AddToken(parsed, time.Time{})
	overheadCPU(b, f.options(nil), f.options(revocation.Checker{Set: set, Mode: revocation.Hard}), resp)
}

func crl10k(b *testing.B, f *fixture) *revocation.Set {
	serials := make([]*big.Int, 10000)
	for i := range serials {
		serials[i] = new(big.Int).Lsh(big.NewInt(int64(i)+1), 64)
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
	return set
}

// overheadCPU alternates verification with options none and with, and
// reports the ratio of their thread CPU times.
func overheadCPU(b *testing.B, none, with verify.Options, resp []byte) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tn, tc time.Duration
	for b.Loop() {
		t0 := cputime.Thread()
		if _, err := verify.Verify(resp, none); err != nil {
			b.Fatal(err)
		}
		t1 := cputime.Thread()
		if _, err := verify.Verify(resp, with); err != nil {
			b.Fatal(err)
		}
		t2 := cputime.Thread()
		tn += t1 - t0
		tc += t2 - t1
	}
	b.ReportMetric(float64(tc)/float64(tn), "crl/none")
	b.ReportMetric(float64(tn.Nanoseconds())/float64(b.N), "none-cpu-ns/op")
	b.ReportMetric(float64(tc.Nanoseconds())/float64(b.N), "crl-cpu-ns/op")
}
