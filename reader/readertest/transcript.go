package readertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/idreader/idreader/reader"
)

// Exchange is one command of a transcript and what came back.
type Exchange struct {
	Command  []byte
	Response []byte
	// Err is the error text of a failed exchange ("" when it succeeded):
	// removed, no-reader, service-unavailable, timeout or free text.
	Err string
}

// Transcript is an ordered list of exchanges.
type Transcript []Exchange

// Error names used in '!' lines for the reader sentinels.
var errorNames = []struct {
	name string
	err  error
}{
	{"removed", reader.ErrRemoved},
	{"no-reader", reader.ErrNoReader},
	{"service-unavailable", reader.ErrServiceUnavailable},
	{"timeout", reader.ErrTimeout},
}

func errorName(err error) string {
	for _, e := range errorNames {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func errorFromName(name string) error {
	for _, e := range errorNames {
		if e.name == name {
			return fmt.Errorf("readertest: replayed error: %w", e.err)
		}
	}
	return fmt.Errorf("readertest: replayed error: %s", name)
}

// ParseTranscript parses the text format described in the package comment.
func ParseTranscript(data []byte) (Transcript, error) {
	var tr Transcript
	pending := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		kind, rest := line[0], strings.TrimSpace(line[1:])
		switch kind {
		case '>':
			if pending {
				return nil, fmt.Errorf("readertest: line %d: command without a response before it", n)
			}
			b, err := parseHex(rest)
			if err != nil {
				return nil, fmt.Errorf("readertest: line %d: %w", n, err)
			}
			if len(b) == 0 {
				return nil, fmt.Errorf("readertest: line %d: empty command", n)
			}
			tr = append(tr, Exchange{Command: b})
			pending = true
		case '<', '!':
			if !pending {
				return nil, fmt.Errorf("readertest: line %d: %q without a command", n, kind)
			}
			if kind == '!' {
				if rest == "" {
					return nil, fmt.Errorf("readertest: line %d: empty error", n)
				}
				tr[len(tr)-1].Err = rest
			} else {
				b, err := parseHex(rest)
				if err != nil {
					return nil, fmt.Errorf("readertest: line %d: %w", n, err)
				}
				tr[len(tr)-1].Response = b
			}
			pending = false
		default:
			return nil, fmt.Errorf("readertest: line %d: unknown line kind %q", n, kind)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("readertest: reading transcript: %w", err)
	}
	if pending {
		return nil, errors.New("readertest: truncated transcript: last command has no response")
	}
	return tr, nil
}

func parseHex(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		return nil, fmt.Errorf("bad hex: %w", err)
	}
	return b, nil
}

// WriteTo writes the transcript in the text format.
func (tr Transcript) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	for _, e := range tr {
		writeExchange(&buf, e)
	}
	n, err := w.Write(buf.Bytes())
	return int64(n), err
}

func writeExchange(buf *bytes.Buffer, e Exchange) {
	fmt.Fprintf(buf, "> %x\n", e.Command)
	if e.Err != "" {
		fmt.Fprintf(buf, "! %s\n", e.Err)
	} else {
		fmt.Fprintf(buf, "< %x\n", e.Response)
	}
}

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
		e.Err = errorName(err)
	}
	var buf bytes.Buffer
	writeExchange(&buf, e)
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
			st.Err = errorFromName(e.Err)
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
