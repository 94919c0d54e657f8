//go:build !linux

package cputime

import "time"

var start = time.Now()

// Thread falls back to the monotonic wall clock where the thread CPU clock
// is not read: ratios then include other processes' load.
func Thread() time.Duration { return time.Since(start) }
