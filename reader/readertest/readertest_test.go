package readertest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/reader"
)

var (
	selectCmd = []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00, 0x00}
	ok        = []byte{0x90, 0x00}
)

func TestScriptInOrder(t *testing.T) {
	s := NewScript().Expect(selectCmd, ok).Expect([]byte{0x00, 0xB0, 0x00, 0x00, 0x02}, []byte{0xAB, 0xCD, 0x90, 0x00})
	ctx := context.Background()
	rsp, err := s.Transmit(ctx, selectCmd)
	if err != nil || !bytes.Equal(rsp, ok) {
		t.Fatalf("first = % X, %v", rsp, err)
	}
	rsp, err = s.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x02})
	if err != nil || !bytes.Equal(rsp, []byte{0xAB, 0xCD, 0x90, 0x00}) {
		t.Fatalf("second = % X, %v", rsp, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Transmit(ctx, selectCmd); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Transmit after Close = %v", err)
	}
}

func TestScriptMismatchAndLeftovers(t *testing.T) {
	s := NewScript(Step{Command: selectCmd, Response: ok}, Step{Command: []byte{1, 2, 3, 4}, Response: ok})
	if _, err := s.Transmit(context.Background(), []byte{0x00, 0xA4, 0x04, 0x00}); err == nil {
		t.Fatal("wrong command accepted")
	}
	err := s.Close()
	if err == nil || !strings.Contains(err.Error(), "sent") || !strings.Contains(err.Error(), "not consumed") {
		t.Fatalf("Close = %v, want the mismatch and the leftovers", err)
	}
}

func TestScriptExtraCommand(t *testing.T) {
	s := NewScript()
	if _, err := s.Transmit(context.Background(), selectCmd); err == nil {
		t.Fatal("command beyond the script accepted")
	}
	if err := s.Close(); err == nil {
		t.Fatal("Close passed after an unexpected command")
	}
}

func TestScriptRemoval(t *testing.T) {
	s := NewScript().Expect(selectCmd, ok).ExpectErr([]byte{0x80, 0xEE, 0, 0}, reader.ErrRemoved)
	ctx := context.Background()
	s.Transmit(ctx, selectCmd)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := s.WaitRemoved(wctx); !errors.Is(err, reader.ErrTimeout) {
		t.Fatalf("WaitRemoved before removal = %v, want ErrTimeout", err)
	}
	if _, err := s.Transmit(ctx, []byte{0x80, 0xEE, 0, 0}); !errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("Transmit = %v, want ErrRemoved", err)
	}
	if err := s.WaitRemoved(ctx); err != nil {
		t.Fatalf("WaitRemoved = %v", err)
	}
	if _, err := s.Transmit(ctx, selectCmd); !errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("Transmit after removal = %v, want ErrRemoved", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := NewScript().Expect(selectCmd, ok)
	s2.Remove()
	if _, err := s2.Transmit(ctx, selectCmd); !errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("Transmit after Remove = %v", err)
	}
}

func TestScriptRefusesBadCommands(t *testing.T) {
	s := NewScript()
	s.Lim = reader.ShortLimits()
	for _, cmd := range [][]byte{nil, {0x00}, {0x80, 0x10, 0, 0, 0, 0, 1, 0xAB}} {
		if _, err := s.Transmit(context.Background(), cmd); !errors.Is(err, reader.ErrBadCommand) {
			t.Errorf("Transmit(% X) = %v, want ErrBadCommand", cmd, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("refused commands count against the script: %v", err)
	}
}

func TestReader(t *testing.T) {
	r := NewReader("fake 00 00", reader.ShortLimits())
	s := NewScript()
	r.Insert(s)
	got, err := r.Wait(context.Background())
	if err != nil || got != s {
		t.Fatalf("Wait = %v, %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx); !errors.Is(err, reader.ErrTimeout) {
		t.Errorf("Wait on an empty reader = %v", err)
	}
	r.Close()
	if _, err := r.Wait(context.Background()); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Wait after Close = %v", err)
	}
}

const sample = `# SELECT the mdoc applet (ISO/IEC 18013-5 clause 8.3.3.1.2)
> 00a4040007 a0000002480400 00
< 9000

> 80100000 02 abcd 00
< abcd9000
> 80ee0000
! removed
`

func TestRecordPlaybackRoundTrip(t *testing.T) {
	tr, err := ParseTranscript([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 3 || tr[2].Err != "removed" || !bytes.Equal(tr[0].Command, selectCmd) {
		t.Fatalf("parsed %+v", tr)
	}

	// Record a playback of the sample: the transcript must come out equal.
	var buf bytes.Buffer
	rec := Record(Playback(tr), &buf)
	rec.Comment("re-recorded")
	ctx := context.Background()
	for _, e := range tr {
		rsp, err := rec.Transmit(ctx, e.Command)
		if e.Err != "" {
			if !errors.Is(err, reader.ErrRemoved) {
				t.Fatalf("replayed error = %v", err)
			}
			continue
		}
		if err != nil || !bytes.Equal(rsp, e.Response) {
			t.Fatalf("replay = % X, %v", rsp, err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	tr2, err := ParseTranscript(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	tr.WriteTo(&a)
	tr2.WriteTo(&b)
	if a.String() != b.String() {
		t.Fatalf("round trip differs:\n%s\nvs\n%s", a.String(), b.String())
	}
	if !strings.HasPrefix(buf.String(), "# re-recorded\n> 00a40400") {
		t.Errorf("recorded transcript:\n%s", buf.String())
	}
}

func TestPlaybackStrict(t *testing.T) {
	tr, _ := ParseTranscript([]byte(sample))
	p := Playback(tr)
	p.Transmit(context.Background(), selectCmd)
	if err := p.Close(); err == nil {
		t.Fatal("Close passed with two exchanges not replayed")
	}
	p = Playback(tr)
	if _, err := p.Transmit(context.Background(), []byte{0x00, 0xA4, 0x04, 0x0C}); err == nil {
		t.Fatal("a different command was accepted")
	}
}

func TestParseTranscriptErrors(t *testing.T) {
	for name, in := range map[string]string{
		"response first":  "< 9000\n",
		"two commands":    "> 00a40400\n> 00a40400\n< 9000\n",
		"truncated":       "> 00a40400\n",
		"bad hex":         "> 00a4040\n< 9000\n",
		"not hex":         "> zz\n< 9000\n",
		"empty command":   ">\n< 9000\n",
		"empty error":     "> 00a40400\n!\n",
		"unknown kind":    "> 00a40400\n= 9000\n",
		"error first":     "! removed\n",
		"odd hex respons": "> 00a40400\n< 900\n",
	} {
		if _, err := ParseTranscript([]byte(in)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestRecorderSkipsRefusedCommands(t *testing.T) {
	var buf bytes.Buffer
	rec := Record(NewScript(), &buf)
	if _, err := rec.Transmit(context.Background(), nil); !errors.Is(err, reader.ErrBadCommand) {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("recorded a refused command: %q", buf.String())
	}
}

func FuzzParseTranscript(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("> 00\n< \n"))
	f.Add([]byte("> 00a40400\n! timeout\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTranscript(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		tr.WriteTo(&buf)
		tr2, err := ParseTranscript(buf.Bytes())
		if err != nil {
			t.Fatalf("re-parsing %q: %v", buf.String(), err)
		}
		var buf2 bytes.Buffer
		tr2.WriteTo(&buf2)
		if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
			t.Fatalf("not stable: %q vs %q", buf.String(), buf2.String())
		}
	})
}
