// Package testvectors loads the ISO/IEC 18013-5 Annex D vectors and the
// interop captures kept in the repository's testdata/ folder for tests: each
// file holds one value as lowercase hex on one line.
package testvectors

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// root is the repository's testdata folder, found from this file's place so
// that tests in any package can load vectors.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Load returns the bytes of testdata/DIR/NAME.hex, failing the test when the
// file is missing or not hex.
func Load(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(root(), dir, name+".hex"))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		tb.Fatalf("%s/%s: %v", dir, name, err)
	}
	return out
}

// AnnexD returns an ISO/IEC 18013-5 Annex D vector, e.g. "device_response".
func AnnexD(tb testing.TB, name string) []byte { return Load(tb, "annexd", name) }

// Interop returns a real-device capture, e.g. "apple_wallet_cc_file".
func Interop(tb testing.TB, name string) []byte { return Load(tb, "interop", name) }

// File returns the bytes of a hex file given by its path below testdata/,
// e.g. "annexd/handover_select_message.hex".
func File(tb testing.TB, path string) []byte {
	tb.Helper()
	dir, name := filepath.Split(strings.TrimSuffix(path, ".hex"))
	return Load(tb, filepath.Clean(dir), name)
}
