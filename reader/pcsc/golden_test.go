//go:build cgo

package pcsc_test

import (
	"bytes"
	"context"
	"flag"
	"testing"

	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pcsc"
	"github.com/idreader/idreader/reader/readertest"
)

var update = flag.Bool("update", false, "re-record golden APDU transcripts through the pcscd + vpcd rig")

// selectAndEcho is the exchange the golden transcript holds; it runs the
// same against the rig (with -update) and against the replay.
func selectAndEcho(t *testing.T, tg reader.Target) {
	ctx := context.Background()
	rsp, err := tg.Transmit(ctx, selectMdoc)
	if err != nil || !bytes.Equal(rsp, []byte{0x90, 0x00}) {
		t.Fatalf("SELECT = % X, %v", rsp, err)
	}
	echo := []byte{0x80, insEcho, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x00}
	rsp, err = tg.Transmit(ctx, echo)
	if err != nil || !bytes.Equal(rsp, []byte{0x01, 0x02, 0x03, 0x90, 0x00}) {
		t.Fatalf("ECHO = % X, %v", rsp, err)
	}
	ext := append([]byte{0x80, insEcho, 0x00, 0x00, 0x00, 0x01, 0x00}, make([]byte, 256)...)
	ext = append(ext, 0x00, 0x00)
	rsp, err = tg.Transmit(ctx, ext)
	if err != nil || len(rsp) != 258 {
		t.Fatalf("extended ECHO = %d bytes, %v", len(rsp), err)
	}
}

func TestGoldenSelectAndEcho(t *testing.T) {
	tg := readertest.Golden(t, "select_echo", "SELECT mdoc AID, short and extended ECHO through pcscd + vpcd", *update,
		func(tb testing.TB) reader.Target {
			info := rig.Require(tb)
			r := open(tb, pcsc.Options{}, info.Readers[0])
			tap(tb, info.VPCD[0], &testCard{})
			real, _ := wait(tb, r)
			return real
		})
	selectAndEcho(t, tg)
}
