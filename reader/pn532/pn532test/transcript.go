package pn532test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/idreader/idreader/reader/pn532"
)

// A frame transcript is text, one event a line, blank lines and lines
// starting with '#' ignored:
//
//	> 0000ff02fed4022a00      a frame the host wrote (hex, spaces allowed)
//	< 0000ff00ff00            a frame the host read
//	< timeout                 the host waited for a frame in vain
//	< damaged                 a frame arrived with a bad checksum
//	~ wakeup                  the host woke the chip up
//
// Frames are written as they are on the bus, checksums included, so a
// damaged frame is recorded as damaged.

// Event is one line of a transcript.
type Event struct {
	// Dir is '>' (host to chip), '<' (chip to host) or '~' (wake-up).
	Dir byte
	// Frame is the frame's bytes; nil for a timeout, a damaged frame and
	// a wake-up.
	Frame []byte
	// Damaged marks a frame that arrived with a bad checksum.
	Damaged bool
}

// Transcript is an ordered list of events.
type Transcript []Event

// ParseTranscript parses the text format.
func ParseTranscript(data []byte) (Transcript, error) {
	var tr Transcript
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		dir, rest := line[0], strings.TrimSpace(line[1:])
		switch {
		case dir == '~' && rest == "wakeup":
			tr = append(tr, Event{Dir: '~'})
		case dir == '<' && rest == "timeout":
			tr = append(tr, Event{Dir: '<'})
		case dir == '<' && rest == "damaged":
			tr = append(tr, Event{Dir: '<', Damaged: true})
		case dir == '>' || dir == '<':
			b, err := hex.DecodeString(strings.ReplaceAll(rest, " ", ""))
			if err != nil || len(b) == 0 {
				return nil, fmt.Errorf("pn532test: transcript line %d: bad hex frame", n)
			}
			tr = append(tr, Event{Dir: dir, Frame: b})
		default:
			return nil, fmt.Errorf("pn532test: transcript line %d: want '>', '<', '~' or '#'", n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pn532test: reading transcript: %w", err)
	}
	return tr, nil
}

// WriteTo writes the transcript in the text format.
func (tr Transcript) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	for _, e := range tr {
		switch {
		case e.Dir == '~':
			b.WriteString("~ wakeup\n")
		case e.Damaged:
			b.WriteString("< damaged\n")
		case e.Frame == nil:
			b.WriteString("< timeout\n")
		default:
			fmt.Fprintf(&b, "%c %x\n", e.Dir, e.Frame)
		}
	}
	return b.WriteTo(w)
}

// Recorder is a pn532.Transport that passes everything to another one and
// records it.
type Recorder struct {
	t  pn532.Transport
	mu sync.Mutex
	tr Transcript
}

// Record wraps t.
func Record(t pn532.Transport) *Recorder { return &Recorder{t: t} }

// Transcript returns what was recorded so far.
func (r *Recorder) Transcript() Transcript {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(Transcript(nil), r.tr...)
}

func (r *Recorder) add(e Event) {
	r.mu.Lock()
	r.tr = append(r.tr, e)
	r.mu.Unlock()
}

// String implements pn532.Transport.
func (r *Recorder) String() string { return r.t.String() }

// WriteFrame implements pn532.Transport.
func (r *Recorder) WriteFrame(ctx context.Context, frame []byte) error {
	r.add(Event{Dir: '>', Frame: append([]byte(nil), frame...)})
	return r.t.WriteFrame(ctx, frame)
}

// ReadFrame implements pn532.Transport. A frame is recorded as the parse
// encodes it (the same bytes as on the bus for every frame the chip sends);
// a damaged one is recorded as such, without its bytes.
func (r *Recorder) ReadFrame(ctx context.Context, max int) (pn532.Frame, error) {
	f, err := r.t.ReadFrame(ctx, max)
	switch {
	case err == nil:
		b, eerr := f.Encode()
		if eerr != nil {
			return f, eerr
		}
		r.add(Event{Dir: '<', Frame: b})
	case errors.Is(err, pn532.ErrChecksum):
		r.add(Event{Dir: '<', Damaged: true})
	case ctx.Err() != nil:
		r.add(Event{Dir: '<'})
	}
	return f, err
}

// Wakeup implements pn532.Transport.
func (r *Recorder) Wakeup(ctx context.Context) error {
	r.add(Event{Dir: '~'})
	return r.t.Wakeup(ctx)
}

// Playback is a pn532.Transport that replays a transcript strictly: every
// frame the host writes must be the next '>' event, byte for byte, every
// read takes the next '<' event, and every wake-up the next '~'. The first
// mismatch fails that call and every later one; Close reports it, and
// reports events left unconsumed.
type Playback struct {
	mu  sync.Mutex
	tr  Transcript
	pos int
	err error
}

// Replay returns a Playback of tr.
func Replay(tr Transcript) *Playback { return &Playback{tr: tr} }

// String implements pn532.Transport.
func (p *Playback) String() string { return "playback" }

func (p *Playback) next(dir byte, what string) (Event, error) {
	if p.err != nil {
		return Event{}, p.err
	}
	if p.pos >= len(p.tr) {
		p.err = fmt.Errorf("pn532test: playback: %s after the end of the transcript", what)
		return Event{}, p.err
	}
	e := p.tr[p.pos]
	if e.Dir != dir {
		p.err = fmt.Errorf("pn532test: playback: event %d: %s, but the transcript has %c % X", p.pos+1, what, e.Dir, e.Frame)
		return Event{}, p.err
	}
	p.pos++
	return e, nil
}

// WriteFrame implements pn532.Transport.
func (p *Playback) WriteFrame(ctx context.Context, frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, err := p.next('>', fmt.Sprintf("host wrote % X", frame))
	if err != nil {
		return err
	}
	if !bytes.Equal(e.Frame, frame) {
		p.err = fmt.Errorf("pn532test: playback: event %d: host wrote % X, want % X", p.pos, frame, e.Frame)
		return p.err
	}
	return nil
}

// ReadFrame implements pn532.Transport; a recorded timeout returns
// context.DeadlineExceeded at once.
func (p *Playback) ReadFrame(ctx context.Context, max int) (pn532.Frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, err := p.next('<', "host read a frame")
	if err != nil {
		return pn532.Frame{}, err
	}
	if e.Damaged {
		return pn532.Frame{}, fmt.Errorf("pn532test: playback: %w", pn532.ErrChecksum)
	}
	if e.Frame == nil {
		return pn532.Frame{}, context.DeadlineExceeded
	}
	f, _, err := pn532.ParseFrame(e.Frame)
	if err != nil {
		return pn532.Frame{}, fmt.Errorf("pn532test: playback: %w", err)
	}
	f.Data = append([]byte(nil), f.Data...)
	return f, nil
}

// Wakeup implements pn532.Transport.
func (p *Playback) Wakeup(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.next('~', "host woke the chip")
	return err
}

// Close reports the first mismatch, or events not consumed.
func (p *Playback) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.pos != len(p.tr) {
		return fmt.Errorf("pn532test: playback: %d of %d events not consumed", len(p.tr)-p.pos, len(p.tr))
	}
	return nil
}
