package verify

import (
	"github.com/idreader/idreader/internal/cputime"
	"runtime"
	"testing"
	"time"
)

// BenchmarkVerifyOverFloorCPU is BenchmarkVerifyOverFloor measured in thread
// CPU time: on a loaded machine it still shows the true overhead ratio.
// (Garbage collection running on other threads is not counted.)
// The chain cache is off, as for the floor, which checks the DS
// certificate's signature; BenchmarkVerifyAnnexDCPU has the warm case.
func BenchmarkVerifyOverFloorCPU(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	resp := vec(b, "device_response")
	opts := annexDOptions(b)
	opts.Trust.SetChainCacheSize(0)
	f := newFloor(b)
	var tv, tf time.Duration
	for b.Loop() {
		t0 := cputime.Thread()
		if _, err := Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
		t1 := cputime.Thread()
		f.issuerAuth()
		f.certSig()
		f.ecdh()
		f.hkdf()
		f.hmac()
		f.digests()
		t2 := cputime.Thread()
		tv += t1 - t0
		tf += t2 - t1
	}
	b.ReportMetric(float64(tv)/float64(tf), "verify/floor")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "verify-cpu-ns/op")
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "floor-cpu-ns/op")
}
