package hardware

import "context"

// Signal is the state a reader's outputs show.
type Signal int

const (
	// SignalOff: everything inert (shutdown).
	SignalOff Signal = iota
	// SignalReady: idle and ready for a phone.
	SignalReady
	// SignalReading: a phone is in the field.
	SignalReading
	// SignalAccept: the check passed (green, accept beep, relay pulse).
	SignalAccept
	// SignalReject: the check failed (red, reject beep).
	SignalReject
	// SignalFault: the reader is down or the tap broke off.
	SignalFault
)

// String names the signal for logs and configuration.
func (s Signal) String() string {
	switch s {
	case SignalOff:
		return "off"
	case SignalReady:
		return "ready"
	case SignalReading:
		return "reading"
	case SignalAccept:
		return "accept"
	case SignalReject:
		return "reject"
	case SignalFault:
		return "fault"
	}
	return "unknown"
}

// Output renders signals for one reader. Show returns once the signal's
// steady state is set; timed patterns (a buzzer beep, a relay pulse) run on
// in the background and are cut short by the next Show. Close leaves every
// output inert.
type Output interface {
	Show(ctx context.Context, s Signal) error
	Close() error
}
