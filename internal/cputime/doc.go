// Package cputime reads the CPU time of the calling OS thread, for
// benchmarks that compare two pieces of work on a shared, loaded machine:
// other processes' load does not count against either side. Callers lock
// the goroutine to its thread (runtime.LockOSThread) around the measurement.
package cputime
