//go:build !linux

package verify

import "time"

// threadCPU is not measured outside Linux: the CPU-time metrics read 0.
func threadCPU() time.Duration { return 0 }
