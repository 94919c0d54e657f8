package apdulog

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
	"time"

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

// ErrorName is the text of a '!' line for err: the name of the reader
// sentinel it wraps, or its message on one line.
func ErrorName(err error) string {
	for _, e := range errorNames {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// ErrorFromName is the error a replayed '!' line stands for; it wraps the
// reader sentinel the name stands for.
func ErrorFromName(name string) error {
	for _, e := range errorNames {
		if e.name == name {
			return fmt.Errorf("apdulog: replayed error: %w", e.err)
		}
	}
	return fmt.Errorf("apdulog: replayed error: %s", name)
}

// Parse parses the text format described in the package comment.
func Parse(data []byte) (Transcript, error) {
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
				return nil, fmt.Errorf("apdulog: line %d: command without a response before it", n)
			}
			b, err := parseHex(rest)
			if err != nil {
				return nil, fmt.Errorf("apdulog: line %d: %w", n, err)
			}
			if len(b) == 0 {
				return nil, fmt.Errorf("apdulog: line %d: empty command", n)
			}
			tr = append(tr, Exchange{Command: b})
			pending = true
		case '<', '!':
			if !pending {
				return nil, fmt.Errorf("apdulog: line %d: %q without a command", n, kind)
			}
			if kind == '!' {
				if rest == "" {
					return nil, fmt.Errorf("apdulog: line %d: empty error", n)
				}
				tr[len(tr)-1].Err = rest
			} else {
				b, err := parseHex(rest)
				if err != nil {
					return nil, fmt.Errorf("apdulog: line %d: %w", n, err)
				}
				tr[len(tr)-1].Response = b
			}
			pending = false
		default:
			return nil, fmt.Errorf("apdulog: line %d: unknown line kind %q", n, kind)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("apdulog: reading transcript: %w", err)
	}
	if pending {
		return nil, errors.New("apdulog: truncated transcript: last command has no response")
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
		AppendExchange(&buf, e)
	}
	n, err := w.Write(buf.Bytes())
	return int64(n), err
}

// AppendExchange writes the lines of one exchange to buf.
func AppendExchange(buf *bytes.Buffer, e Exchange) {
	fmt.Fprintf(buf, "> %x\n", e.Command)
	if e.Err != "" {
		fmt.Fprintf(buf, "! %s\n", e.Err)
	} else {
		fmt.Fprintf(buf, "< %x\n", e.Response)
	}
}

// Transceiver is the one-method transport of package nfc and reader.
type Transceiver interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// Recorder passes every command to a transceiver and keeps the exchanges
// in memory. Commands the target refused without sending
// (reader.ErrBadCommand) are not kept.
type Recorder struct {
	t  Transceiver
	mu sync.Mutex
	tr Transcript
}

// NewRecorder returns a Recorder in front of t.
func NewRecorder(t Transceiver) *Recorder { return &Recorder{t: t} }

// Transmit implements Transceiver.
func (r *Recorder) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	rsp, err := r.t.Transmit(ctx, apdu)
	if errors.Is(err, reader.ErrBadCommand) {
		return rsp, err
	}
	e := Exchange{Command: slices.Clone(apdu), Response: slices.Clone(rsp)}
	if err != nil {
		e.Err = ErrorName(err)
	}
	r.mu.Lock()
	r.tr = append(r.tr, e)
	r.mu.Unlock()
	return rsp, err
}

// Detected forwards reader.Detector of the wrapped target (zero when it
// has none), so a recorded tap still reports its detection phase.
func (r *Recorder) Detected() time.Time {
	if d, ok := r.t.(reader.Detector); ok {
		return d.Detected()
	}
	return time.Time{}
}

// Transcript returns a copy of the exchanges so far.
func (r *Recorder) Transcript() Transcript {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tr)
}

// ErrMismatch is wrapped by a Player's errors: a command other than the
// recorded one, one too many, or (from Close) commands never sent.
var ErrMismatch = errors.New("apdulog: transcript mismatch")

// Player replays a transcript strictly in order: each command must equal
// the recorded one, and gets the recorded response or error. It is safe for
// one caller at a time.
type Player struct {
	mu   sync.Mutex
	tr   Transcript
	next int
	err  error
}

// NewPlayer returns a Player of tr.
func NewPlayer(tr Transcript) *Player { return &Player{tr: tr} }

// Transmit implements Transceiver.
func (p *Player) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	if p.next >= len(p.tr) {
		p.err = fmt.Errorf("%w: command %d (%x) after the end of the transcript", ErrMismatch, p.next+1, apdu)
		return nil, p.err
	}
	e := p.tr[p.next]
	if !bytes.Equal(apdu, e.Command) {
		p.err = fmt.Errorf("%w: command %d is %x, the transcript has %x", ErrMismatch, p.next+1, apdu, e.Command)
		return nil, p.err
	}
	p.next++
	if e.Err != "" {
		return nil, ErrorFromName(e.Err)
	}
	return slices.Clone(e.Response), nil
}

// Close reports the first mismatch, or the exchanges that were never
// replayed.
func (p *Player) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.next < len(p.tr) {
		return fmt.Errorf("%w: %d of %d exchanges not replayed", ErrMismatch, len(p.tr)-p.next, len(p.tr))
	}
	return nil
}
