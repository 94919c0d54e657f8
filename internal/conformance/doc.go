// Package conformance turns the conformance tests of this package into
// docs/conformance.md. Each test proves one thing: an ISO/IEC 18013-5 Annex
// D value reproduced, an Apple Wallet capture replayed, a negative case and
// its reason code, a fault or removal campaign, or a reader obligation of
// ISO/IEC 18013-5 clause 9.3.1. When it passes it logs a mark:
//
//	conformance {"section":"annexd","item":"sk_reader","clause":"D.5.1","proof":"..."}
//
// Generate reads the `go test -json` stream of the package and writes the
// report, each mark with the test that logged it and whether that test
// passed. `make conformance` regenerates the file; `make conformance-check`
// (part of `make test`) fails when the committed file is stale.
package conformance
