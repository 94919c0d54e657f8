package verify

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/internal/cputime"
	"github.com/idreader/idreader/internal/p256"
	"github.com/idreader/idreader/mdoc"
)

// The chain cache remembers a verified DS → IACA signature; everything else
// is still checked at each verification.
func TestChainCacheKeepsTheOtherChecks(t *testing.T) {
	opts := annexDOptions(t)
	resp := vec(t, "device_response")
	res, err := Verify(resp, opts)
	if err != nil || !res.Accepted() {
		t.Fatalf("cold: %v", err)
	}
	if n := opts.Trust.cache.len(); n != 1 {
		t.Fatalf("%d cached pairs after one verification", n)
	}
	// Warm cache, other time: the validity periods are evaluated again.
	late := opts
	late.Now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	res, _ = Verify(resp, late)
	if res.Accepted() || !hasCode(res, CodeCertificateValidity) {
		t.Errorf("warm cache at 2030: %+v", res.Failures)
	}
	// Warm cache, revoked: the revocation checker is still asked.
	rev := opts
	rev.Revocation = RevocationFunc(func(RevocationQuery) RevocationResult {
		return RevocationResult{Status: RevocationRevoked, Detail: "on the list"}
	})
	res, _ = Verify(resp, rev)
	if res.Accepted() || !hasCode(res, CodeRevoked) {
		t.Errorf("warm cache, revoked: %+v", res.Failures)
	}
	// Warm cache, an anchor restricted to another doc type: the
	// restriction is evaluated again (and adding anchors clears the cache).
	restricted := NewTrustStore()
	restricted.AddAnchors(AnchorInfo{DocTypes: []string{mdoc.DocTypeMyNumberCard}}, opts.Trust.Certificates()...)
	r2 := opts
	r2.Trust = restricted
	res, _ = Verify(resp, r2)
	if res.Accepted() || !hasCode(res, CodeIssuerUntrusted) {
		t.Errorf("restricted anchor: %+v", res.Failures)
	}
	// A trust change clears the cache.
	opts.Trust.Add(restricted.Certificates()...)
	if n := opts.Trust.cache.len(); n != 0 {
		t.Errorf("%d cached pairs after Add", n)
	}
}

func hasCode(res *Result, c Code) bool {
	for _, f := range res.Failures {
		if f.Code == c {
			return true
		}
	}
	for _, d := range res.Documents {
		for _, ch := range d.Checks {
			if !ch.OK && CodeOf(ch.Err) == c {
				return true
			}
		}
	}
	return false
}

// A DS certificate whose signature does not verify is never remembered,
// and an untrusted wallet cannot fill the cache.
func TestChainCacheOnlySuccesses(t *testing.T) {
	f := newFixture(t)
	other, err := pki.New(pki.Options{Rand: seeded(9), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	// The same subject as the store's IACA, another key: the issuer
	// matches, the signature does not.
	forged := f.issue(t, issueTweak{ds: other.DS, dsKey: other.DSKey})
	opts := f.options()
	opts.Trust = NewTrustStore(f.pki.IACA)
	res, _ := Verify(f.present(t, forged, credential.PresentOptions{}), opts)
	if res.Accepted() {
		t.Fatal("forged DS accepted")
	}
	if n := opts.Trust.cache.len(); n != 0 {
		t.Errorf("%d cached pairs after a failed chain", n)
	}
}

func TestChainCacheBoundAndOff(t *testing.T) {
	var c chainCache
	c.size, c.set = 2, true
	mk := func(i int) *x509.Certificate { return &x509.Certificate{Raw: []byte(fmt.Sprint("cert", i))} }
	iaca := mk(0)
	for i := 1; i <= 3; i++ {
		c.add(mk(i), iaca)
	}
	if c.len() != 2 || c.verified(mk(1), iaca) || !c.verified(mk(2), iaca) || !c.verified(mk(3), iaca) {
		t.Errorf("LRU: len %d", c.len())
	}
	// Using 2 makes 3 the least recently used one.
	c.verified(mk(2), iaca)
	c.add(mk(4), iaca)
	if c.verified(mk(3), iaca) || !c.verified(mk(2), iaca) {
		t.Error("the least recently used pair was not the one dropped")
	}
	if c.verified(mk(2), mk(9)) {
		t.Error("a pair with another IACA counts as verified")
	}
	if _, ok := c.certificate(mk(2).Raw); !ok {
		t.Error("certificate lookup")
	}
	if _, ok := c.certificate(mk(3).Raw); ok {
		t.Error("certificate lookup of a dropped certificate")
	}
	named := &x509.Certificate{Raw: []byte("named"), Subject: pkix.Name{CommonName: "DS 1", Country: []string{"US"}}}
	c.add(named, iaca)
	if d, _ := c.certificate(named.Raw); d.subject != named.Subject.String() {
		t.Errorf("cached subject %q", d.subject)
	}
	s := NewTrustStore()
	s.SetChainCacheSize(0)
	s.cache.add(mk(1), iaca)
	if s.cache.verified(mk(1), iaca) || s.cache.len() != 0 {
		t.Error("a disabled cache remembers")
	}
}

// Verifications on many goroutines share one store (go test -race).
func TestChainCacheConcurrent(t *testing.T) {
	opts := annexDOptions(t)
	opts.Trust.SetChainCacheSize(1)
	resp := vec(t, "device_response")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				res, err := Verify(resp, opts)
				if err != nil || !res.Accepted() {
					errs <- fmt.Errorf("verify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkVerifyAnnexDColdCache is BenchmarkVerifyAnnexD with the chain
// cache off: every verification checks the DS certificate's signature.
func BenchmarkVerifyAnnexDColdCache(b *testing.B) {
	resp := vec(b, "device_response")
	opts := annexDOptions(b)
	opts.Trust.SetChainCacheSize(0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAnnexDCPU reports the thread CPU time of one verification
// of the Annex D response with a warm and with a cold chain cache, beside
// the floor (its cryptography: warm, without the DS certificate signature
// and with the DS key prepared as the warm cache has it; cold, with the
// signature and the plain key): figures a busy machine does not distort.
// The "nocopy" cases verify with VerifyNoCopy, as the terminal does with
// the plaintext it has decrypted; the others with Verify, which copies.
func BenchmarkVerifyAnnexDCPU(b *testing.B) {
	for _, tc := range []struct {
		name   string
		warm   bool
		verify func([]byte, Options) (*Result, error)
	}{{"warm", true, Verify}, {"cold", false, Verify}, {"warm/nocopy", true, VerifyNoCopy}, {"cold/nocopy", false, VerifyNoCopy}} {
		warm := tc.warm
		b.Run(tc.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			resp := vec(b, "device_response")
			opts := annexDOptions(b)
			if !warm {
				opts.Trust.SetChainCacheSize(0)
			}
			f := newFloor(b)
			var tv, tf time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := cputime.Thread()
				if _, err := tc.verify(resp, opts); err != nil {
					b.Fatal(err)
				}
				t1 := cputime.Thread()
				if warm {
					f.issuerAuthPrepared()
				} else {
					f.issuerAuth()
					f.certSig()
				}
				f.ecdh()
				f.hkdf()
				f.hmac()
				f.digests()
				t2 := cputime.Thread()
				tv += t1 - t0
				tf += t2 - t1
			}
			b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "verify-cpu-ns/op")
			b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "floor-cpu-ns/op")
			b.ReportMetric(float64(tv)/float64(tf), "verify/floor")
		})
	}
}

// BenchmarkVerifyHolder verifies responses of the simulated wallet
// (holder/credential, an mDL with a portrait) for every device key curve
// and both device authentications, with a warm chain cache; thread CPU time
// per verification is reported beside ns/op.
func BenchmarkVerifyHolder(b *testing.B) {
	f := newFixture(b)
	for _, tc := range []struct {
		name  string
		curve elliptic.Curve
		ecdh  ecdh.Curve
	}{{"P-256", elliptic.P256(), ecdh.P256()}, {"P-384", elliptic.P384(), ecdh.P384()}, {"P-521", elliptic.P521(), ecdh.P521()}} {
		for _, mac := range []bool{false, true} {
			b.Run(tc.name+"/"+map[bool]string{false: "signature", true: "mac"}[mac], func(b *testing.B) {
				devKey, err := ecdsa.GenerateKey(tc.curve, seeded(10))
				if err != nil {
					b.Fatal(err)
				}
				els, err := credential.MDL(credential.SampleOptions{Now: testNow})
				if err != nil {
					b.Fatal(err)
				}
				c, err := credential.Issue(credential.IssueOptions{
					Rand: seeded(4), DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: devKey,
					DSCert: f.pki.DS, DSKey: f.pki.DSKey, Signed: testNow.Add(-time.Hour),
				})
				if err != nil {
					b.Fatal(err)
				}
				readerKey, err := tc.ecdh.GenerateKey(seeded(11))
				if err != nil {
					b.Fatal(err)
				}
				po := credential.PresentOptions{Rand: seeded(5), Requested: requestAll, SessionTranscript: f.transcript, MAC: mac}
				if mac {
					po.ReaderKey = readerKey.PublicKey()
				}
				doc, err := c.Present(po)
				if err != nil {
					b.Fatal(err)
				}
				resp, err := credential.DeviceResponse(0, nil, doc)
				if err != nil {
					b.Fatal(err)
				}
				opts := Options{Trust: NewTrustStore(f.pki.IACA), Now: testNow, SessionTranscript: f.transcript, ReaderKey: readerKey}
				if res, err := Verify(resp, opts); err != nil || !res.Accepted() {
					b.Fatalf("not accepted: %v %+v", err, res.Failures)
				}
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var cpu time.Duration
				b.ReportAllocs()
				for b.Loop() {
					t0 := cputime.Thread()
					if _, err := Verify(resp, opts); err != nil {
						b.Fatal(err)
					}
					cpu += cputime.Thread() - t0
				}
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// A DS that keeps coming back gets its key prepared (internal/p256), and
// the MSO signatures it makes are then checked with that key: valid ones
// pass, a corrupt one, one made by another key under the same certificate,
// and a tampered value still fail with their codes.
func TestChainCachePreparesReturningDS(t *testing.T) {
	f := newFixture(t)
	good := f.issue(t, issueTweak{})
	opts := f.options()
	resp := f.present(t, good, credential.PresentOptions{})
	prepared := func() bool {
		c := &opts.Trust.cache
		c.mu.Lock()
		defer c.mu.Unlock()
		el, ok := c.byKey[sha256.Sum256(f.pki.DS.Raw)]
		return ok && el.Value.(*chainEntry).dsKey != nil
	}
	for n := 1; n <= 2+prepareAfterUses; n++ {
		res, err := Verify(resp, opts)
		if err != nil || !res.Accepted() {
			t.Fatalf("verification %d: %v", n, err)
		}
		// The first verification puts the DS in the cache; the next
		// prepareAfterUses find it there, and the last of them prepares.
		if want := n >= 1+prepareAfterUses; prepared() != want {
			t.Fatalf("after %d verifications: prepared %v, want %v", n, !want, want)
		}
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), seeded(12))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cred *credential.Credential
		po   credential.PresentOptions
		code Code
	}{
		{"corrupt issuer signature", good, credential.PresentOptions{Faults: credential.Faults{CorruptIssuerAuth: true}}, CodeIssuerSignature},
		{"MSO signed by another key", f.issue(t, issueTweak{ds: f.pki.DS, dsKey: otherKey}), credential.PresentOptions{}, CodeIssuerSignature},
		{"tampered value", good, credential.PresentOptions{Faults: credential.Faults{TamperValue: "family_name"}}, CodeValueDigest},
	} {
		res, err := Verify(f.present(t, tc.cred, tc.po), opts)
		wantCode(t, res, err, tc.code)
	}
	if res, err := Verify(resp, opts); err != nil || !res.Accepted() {
		t.Fatalf("after the failures: %v", err)
	}
}

// At most maxPreparedKeys cached DS certificates hold a prepared key, those
// used most recently; the others verify with the plain key until they have
// come back prepareAgainAfterUses times, and are then prepared again.
func TestChainCachePreparedBound(t *testing.T) {
	var c chainCache
	iaca := &x509.Certificate{Raw: []byte("iaca")}
	var ders [][]byte
	for i := range maxPreparedKeys + 4 {
		key, err := ecdsa.GenerateKey(elliptic.P256(), seeded(uint64(100+i)))
		if err != nil {
			t.Fatal(err)
		}
		ds := &x509.Certificate{Raw: []byte(fmt.Sprint("ds", i)), PublicKey: &key.PublicKey}
		c.add(ds, iaca)
		ders = append(ders, ds.Raw)
		for range prepareAfterUses {
			d, _ := c.certificate(ds.Raw)
			if d.prepare != nil {
				k, err := p256.Prepare(d.prepare)
				if err != nil {
					t.Fatal(err)
				}
				c.prepared(ds.Raw, k)
			}
		}
	}
	held := 0
	for i, der := range ders {
		d, ok := c.certificate(der)
		is := isPrepared(d)
		if !ok || d.prepare != nil {
			t.Fatalf("ds%d: cached %v, asked to prepare again %v", i, ok, d.prepare != nil)
		}
		if is {
			held++
			if i < len(ders)-maxPreparedKeys {
				t.Errorf("ds%d, among the first prepared, still holds its table", i)
			}
		}
	}
	if held != maxPreparedKeys || c.nPrepared != maxPreparedKeys {
		t.Errorf("%d prepared keys held (counted %d), want %d", held, c.nPrepared, maxPreparedKeys)
	}
	// ds0 lost its table; it has been looked up once above. It is prepared
	// again at its prepareAgainAfterUses-th lookup since, not before.
	for n := 2; n <= prepareAgainAfterUses; n++ {
		d, _ := c.certificate(ders[0])
		if (d.prepare != nil) != (n == prepareAgainAfterUses) {
			t.Fatalf("lookup %d since the drop: asked to prepare %v", n, d.prepare != nil)
		}
		if d.prepare != nil {
			k, err := p256.Prepare(d.prepare)
			if err != nil {
				t.Fatal(err)
			}
			c.prepared(ders[0], k)
		}
	}
	if d, _ := c.certificate(ders[0]); !isPrepared(d) || c.nPrepared != maxPreparedKeys {
		t.Errorf("ds0 not prepared again, or %d prepared keys counted", c.nPrepared)
	}
	c.clear()
	if c.nPrepared != 0 {
		t.Errorf("%d prepared keys counted after clear", c.nPrepared)
	}
}

func isPrepared(d cachedDS) bool {
	_, ok := d.key.(*p256.PreparedKey)
	return ok
}
