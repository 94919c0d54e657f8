package apdulog_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/apdulog"
)

const sample = `# a tap
> 00a4040007 a0000002480400 00
< 9000
> 80ee0000
! removed
> 00c0000000
! the reader caught fire
`

func TestParseAndWrite(t *testing.T) {
	tr, err := apdulog.Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 3 || tr[1].Err != "removed" || !bytes.Equal(tr[0].Response, []byte{0x90, 0x00}) || len(tr[0].Command) != 13 {
		t.Fatalf("parsed %+v", tr)
	}
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	again, err := apdulog.Parse(buf.Bytes())
	if err != nil || len(again) != len(tr) {
		t.Fatalf("round trip: %v %+v", err, again)
	}
	for i := range tr {
		if !bytes.Equal(again[i].Command, tr[i].Command) || !bytes.Equal(again[i].Response, tr[i].Response) || again[i].Err != tr[i].Err {
			t.Errorf("exchange %d differs after the round trip", i)
		}
	}
	if !errors.Is(apdulog.ErrorFromName("removed"), reader.ErrRemoved) {
		t.Error("removed does not wrap reader.ErrRemoved")
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"response-first":   "< 9000\n",
		"two-commands":     "> 00\n> 00\n",
		"bad-hex":          "> 0g\n< 9000\n",
		"empty-command":    ">\n< 9000\n",
		"empty-error":      "> 00\n!\n",
		"unknown-kind":     "? 00\n",
		"truncated":        "> 00a4\n",
		"odd-hex-response": "> 00\n< 900\n",
	} {
		if _, err := apdulog.Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type echo struct{}

func (echo) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	if apdu[0] == 0xFF {
		return nil, reader.ErrRemoved
	}
	return append(append([]byte(nil), apdu...), 0x90, 0x00), nil
}

func TestRecordThenPlay(t *testing.T) {
	ctx := context.Background()
	rec := apdulog.NewRecorder(echo{})
	for _, c := range [][]byte{{0x00, 0x01}, {0xFF}} {
		rec.Transmit(ctx, c)
	}
	if !rec.Detected().IsZero() {
		t.Error("a target without Detected reports a detection time")
	}
	tr := rec.Transcript()
	if len(tr) != 2 || tr[1].Err != "removed" {
		t.Fatalf("recorded %+v", tr)
	}
	p := apdulog.NewPlayer(tr)
	if r, err := p.Transmit(ctx, []byte{0x00, 0x01}); err != nil || !bytes.Equal(r, []byte{0x00, 0x01, 0x90, 0x00}) {
		t.Fatalf("replayed %x, %v", r, err)
	}
	if err := p.Close(); !errors.Is(err, apdulog.ErrMismatch) {
		t.Errorf("Close with one exchange left: %v", err)
	}
	if _, err := p.Transmit(ctx, []byte{0xFF}); !errors.Is(err, reader.ErrRemoved) {
		t.Errorf("replayed error %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after everything: %v", err)
	}
	if _, err := p.Transmit(ctx, []byte{0x00}); !errors.Is(err, apdulog.ErrMismatch) {
		t.Errorf("command past the end: %v", err)
	}
	q := apdulog.NewPlayer(tr)
	if _, err := q.Transmit(ctx, []byte{0x00, 0x02}); !errors.Is(err, apdulog.ErrMismatch) {
		t.Errorf("other command: %v", err)
	}
	if err := q.Close(); !errors.Is(err, apdulog.ErrMismatch) {
		t.Errorf("Close after a mismatch: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("> 00\n< 9000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := apdulog.Parse(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if _, err := tr.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		again, err := apdulog.Parse(buf.Bytes())
		if err != nil || len(again) != len(tr) {
			t.Fatalf("written transcript does not parse back: %v", err)
		}
	})
}
