package verify

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time of the calling OS thread
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), unaffected by other processes.
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// BenchmarkVerifyOverFloorCPU is BenchmarkVerifyOverFloor measured in thread
// CPU time: on a loaded machine it still shows the true overhead ratio.
// (Garbage collection running on other threads is not counted.)
func BenchmarkVerifyOverFloorCPU(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	resp := vec(b, "device_response")
	opts := annexDOptions(b)
	f := newFloor(b)
	var tv, tf time.Duration
	for b.Loop() {
		t0 := threadCPU()
		if _, err := Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
		t1 := threadCPU()
		f.issuerAuth()
		f.certSig()
		f.ecdh()
		f.hkdf()
		f.hmac()
		f.digests()
		t2 := threadCPU()
		tv += t1 - t0
		tf += t2 - t1
	}
	b.ReportMetric(float64(tv)/float64(tf), "verify/floor")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "verify-cpu-ns/op")
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "floor-cpu-ns/op")
}
