package nfc_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/nfc/nfctest"
)

var update = flag.Bool("update", false, "rewrite the golden APDU transcripts in testdata/transcripts")

// formatTranscript writes one "> command" and one "< response" line per
// exchange, in lowercase hex.
func formatTranscript(log []nfctest.Exchange) []byte {
	var b bytes.Buffer
	for _, e := range log {
		fmt.Fprintf(&b, "> %s\n< %s\n", hex.EncodeToString(e.Command), hex.EncodeToString(e.Response))
	}
	return b.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "transcripts", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden transcript (run with -update after checking):\n%s", name, got)
	}
}

// The APDU sequence of a short-only reader against an Apple-like wallet
// (negotiated handover, NLEN 0 three times before the Hs).
func TestGoldenAppleNegotiated(t *testing.T) {
	tag := appleTag(t, 3)
	r := nfc.HandoverReader{Request: readerHr(t), Sleep: (&instantSleep{}).sleep}
	if _, err := r.Read(context.Background(), tag); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "apple_negotiated_short.txt", formatTranscript(tag.Log))
}

// The APDU sequence of an ACR122U-class reader (64-byte responses) reading
// the Annex D Hs by static handover.
func TestGoldenStaticACR122U(t *testing.T) {
	tag := staticTag(t, vector(t, "annexd/handover_select_message.hex"), 0x7FFF)
	r := nfc.HandoverReader{Limits: nfc.Limits{MaxResponseData: 64}}
	if _, err := r.Read(context.Background(), tag); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "static_annexd_acr122u.txt", formatTranscript(tag.Log))
}
