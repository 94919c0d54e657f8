package cputime

import (
	"runtime"
	"testing"
)

func TestThreadAdvancesWithWork(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := Thread()
	x := 0
	for i := range 20_000_000 {
		x += i ^ (x >> 3)
	}
	if d := Thread() - t0; d <= 0 {
		t.Fatalf("no CPU time counted for busy work (%d)", x)
	}
}
