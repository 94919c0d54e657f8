//go:build !unix

package rig

// lockFile does nothing: the rig needs pcscd, which runs on unix only.
func lockFile(string) (func(), error) { return func() {}, nil }
