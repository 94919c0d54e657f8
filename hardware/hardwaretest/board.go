package hardwaretest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/idreader/idreader/hardware"
)

// PinEvent is one level written to a Board pin.
type PinEvent struct {
	// At is the clock time of the write, relative to the Board's creation.
	At    time.Duration
	Pin   string
	Level gpio.Level
}

// String formats the event as "+100ms GPIO17 High" for test failures.
func (e PinEvent) String() string { return fmt.Sprintf("+%v %s %s", e.At, e.Pin, e.Level) }

// Board is a set of named periph gpiotest pins that share one log of the
// levels written to them, timed by a clock (a *Clock in tests). Its Lookup
// method fits hardware/gpio's Options.Lookup. It is safe for concurrent
// use.
type Board struct {
	clock hardware.Clock
	start time.Time

	mu   sync.Mutex
	pins map[string]*boardPin
	log  []PinEvent
	fail map[string]error
}

// NewBoard returns a board with one pin per name, all Low, timed by clock
// (nil: the system clock).
func NewBoard(clock hardware.Clock, names ...string) *Board {
	if clock == nil {
		clock = hardware.SystemClock()
	}
	b := &Board{clock: clock, start: clock.Now(), pins: map[string]*boardPin{}, fail: map[string]error{}}
	for i, n := range names {
		b.pins[n] = &boardPin{Pin: &gpiotest.Pin{N: n, Num: i, L: gpio.Low}, b: b}
	}
	return b
}

// Lookup returns the pin called name, or an error if the board has none.
func (b *Board) Lookup(name string) (gpio.PinIO, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.pins[name]
	if !ok {
		return nil, fmt.Errorf("hardwaretest: no pin %q on the board", name)
	}
	return p, nil
}

// Level returns the level of the named pin (Low for a pin not on the board).
func (b *Board) Level(name string) gpio.Level {
	b.mu.Lock()
	p, ok := b.pins[name]
	b.mu.Unlock()
	if !ok {
		return gpio.Low
	}
	return p.Read()
}

// Log returns a copy of every successful write, oldest first.
func (b *Board) Log() []PinEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.log)
}

// ResetLog forgets the writes logged so far.
func (b *Board) ResetLog() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = nil
}

// Fail makes writes to the named pin fail with err, leaving its level as
// it was (nil: succeed again).
func (b *Board) Fail(name string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail[name] = err
}

// boardPin is a gpiotest.Pin whose writes are logged and can fail.
type boardPin struct {
	*gpiotest.Pin
	b *Board
}

// Out writes l unless the board was told to fail this pin, and logs it.
func (p *boardPin) Out(l gpio.Level) error {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	if err := p.b.fail[p.N]; err != nil {
		return err
	}
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	p.b.log = append(p.b.log, PinEvent{At: p.b.clock.Now().Sub(p.b.start), Pin: p.N, Level: l})
	return nil
}
