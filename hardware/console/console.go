package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/idreader/idreader/hardware"
)

// Options configure a console Output.
type Options struct {
	// Reader names the reader on every line; "" leaves it out. Control
	// characters and spaces are replaced with '_'.
	Reader string
	// Timestamps starts every line with the Clock's time in TimeLayout.
	Timestamps bool
	// Clock is the time source for Timestamps; nil: hardware.SystemClock().
	Clock hardware.Clock
	// TimeLayout formats timestamps; "": time.RFC3339.
	TimeLayout string
}

// Output writes one line per signal. It is safe for concurrent use, and
// every line is a single Write, so several Outputs may share a writer.
type Output struct {
	w    io.Writer
	opts Options

	mu     sync.Mutex
	closed bool
}

var _ hardware.ReasonShower = (*Output)(nil)

// New returns an Output writing to w.
func New(w io.Writer, opts Options) *Output {
	if opts.Clock == nil {
		opts.Clock = hardware.SystemClock()
	}
	if opts.TimeLayout == "" {
		opts.TimeLayout = time.RFC3339
	}
	opts.Reader = sanitize(opts.Reader)
	return &Output{w: w, opts: opts}
}

// Show writes a line such as "counter-1 READY".
func (o *Output) Show(ctx context.Context, s hardware.Signal) error {
	return o.ShowReasons(ctx, s, nil)
}

// ShowReasons writes a line such as
// "counter-1 REJECT: age_not_met, document_expired". A reason that is not a
// reason code (a lowercase letter, then lowercase letters, digits and
// "_.:-", at most 64 bytes) is written as "invalid_reason".
func (o *Output) ShowReasons(ctx context.Context, s hardware.Signal, reasons []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return hardware.ErrClosed
	}
	if _, err := io.WriteString(o.w, o.line(s, reasons)); err != nil {
		return fmt.Errorf("console: writing %s: %w", s, err)
	}
	return nil
}

// Close stops the Output; it writes nothing and does not close the writer.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	return nil
}

func (o *Output) line(s hardware.Signal, reasons []string) string {
	var b strings.Builder
	if o.opts.Timestamps {
		b.WriteString(o.opts.Clock.Now().Format(o.opts.TimeLayout))
		b.WriteByte(' ')
	}
	if o.opts.Reader != "" {
		b.WriteString(o.opts.Reader)
		b.WriteByte(' ')
	}
	name := strings.ToUpper(s.String())
	if name == "UNKNOWN" {
		name = fmt.Sprintf("UNKNOWN(%d)", int(s))
	}
	b.WriteString(name)
	for i, r := range reasons {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		if !isCode(r) {
			r = "invalid_reason"
		}
		b.WriteString(r)
	}
	b.WriteByte('\n')
	return b.String()
}

// isCode reports whether r looks like a stable reason code.
func isCode(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	if r[0] < 'a' || r[0] > 'z' {
		return false // codes start with a letter, dates and numbers do not
	}
	for _, c := range []byte(r) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '.', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// sanitize keeps a reader name on one line and one field.
func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '_'
		}
		return r
	}, name)
}
