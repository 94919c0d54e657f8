package readertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/idreader/idreader/reader"
)

// Step is one expected exchange of a Script.
type Step struct {
	// Command is the exact command APDU expected.
	Command []byte
	// Response is returned when Err is nil.
	Response []byte
	// Err is returned instead of a response. An error wrapping
	// reader.ErrRemoved also takes the target out of the field.
	Err error
}

// Script is a scripted fake reader.Target: each Transmit must send the next
// Step's command, and gets its response or error. A command that differs,
// or comes after the last step, fails with an error (and Close reports it).
type Script struct {
	mu      sync.Mutex
	steps   []Step
	pos     int
	errs    []error
	removed chan struct{}
	once    sync.Once
	closed  bool

	// ATRBytes is returned by ATR (vpcd's ATR when nil).
	ATRBytes []byte
	// Lim is returned by Limits (extended APDUs of any length when zero).
	Lim reader.Limits
}

// NewScript returns a Script expecting steps in order.
func NewScript(steps ...Step) *Script {
	return &Script{steps: steps, removed: make(chan struct{})}
}

// Expect appends an exchange: command, answered with response.
func (s *Script) Expect(command, response []byte) *Script {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, Step{Command: command, Response: response})
	return s
}

// ExpectErr appends an exchange answered with err.
func (s *Script) ExpectErr(command []byte, err error) *Script {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, Step{Command: command, Err: err})
	return s
}

// Remove takes the target out of the field now: Transmit returns
// reader.ErrRemoved and WaitRemoved returns.
func (s *Script) Remove() { s.once.Do(func() { close(s.removed) }) }

func (s *Script) isRemoved() bool {
	select {
	case <-s.removed:
		return true
	default:
		return false
	}
}

// Transmit implements reader.Target.
func (s *Script) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := s.Limits().CheckCommand(apdu); err != nil {
		return nil, fmt.Errorf("readertest: %w", err)
	}
	if ctx.Err() != nil {
		return nil, reader.CtxErr(ctx, "readertest: transmitting")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, fmt.Errorf("readertest: transmitting: %w", reader.ErrClosed)
	case s.isRemoved():
		return nil, fmt.Errorf("readertest: transmitting: %w", reader.ErrRemoved)
	case s.pos >= len(s.steps):
		err := fmt.Errorf("readertest: unexpected command %X after the last of %d steps", apdu, len(s.steps))
		s.errs = append(s.errs, err)
		return nil, err
	}
	st := s.steps[s.pos]
	if !bytes.Equal(apdu, st.Command) {
		err := fmt.Errorf("readertest: step %d: sent %X, want %X", s.pos, apdu, st.Command)
		s.errs = append(s.errs, err)
		return nil, err
	}
	s.pos++
	if st.Err != nil {
		if errors.Is(st.Err, reader.ErrRemoved) {
			s.Remove()
		}
		return nil, st.Err
	}
	return slices.Clone(st.Response), nil
}

// ATR implements reader.Target.
func (s *Script) ATR() []byte {
	if s.ATRBytes == nil {
		return []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
	}
	return s.ATRBytes
}

// Limits implements reader.Target.
func (s *Script) Limits() reader.Limits {
	if s.Lim == (reader.Limits{}) {
		return reader.ExtendedLimits(0, 0)
	}
	return s.Lim
}

// WaitRemoved implements reader.Target: it returns once Remove was called or
// a step's error removed the target.
func (s *Script) WaitRemoved(ctx context.Context) error {
	select {
	case <-s.removed:
		return nil
	case <-ctx.Done():
		return reader.CtxErr(ctx, "readertest: waiting for removal")
	}
}

// Remaining returns the number of steps not yet consumed.
func (s *Script) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.steps) - s.pos
}

// Close implements reader.Target. It fails when a command did not match or
// steps were left unconsumed.
func (s *Script) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	errs := slices.Clone(s.errs)
	if n := len(s.steps) - s.pos; n > 0 {
		errs = append(errs, fmt.Errorf("readertest: %d of %d steps not consumed, next %X", n, len(s.steps), s.steps[s.pos].Command))
	}
	return errors.Join(errs...)
}

// Reader is a fake reader.Reader: Wait returns the targets given to Insert,
// in order.
type Reader struct {
	// ReaderName is returned by Name.
	ReaderName string
	// Lim is returned by Limits.
	Lim reader.Limits

	queue  chan reader.Target
	closed chan struct{}
	once   sync.Once
}

// NewReader returns a fake reader with room for 16 queued targets.
func NewReader(name string, limits reader.Limits) *Reader {
	return &Reader{ReaderName: name, Lim: limits, queue: make(chan reader.Target, 16), closed: make(chan struct{})}
}

// Insert queues a target for Wait.
func (r *Reader) Insert(t reader.Target) { r.queue <- t }

// Name implements reader.Reader.
func (r *Reader) Name() string { return r.ReaderName }

// Limits implements reader.Reader.
func (r *Reader) Limits() reader.Limits { return r.Lim }

// Wait implements reader.Reader.
func (r *Reader) Wait(ctx context.Context) (reader.Target, error) {
	select {
	case <-r.closed:
		return nil, fmt.Errorf("readertest: waiting for a target: %w", reader.ErrClosed)
	default:
	}
	select {
	case t := <-r.queue:
		return t, nil
	case <-r.closed:
		return nil, fmt.Errorf("readertest: waiting for a target: %w", reader.ErrClosed)
	case <-ctx.Done():
		return nil, reader.CtxErr(ctx, "readertest: waiting for a target")
	}
}

// Close implements reader.Reader.
func (r *Reader) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}
