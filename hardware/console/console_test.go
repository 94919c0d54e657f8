package console_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/hardware/console"
	"github.com/idreader/idreader/hardware/hardwaretest"
)

func TestLines(t *testing.T) {
	var buf bytes.Buffer
	out := console.New(&buf, console.Options{Reader: "counter-1"})
	ctx := context.Background()
	for _, s := range []hardware.Signal{hardware.SignalReady, hardware.SignalReading, hardware.SignalAccept, hardware.SignalFault, hardware.SignalOff, hardware.Signal(9)} {
		if err := out.Show(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.ShowReasons(ctx, hardware.SignalReject, []string{"age_not_met", "document_expired"}); err != nil {
		t.Fatal(err)
	}
	want := "counter-1 READY\ncounter-1 READING\ncounter-1 ACCEPT\ncounter-1 FAULT\ncounter-1 OFF\ncounter-1 UNKNOWN(9)\n" +
		"counter-1 REJECT: age_not_met, document_expired\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestTimestampsAndNoName(t *testing.T) {
	var buf bytes.Buffer
	clock := hardwaretest.NewClock()
	out := console.New(&buf, console.Options{Timestamps: true, Clock: clock})
	clock.Advance(1500 * time.Millisecond)
	_ = out.Show(context.Background(), hardware.SignalAccept)
	out = console.New(&buf, console.Options{Timestamps: true, Clock: clock, TimeLayout: "15:04:05.000", Reader: "door 2\nx"})
	_ = out.Show(context.Background(), hardware.SignalReady)
	want := "2025-01-01T09:00:01Z ACCEPT\n09:00:01.500 door_2_x READY\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// The console prints reason codes only: anything else (which might be a
// name, a number or a date a caller passed by mistake) is masked.
func TestNoFreeTextReasons(t *testing.T) {
	var buf bytes.Buffer
	out := console.New(&buf, console.Options{Reader: "c"})
	personal := []string{"Erika Mustermann", "1964-08-12", "DL 123456", "123456789", "", strings.Repeat("a", 65), "ÄÖ", "x\ny"}
	if err := out.ShowReasons(context.Background(), hardware.SignalReject, append(personal, "issuer_not_allowed")); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, ", issuer_not_allowed\n") {
		t.Errorf("line %q", got)
	}
	for _, p := range personal[:4] {
		if strings.Contains(got, p) {
			t.Errorf("%q printed: %q", p, got)
		}
	}
	if n := strings.Count(got, "invalid_reason"); n != len(personal) {
		t.Errorf("%d masked, want %d: %q", n, len(personal), got)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestErrors(t *testing.T) {
	boom := errors.New("disk full")
	out := console.New(failWriter{boom}, console.Options{})
	if err := out.Show(context.Background(), hardware.SignalReady); !errors.Is(err, boom) {
		t.Errorf("write error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	out = console.New(&buf, console.Options{})
	if err := out.Show(ctx, hardware.SignalReady); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Show(context.Background(), hardware.SignalReady); !errors.Is(err, hardware.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

// lineWriter fails the test if a Write is not one whole line.
type lineWriter struct {
	t  *testing.T
	mu sync.Mutex
	n  int
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Count(p, []byte("\n")) != 1 || p[len(p)-1] != '\n' {
		w.t.Errorf("write %q is not one line", p)
	}
	w.n++
	return len(p), nil
}

func TestSharedWriterOneWritePerLine(t *testing.T) {
	w := &lineWriter{t: t}
	a := console.New(w, console.Options{Reader: "a"})
	b := console.New(w, console.Options{Reader: "b"})
	var wg sync.WaitGroup
	for _, o := range []*console.Output{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_ = o.ShowReasons(context.Background(), hardware.SignalReject, []string{"age_not_met"})
			}
		}()
	}
	wg.Wait()
	if w.n != 200 {
		t.Errorf("%d writes", w.n)
	}
}

func TestInMulti(t *testing.T) {
	var buf bytes.Buffer
	rec := hardwaretest.NewRecorder(nil)
	m := hardware.Multi(console.New(&buf, console.Options{Reader: "k"}), rec)
	if err := hardware.ShowReasons(context.Background(), m, hardware.SignalReject, []string{"document_expired"}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "k REJECT: document_expired\n" {
		t.Errorf("console %q", buf.String())
	}
	if s, _ := rec.Last(); s != hardware.SignalReject {
		t.Errorf("recorder %v", s)
	}
}
