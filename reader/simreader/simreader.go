package simreader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
)

// Card is what can be put in the simulated field. *wallet.Wallet (package
// holder/wallet) is one.
type Card interface {
	// Transceiver returns the card's in-process APDU interface.
	Transceiver() nfc.Transceiver
	// PowerOn and PowerOff are the field coming up and dropping.
	PowerOn()
	PowerOff()
}

// atr is the answer-to-reset of an ISO/IEC 14443-4 target without historical
// bytes (PC/SC part 3 clause 3.1.3.2.3), what a PC/SC reader shows for a phone.
var atr = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

// Reader is a simulated reader.Reader. Its methods are safe for concurrent
// use.
type Reader struct {
	name   string
	limits reader.Limits

	mu      sync.Mutex
	queue   []*Target
	arrived chan struct{} // signalled (non-blocking) on Put
	closed  chan struct{}
	once    sync.Once
}

// New returns an empty simulated reader called name with the given APDU
// limits (the zero Limits mean extended APDUs of any length).
func New(name string, limits reader.Limits) *Reader {
	if limits == (reader.Limits{}) {
		limits = reader.ExtendedLimits(0, 0)
	}
	return &Reader{name: name, limits: limits, arrived: make(chan struct{}, 1), closed: make(chan struct{})}
}

// Name implements reader.Reader.
func (r *Reader) Name() string { return r.name }

// Limits implements reader.Reader.
func (r *Reader) Limits() reader.Limits { return r.limits }

// Close implements reader.Reader: a blocked Wait returns reader.ErrClosed.
func (r *Reader) Close() error {
	r.once.Do(func() { close(r.closed) })
	return nil
}

// Put brings card into the field: the card is powered on and Wait returns
// its target. The target stays in the field until Remove.
func (r *Reader) Put(card Card) *Target {
	card.PowerOn()
	t := &Target{card: card, t: card.Transceiver(), limits: r.limits, gone: make(chan struct{}), put: time.Now()}
	r.mu.Lock()
	r.queue = append(r.queue, t)
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	return t
}

// Wait implements reader.Reader: it returns the next card put in the field
// that has not left it yet.
func (r *Reader) Wait(ctx context.Context) (reader.Target, error) {
	for {
		r.mu.Lock()
		for len(r.queue) > 0 {
			t := r.queue[0]
			r.queue = r.queue[1:]
			if !t.Removed() {
				r.mu.Unlock()
				return t, nil
			}
		}
		r.mu.Unlock()
		select {
		case <-r.arrived:
		case <-r.closed:
			return nil, fmt.Errorf("simreader: waiting for a target: %w", reader.ErrClosed)
		case <-ctx.Done():
			return nil, reader.CtxErr(ctx, "simreader: waiting for a target")
		}
	}
}

// Target is a card in the simulated field.
type Target struct {
	card   Card
	t      nfc.Transceiver
	limits reader.Limits
	put    time.Time

	mu       sync.Mutex
	closed   bool
	removed  bool
	gone     chan struct{}
	apdus    int
	lastAPDU time.Time
}

// Remove takes the card out of the field: it is powered off, Transmit
// returns reader.ErrRemoved (an exchange in progress is cut short) and
// WaitRemoved returns. Remove is idempotent.
func (t *Target) Remove() {
	t.mu.Lock()
	if t.removed {
		t.mu.Unlock()
		return
	}
	t.removed = true
	close(t.gone)
	t.mu.Unlock()
	t.card.PowerOff()
}

// Removed reports whether the card has left the field.
func (t *Target) Removed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.removed
}

// Activity returns the number of APDUs exchanged and the time of the last
// one (the time the card was put in the field when there was none).
func (t *Target) Activity() (apdus int, last time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.apdus == 0 {
		return 0, t.put
	}
	return t.apdus, t.lastAPDU
}

// ATR implements reader.Target.
func (t *Target) ATR() []byte { return atr }

// Limits implements reader.Target.
func (t *Target) Limits() reader.Limits { return t.limits }

// Transmit implements reader.Target. A card that fails (for instance a
// simulated wallet that left the field on purpose) is removed, as a real
// reader loses a target that stops answering.
func (t *Target) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	t.mu.Lock()
	closed, removed := t.closed, t.removed
	t.mu.Unlock()
	switch {
	case closed:
		return nil, fmt.Errorf("simreader: transmit: %w", reader.ErrClosed)
	case removed:
		return nil, fmt.Errorf("simreader: transmit: %w", reader.ErrRemoved)
	}
	if err := t.limits.CheckCommand(apdu); err != nil {
		return nil, fmt.Errorf("simreader: transmit: %w", err)
	}
	// Removal cuts an exchange short, like a phone taken away mid-APDU.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(goneContext{t.gone}, cancel)
	defer stop()
	resp, err := t.t.Transmit(cctx, apdu)
	t.mu.Lock()
	t.apdus++
	t.lastAPDU = time.Now()
	t.mu.Unlock()
	if t.Removed() {
		return nil, fmt.Errorf("simreader: transmit: %w", reader.ErrRemoved)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, reader.CtxErr(ctx, "simreader: transmit")
		}
		t.Remove()
		return nil, fmt.Errorf("simreader: transmit: %w: %w", reader.ErrRemoved, err)
	}
	if len(resp) > t.limits.MaxResponse && t.limits.MaxResponse > 0 {
		return nil, fmt.Errorf("simreader: response of %d bytes exceeds the reader's %d: %w", len(resp), t.limits.MaxResponse, reader.ErrBadCommand)
	}
	return resp, nil
}

// WaitRemoved implements reader.Target.
func (t *Target) WaitRemoved(ctx context.Context) error {
	select {
	case <-t.gone:
		return nil
	case <-ctx.Done():
		return reader.CtxErr(ctx, "simreader: waiting for removal")
	}
}

// Close implements reader.Target: later Transmits fail with
// reader.ErrClosed; the card stays in the field until Remove.
func (t *Target) Close() error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	return nil
}

// goneContext adapts a channel closed on removal to context.AfterFunc.
type goneContext struct{ ch chan struct{} }

func (g goneContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (g goneContext) Done() <-chan struct{}       { return g.ch }
func (g goneContext) Err() error {
	select {
	case <-g.ch:
		return context.Canceled
	default:
		return nil
	}
}
func (g goneContext) Value(any) any { return nil }

// CycleOptions time Reader.Cycle.
type CycleOptions struct {
	// Interval is the time between one card leaving and the next entering;
	// zero means 3 s.
	Interval time.Duration
	// Linger is how long a card stays after its last APDU; zero means
	// 300 ms.
	Linger time.Duration
	// MaxDwell bounds how long a card stays in the field at all; zero means
	// 30 s.
	MaxDwell time.Duration
	// OnTap, if set, is called after each card left, with its index.
	OnTap func(i int)
}

// ErrNoCards is returned by Cycle without cards.
var ErrNoCards = errors.New("simreader: no cards to cycle")

// Cycle taps cards in turn, round and round, until ctx ends: each enters the
// field, stays until it has been silent for Linger after at least one APDU
// (or MaxDwell passed), leaves, and the next one comes Interval later.
// It returns nil when ctx ends.
func (r *Reader) Cycle(ctx context.Context, opts CycleOptions, cards ...Card) error {
	if len(cards) == 0 {
		return ErrNoCards
	}
	if opts.Interval <= 0 {
		opts.Interval = 3 * time.Second
	}
	if opts.Linger <= 0 {
		opts.Linger = 300 * time.Millisecond
	}
	if opts.MaxDwell <= 0 {
		opts.MaxDwell = 30 * time.Second
	}
	poll := min(opts.Linger/4, 50*time.Millisecond)
	for i := 0; ; i = (i + 1) % len(cards) {
		select {
		case <-ctx.Done():
			return nil
		case <-r.closed:
			return nil
		case <-time.After(opts.Interval):
		}
		t := r.Put(cards[i])
		tick := time.NewTicker(poll)
		for done := false; !done; {
			select {
			case <-ctx.Done():
				done = true
			case <-tick.C:
				n, last := t.Activity()
				done = (n > 0 && time.Since(last) >= opts.Linger) || time.Since(t.put) >= opts.MaxDwell
			}
		}
		tick.Stop()
		t.Remove()
		if opts.OnTap != nil {
			opts.OnTap(i)
		}
	}
}
