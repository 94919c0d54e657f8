package readertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/apdulog"
)

// Exchange is one command of a transcript and what came back (see
// apdulog.Exchange).
type Exchange = apdulog.Exchange

// Transcript is an ordered list of exchanges.
type Transcript = apdulog.Transcript

// ParseTranscript parses the text format described in the package comment.
func ParseTranscript(data []byte) (Transcript, error) { return apdulog.Parse(data) }

// Recorder is a reader.Target that passes everything to a real target and
// writes each exchange to a transcript as it happens.
type Recorder struct {
	reader.Target

	mu  sync.Mutex
	w   io.Writer
	err error
}

// Record returns a Recorder that writes the exchanges with target to w.
func Record(target reader.Target, w io.Writer) *Recorder {
	return &Recorder{Target: target, w: w}
}

// Comment writes a '#' comment line into the transcript.
func (r *Recorder) Comment(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := fmt.Sprintf(format, args...)
	for _, l := range strings.Split(text, "\n") {
		r.write([]byte("# " + l + "\n"))
	}
}

func (r *Recorder) write(p []byte) {
	if r.err == nil {
		_, r.err = r.w.Write(p)
	}
}

// Transmit implements reader.Target. Commands the target refused without
// sending (reader.ErrBadCommand) are not recorded.
func (r *Recorder) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	rsp, err := r.Target.Transmit(ctx, apdu)
	if errors.Is(err, reader.ErrBadCommand) {
		return rsp, err
	}
	e := Exchange{Command: apdu, Response: rsp}
	if err != nil {
		e.Err = apdulog.ErrorName(err)
	}
	var buf bytes.Buffer
	apdulog.AppendExchange(&buf, e)
	r.mu.Lock()
	r.write(buf.Bytes())
	r.mu.Unlock()
	return rsp, err
}

// Close closes the real target; it also reports a failed transcript write.
func (r *Recorder) Close() error {
	err := r.Target.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return errors.Join(err, fmt.Errorf("readertest: writing transcript: %w", r.err))
	}
	return err
}

// Player is a reader.Target that replays a transcript strictly in order:
// each command must equal the recorded one; Close fails if anything was
// not consumed or a command did not match.
type Player struct {
	script *Script
}

// Playback returns a Player for tr.
func Playback(tr Transcript) *Player {
	s := NewScript()
	for _, e := range tr {
		st := Step{Command: slices.Clone(e.Command), Response: slices.Clone(e.Response)}
		if e.Err != "" {
			st.Err = apdulog.ErrorFromName(e.Err)
		}
		s.steps = append(s.steps, st)
	}
	return &Player{script: s}
}

// Transmit implements reader.Target.
func (p *Player) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	return p.script.Transmit(ctx, apdu)
}

// ATR implements reader.Target.
func (p *Player) ATR() []byte { return p.script.ATR() }

// Limits implements reader.Target.
func (p *Player) Limits() reader.Limits { return p.script.Limits() }

// WaitRemoved implements reader.Target: the replayed target leaves after
// its last exchange.
func (p *Player) WaitRemoved(ctx context.Context) error {
	if p.script.Remaining() == 0 {
		return nil
	}
	return p.script.WaitRemoved(ctx)
}

// Remaining returns the number of exchanges not yet replayed.
func (p *Player) Remaining() int { return p.script.Remaining() }

// Close implements reader.Target; see Player.
func (p *Player) Close() error { return p.script.Close() }
