// Package e2e holds the end-to-end tests of a tap: the reader side
// (terminal over reader/pcsc) and the simulated wallet (holder/wallet as a
// vpcd card) meeting inside a real pcscd through the vsmartcard vpcd driver.
// The tests need the rig started by .ci/with-rig (make test does that); they
// skip without it on a developer machine and fail without it in CI.
package e2e
