package nfc_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/idreader/idreader/internal/testvectors"
)

// vector reads one hex file of the shared test vectors (testdata/annexd,
// testdata/interop at the module root; see its README).
func vector(tb testing.TB, name string) []byte {
	tb.Helper()
	return testvectors.File(tb, name)
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
