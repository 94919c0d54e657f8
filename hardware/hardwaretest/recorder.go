package hardwaretest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/idreader/idreader/hardware"
)

// Shown is one Show call a Recorder received.
type Shown struct {
	// At is the clock time of the call, relative to the Recorder's creation.
	At      time.Duration
	Signal  hardware.Signal
	Reasons []string // from ShowReasons; nil from Show
	// Err is the error the Recorder was told to return for this call, if
	// any (the call is recorded either way).
	Err error
}

// Recorder is a hardware.Output (and hardware.ReasonShower) that records
// every signal with its clock time. It can be told to fail Show or Close.
// It is safe for concurrent use.
type Recorder struct {
	clock hardware.Clock
	start time.Time

	mu       sync.Mutex
	shown    []Shown
	closed   bool
	closes   int
	failAll  error
	failOn   map[hardware.Signal]error
	closeErr error
}

var _ hardware.ReasonShower = (*Recorder)(nil)

// NewRecorder returns a Recorder timing calls with clock (nil: the system
// clock).
func NewRecorder(clock hardware.Clock) *Recorder {
	if clock == nil {
		clock = hardware.SystemClock()
	}
	return &Recorder{clock: clock, start: clock.Now(), failOn: map[hardware.Signal]error{}}
}

// Show records s. It returns ctx.Err() without recording if ctx is done,
// hardware.ErrClosed after Close, and otherwise the error set by Fail or
// FailOn (recording the call).
func (r *Recorder) Show(ctx context.Context, s hardware.Signal) error {
	return r.show(ctx, s, nil)
}

// ShowReasons is Show that also records the reason codes.
func (r *Recorder) ShowReasons(ctx context.Context, s hardware.Signal, reasons []string) error {
	return r.show(ctx, s, slices.Clone(reasons))
}

func (r *Recorder) show(ctx context.Context, s hardware.Signal, reasons []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return hardware.ErrClosed
	}
	err := r.failAll
	if e, ok := r.failOn[s]; ok && e != nil {
		err = e
	}
	r.shown = append(r.shown, Shown{At: r.clock.Now().Sub(r.start), Signal: s, Reasons: reasons, Err: err})
	return err
}

// Close marks the Recorder closed and returns the error set by FailClose.
// Closing twice is allowed and counted.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.closes++
	return r.closeErr
}

// Fail makes every following Show return err (nil: succeed again).
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failAll = err
}

// FailOn makes every following Show of s return err (nil: succeed again).
func (r *Recorder) FailOn(s hardware.Signal, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failOn[s] = err
}

// FailClose makes Close return err.
func (r *Recorder) FailClose(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeErr = err
}

// Shown returns a copy of every recorded call, oldest first.
func (r *Recorder) Shown() []Shown {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.shown)
}

// Signals returns the recorded signals, oldest first.
func (r *Recorder) Signals() []hardware.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]hardware.Signal, len(r.shown))
	for i, s := range r.shown {
		out[i] = s.Signal
	}
	return out
}

// Last returns the most recently recorded signal, false if there is none.
func (r *Recorder) Last() (hardware.Signal, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.shown) == 0 {
		return hardware.SignalOff, false
	}
	return r.shown[len(r.shown)-1].Signal, true
}

// Closed reports how many times Close was called.
func (r *Recorder) Closed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closes
}
