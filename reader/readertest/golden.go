package readertest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/idreader/idreader/reader"
)

// GoldenPath is the transcript file of a golden test: testdata/NAME.apdu
// in the test's package directory.
func GoldenPath(name string) string {
	return filepath.Join("testdata", name+".apdu")
}

// Golden returns the target a golden-transcript test talks to. With update
// false it replays testdata/NAME.apdu (no reader needed) and fails the test
// at cleanup if the test did not send exactly the recorded commands. With
// update true it calls open for a real target, records the exchanges, and
// rewrites the file at cleanup, with header as its leading comment. The
// test defines the flag, e.g.
//
//	var update = flag.Bool("update", false, "re-record golden APDU transcripts through the rig")
func Golden(tb testing.TB, name, header string, update bool, open func(testing.TB) reader.Target) reader.Target {
	tb.Helper()
	path := GoldenPath(name)
	if !update {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatalf("readertest: %v (record it with -update)", err)
		}
		tr, err := ParseTranscript(data)
		if err != nil {
			tb.Fatalf("readertest: %s: %v", path, err)
		}
		p := Playback(tr)
		tb.Cleanup(func() {
			if err := p.Close(); err != nil {
				tb.Errorf("readertest: replaying %s: %v", path, err)
			}
		})
		return p
	}
	var buf bytes.Buffer
	rec := Record(open(tb), &buf)
	if header != "" {
		rec.Comment("%s", header)
	}
	tb.Cleanup(func() {
		if err := rec.Close(); err != nil {
			tb.Errorf("readertest: recording %s: %v", path, err)
		}
		if tb.Failed() {
			tb.Logf("readertest: not writing %s: the test failed", path)
			return
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("readertest: wrote %s", path)
	})
	return rec
}
