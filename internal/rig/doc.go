// Package rig gives tests the pcscd + vpcd rig that .ci/with-rig starts:
// reader names, the vpcd address of each reader, and control over pcscd
// (restart, stop, start). Tests call [Require] first; it skips the test when
// the rig is absent (or fails it when CI or IDREADER_REQUIRE_RIG is set) and
// serialises rig users across test binaries that `go test ./...` runs in
// parallel.
package rig
