package vical_test

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

// BenchmarkVICAL100OverFolderCPU is BenchmarkVICAL100OverFolder measured in
// thread CPU time: on a loaded machine it still shows the true ratio.
func BenchmarkVICAL100OverFolderCPU(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	benchRatio(b, threadCPU, "-cpu")
}
