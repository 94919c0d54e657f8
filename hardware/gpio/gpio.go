package gpio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/idreader/idreader/hardware"
)

// Options are the dependencies of New.
type Options struct {
	// Lookup returns the pin with a periph name. Required for New; Open
	// defaults it to the host's gpioreg.ByName. Tests pass
	// hardwaretest.Board.Lookup.
	Lookup func(name string) (gpio.PinIO, error)
	// Clock times the patterns; nil: hardware.SystemClock().
	Clock hardware.Clock
	// OnError receives errors from pin writes made in the background by a
	// running pattern. When nil, the first such error is kept and returned
	// by the next Show or Close.
	OnError func(error)
}

// role is one of the four outputs; the order is the order in which pins
// are switched on (and the reverse of the order they are switched off).
type role int

const (
	roleGreen role = iota
	roleRed
	roleBuzzer
	roleRelay
	numRoles
)

var roleNames = [numRoles]string{"green", "red", "buzzer", "relay"}

// line is one fitted pin.
type line struct {
	role      role
	name      string
	pin       gpio.PinIO
	activeLow bool
	known     bool // the level last written succeeded, so active is true to the pin
	active    bool
}

func (l *line) level(active bool) gpio.Level {
	return gpio.Level(active != l.activeLow)
}

// write drives the pin; unless force is set it skips a write that would not
// change a known level.
func (l *line) write(active, force bool) error {
	if !force && l.known && l.active == active {
		return nil
	}
	lv := l.level(active)
	if err := l.pin.Out(lv); err != nil {
		l.known = false
		return fmt.Errorf("gpio: writing %s to %s pin %s: %w", lv, roleNames[l.role], l.name, err)
	}
	l.known, l.active = true, active
	return nil
}

// track is what one output does for a signal: steady on or off, or a
// pattern of on, off, ... durations starting on at the Show.
type track struct {
	on      bool
	steps   []time.Duration
	repeats bool
}

// Output is a hardware.Output on GPIO pins. It is safe for concurrent use.
type Output struct {
	cfg     Config
	clock   hardware.Clock
	onError func(error)

	mu     sync.Mutex
	lines  [numRoles]*line
	gen    uint64 // bumped by every Show and Close; stale timers see a newer one
	timers [numRoles]hardware.Timer
	closed bool
	bgErr  error
}

var _ hardware.Output = (*Output)(nil)

// New returns an Output on the pins named in cfg (after cfg.WithDefaults
// and Validate), looked up with opts.Lookup. Every fitted pin is driven to
// its inactive level before New returns; on an error, the pins already
// looked up are driven inactive again and nothing is kept.
func New(cfg Config, opts Options) (*Output, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Lookup == nil {
		return nil, errors.New("gpio: Options.Lookup is nil (Open uses the host's pins)")
	}
	o := &Output{cfg: cfg, clock: opts.Clock, onError: opts.OnError}
	if o.clock == nil {
		o.clock = hardware.SystemClock()
	}
	pins := [numRoles]struct {
		name      string
		activeLow bool
	}{
		roleGreen:  {cfg.Green, cfg.GreenActiveLow},
		roleRed:    {cfg.Red, cfg.RedActiveLow},
		roleBuzzer: {cfg.Buzzer, cfg.BuzzerActiveLow},
		roleRelay:  {cfg.Relay, cfg.RelayActiveLow},
	}
	for r, p := range pins {
		if p.name == "" {
			continue
		}
		pin, err := opts.Lookup(p.name)
		if err == nil && pin == nil {
			err = errors.New("gpio: lookup returned no pin")
		}
		if err == nil {
			l := &line{role: role(r), name: p.name, pin: pin, activeLow: p.activeLow}
			o.lines[r] = l
			err = l.write(false, true)
		}
		if err != nil {
			err = fmt.Errorf("gpio: opening %s pin %q: %w", roleNames[r], p.name, err)
			return nil, errors.Join(err, o.allOff())
		}
	}
	return o, nil
}

// Config returns the configuration in use, defaults filled in.
func (o *Output) Config() Config { return o.cfg.WithDefaults() }

// Show cuts short the running pattern, sets the initial levels of s and
// starts its timed pattern. It returns ctx.Err() if ctx is done,
// hardware.ErrClosed after Close, the errors of the pin writes it made, and
// a background write error kept since the last call (see Options.OnError).
// Pins that fail are retried by the next Show.
func (o *Output) Show(ctx context.Context, s hardware.Signal) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	plan, err := o.plan(s)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return hardware.ErrClosed
	}
	o.stopLocked()
	errs := []error{o.takeBgErrLocked()}
	start := o.clock.Now()
	force := s == hardware.SignalOff
	// Switch off first (the relay before anything else), then on.
	for r := numRoles - 1; r >= 0; r-- {
		if l := o.lines[r]; l != nil && !plan[r].on {
			errs = append(errs, l.write(false, force))
		}
	}
	for r := range numRoles {
		if l := o.lines[r]; l != nil && plan[r].on {
			errs = append(errs, l.write(true, force))
		}
	}
	for r := range numRoles {
		if o.lines[r] != nil && len(plan[r].steps) > 0 {
			o.scheduleLocked(o.gen, r, plan[r], 0, start.Add(plan[r].steps[0]))
		}
	}
	return errors.Join(errs...)
}

// Close stops the running pattern and drives every pin to its inactive
// level. It returns the errors of those writes and a kept background
// error. A second Close does nothing.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	o.stopLocked()
	return errors.Join(o.takeBgErrLocked(), o.allOffLocked())
}

func (o *Output) allOff() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.allOffLocked()
}

func (o *Output) allOffLocked() error {
	var errs []error
	for r := numRoles - 1; r >= 0; r-- {
		if l := o.lines[r]; l != nil {
			errs = append(errs, l.write(false, true))
		}
	}
	return errors.Join(errs...)
}

func (o *Output) takeBgErrLocked() error {
	err := o.bgErr
	o.bgErr = nil
	if err != nil {
		return fmt.Errorf("gpio: earlier pattern: %w", err)
	}
	return nil
}

// stopLocked invalidates the running pattern.
func (o *Output) stopLocked() {
	o.gen++
	for r, t := range o.timers {
		if t != nil {
			t.Stop()
			o.timers[r] = nil
		}
	}
}

// scheduleLocked arranges for step i of t on role r to end at deadline.
// Deadlines are absolute so that a slow callback does not stretch the
// pattern.
func (o *Output) scheduleLocked(gen uint64, r role, t track, i int, deadline time.Time) {
	o.timers[r] = o.clock.AfterFunc(deadline.Sub(o.clock.Now()), func() {
		o.fire(gen, r, t, i, deadline)
	})
}

// fire ends step i of t: an even step was on, an odd step off.
func (o *Output) fire(gen uint64, r role, t track, i int, deadline time.Time) {
	o.mu.Lock()
	if o.closed || o.gen != gen {
		o.mu.Unlock()
		return
	}
	o.timers[r] = nil
	next := i + 1
	if t.repeats {
		next %= len(t.steps)
	}
	// A one-shot pattern ends off: after its last on step, or after the
	// on step before a trailing off.
	last := !t.repeats && (next >= len(t.steps) || (i%2 == 0 && next == len(t.steps)-1))
	err := o.lines[r].write(i%2 == 1, false)
	if !last {
		o.scheduleLocked(gen, r, t, next, deadline.Add(t.steps[next]))
	}
	report := o.onError
	if err != nil && report == nil && o.bgErr == nil {
		o.bgErr = err
	}
	o.mu.Unlock()
	if err != nil && report != nil {
		report(err)
	}
}

// plan returns what each output does for s.
func (o *Output) plan(s hardware.Signal) ([numRoles]track, error) {
	c := &o.cfg
	var p [numRoles]track
	hold := func(d time.Duration) track {
		if d < 0 {
			return track{on: true}
		}
		return track{on: true, steps: []time.Duration{d}}
	}
	pattern := func(steps []time.Duration, repeats bool) track {
		return track{on: len(steps) > 0, steps: steps, repeats: repeats}
	}
	blink := func(steps []time.Duration) track {
		if len(steps) == 0 {
			return track{on: true} // steady
		}
		return pattern(steps, true)
	}
	switch s {
	case hardware.SignalOff:
	case hardware.SignalReady:
		switch c.Ready {
		case ReadySteady:
			p[roleGreen] = track{on: true}
		case ReadyBlink:
			p[roleGreen] = blink(c.ReadyBlink)
		}
	case hardware.SignalReading:
		p[roleGreen] = blink(c.ReadingBlink)
	case hardware.SignalAccept:
		p[roleGreen] = hold(c.AcceptHold)
		p[roleBuzzer] = pattern(c.AcceptBeep, false)
		p[roleRelay] = hold(c.RelayPulse)
	case hardware.SignalReject:
		p[roleRed] = hold(c.RejectHold)
		p[roleBuzzer] = pattern(c.RejectBeep, false)
	case hardware.SignalFault:
		p[roleRed] = blink(c.FaultBlink)
		p[roleBuzzer] = pattern(c.FaultBeep, false)
	default:
		return p, fmt.Errorf("gpio: unknown signal %d", int(s))
	}
	return p, nil
}
