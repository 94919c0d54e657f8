package vical_test

import (
	"github.com/idreader/idreader/internal/cputime"
	"runtime"
	"testing"
)

// BenchmarkVICAL100OverFolderCPU is BenchmarkVICAL100OverFolder measured in
// thread CPU time: on a loaded machine it still shows the true ratio.
func BenchmarkVICAL100OverFolderCPU(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	benchRatio(b, cputime.Thread, "-cpu")
}
