package gpio

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ReadyMode is what the green indicator does while the reader is idle.
type ReadyMode string

// Ready modes.
const (
	ReadySteady ReadyMode = "steady" // green on
	ReadyBlink  ReadyMode = "blink"  // green blinks with Config.ReadyBlink
	ReadyDark   ReadyMode = "off"    // green off
)

// Defaults applied by Config.WithDefaults to zero fields, and limits.
const (
	// DefaultHold is the default AcceptHold and RejectHold.
	DefaultHold = 3 * time.Second
	// DefaultRelayPulse is the default RelayPulse.
	DefaultRelayPulse = 500 * time.Millisecond
	// MaxRelayPulse bounds RelayPulse so that a typo cannot hold a door open.
	MaxRelayPulse = time.Minute
	// MaxPatternSteps bounds the length of every beep or blink pattern.
	MaxPatternSteps = 64
)

// Default patterns (on, off, on, ... durations), documented on the Config
// fields; WithDefaults copies them.
var (
	defaultReadyBlink   = []time.Duration{100 * time.Millisecond, 1900 * time.Millisecond}
	defaultReadingBlink = []time.Duration{125 * time.Millisecond, 125 * time.Millisecond}
	defaultAcceptBeep   = []time.Duration{100 * time.Millisecond}
	defaultRejectBeep   = []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}
	defaultFaultBlink   = []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}
	defaultFaultBeep    = []time.Duration{500 * time.Millisecond}
)

// Config names the pins and the timings of one reader's GPIO outputs.
//
// Patterns are lists of durations: on, off, on, ... A one-shot pattern (a
// beep) ends off, so a trailing off duration is ignored; a repeating pattern
// (a blink) must have an even length. For every pattern field, nil takes
// the default and an empty non-nil list means none (silent buzzer, or a
// steady indicator for a blink).
type Config struct {
	// Green, Red, Buzzer and Relay are periph pin names ("GPIO17", "P1_11",
	// or whatever the host's gpioreg knows); "" means not fitted. At least
	// one must be set and no two may be the same.
	Green, Red, Buzzer, Relay string
	// The ActiveLow flags mark pins whose device is on when the pin is Low
	// (common for relay boards); the inactive level is then High.
	GreenActiveLow, RedActiveLow, BuzzerActiveLow, RelayActiveLow bool

	// Ready is the green indicator while idle; default ReadySteady.
	Ready ReadyMode
	// ReadyBlink is the repeating green pattern for ReadyBlink mode;
	// default 100ms on, 1900ms off.
	ReadyBlink []time.Duration
	// ReadingBlink is the repeating green pattern while a phone is read;
	// default 125ms on, 125ms off; empty: green steady.
	ReadingBlink []time.Duration

	// AcceptHold is how long green stays on after an accept, RejectHold how
	// long red stays on after a reject; default 3s each; negative: until
	// the next signal.
	AcceptHold, RejectHold time.Duration
	// AcceptBeep and RejectBeep are the buzzer patterns; default one 100ms
	// beep for accept and three 100ms beeps for reject.
	AcceptBeep, RejectBeep []time.Duration
	// RelayPulse is how long the relay is on after an accept; default
	// 500ms, at most MaxRelayPulse.
	RelayPulse time.Duration

	// FaultBlink is the repeating red pattern on a fault; default 250ms on,
	// 250ms off; empty: red steady.
	FaultBlink []time.Duration
	// FaultBeep is the buzzer pattern on a fault; default one 500ms beep.
	FaultBeep []time.Duration
}

// WithDefaults returns a copy of c with defaults in its zero fields. It
// never modifies c or the slices it refers to.
func (c Config) WithDefaults() Config {
	if c.Ready == "" {
		c.Ready = ReadySteady
	}
	if c.AcceptHold == 0 {
		c.AcceptHold = DefaultHold
	}
	if c.RejectHold == 0 {
		c.RejectHold = DefaultHold
	}
	if c.RelayPulse == 0 {
		c.RelayPulse = DefaultRelayPulse
	}
	pattern := func(p, def []time.Duration) []time.Duration {
		if p == nil {
			return slices.Clone(def)
		}
		return slices.Clone(p)
	}
	c.ReadyBlink = pattern(c.ReadyBlink, defaultReadyBlink)
	c.ReadingBlink = pattern(c.ReadingBlink, defaultReadingBlink)
	c.AcceptBeep = pattern(c.AcceptBeep, defaultAcceptBeep)
	c.RejectBeep = pattern(c.RejectBeep, defaultRejectBeep)
	c.FaultBlink = pattern(c.FaultBlink, defaultFaultBlink)
	c.FaultBeep = pattern(c.FaultBeep, defaultFaultBeep)
	return c
}

// Validate checks a Config after WithDefaults. The errors name the field.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]string{}
	fitted := 0
	for _, p := range []struct{ field, name string }{
		{"Green", c.Green}, {"Red", c.Red}, {"Buzzer", c.Buzzer}, {"Relay", c.Relay},
	} {
		if p.name == "" {
			continue
		}
		fitted++
		if other, ok := seen[p.name]; ok {
			errs = append(errs, fmt.Errorf("gpio: %s: pin %q is already used by %s", p.field, p.name, other))
		}
		seen[p.name] = p.field
	}
	if fitted == 0 {
		errs = append(errs, errors.New("gpio: no pins configured (set Green, Red, Buzzer or Relay)"))
	}
	switch c.Ready {
	case ReadySteady, ReadyBlink, ReadyDark:
	default:
		errs = append(errs, fmt.Errorf("gpio: Ready: unknown mode %q (want %q, %q or %q)", c.Ready, ReadySteady, ReadyBlink, ReadyDark))
	}
	if c.AcceptHold == 0 {
		errs = append(errs, errors.New("gpio: AcceptHold: must not be zero"))
	}
	if c.RejectHold == 0 {
		errs = append(errs, errors.New("gpio: RejectHold: must not be zero"))
	}
	if c.RelayPulse <= 0 || c.RelayPulse > MaxRelayPulse {
		errs = append(errs, fmt.Errorf("gpio: RelayPulse: %v is not in (0, %v]", c.RelayPulse, MaxRelayPulse))
	}
	for _, p := range []struct {
		field   string
		steps   []time.Duration
		repeats bool
	}{
		{"ReadyBlink", c.ReadyBlink, true},
		{"ReadingBlink", c.ReadingBlink, true},
		{"AcceptBeep", c.AcceptBeep, false},
		{"RejectBeep", c.RejectBeep, false},
		{"FaultBlink", c.FaultBlink, true},
		{"FaultBeep", c.FaultBeep, false},
	} {
		if err := validatePattern(p.steps, p.repeats); err != nil {
			errs = append(errs, fmt.Errorf("gpio: %s: %w", p.field, err))
		}
	}
	if c.Ready == ReadyBlink && len(c.ReadyBlink) == 0 {
		errs = append(errs, errors.New("gpio: ReadyBlink: empty pattern for Ready mode \"blink\""))
	}
	return errors.Join(errs...)
}

func validatePattern(steps []time.Duration, repeats bool) error {
	if len(steps) > MaxPatternSteps {
		return fmt.Errorf("%d steps, more than %d", len(steps), MaxPatternSteps)
	}
	for i, d := range steps {
		if d <= 0 {
			return fmt.Errorf("step %d: duration %v is not positive", i, d)
		}
	}
	if repeats && len(steps)%2 != 0 {
		return fmt.Errorf("a repeating pattern needs on/off pairs, got %d steps", len(steps))
	}
	return nil
}
