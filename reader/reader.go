package reader

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Backends wrap them with %w; test with errors.Is.
var (
	// ErrRemoved reports that the target left the field (or was otherwise
	// lost, e.g. its handle became invalid). The Target is dead; wait for
	// the next one with Reader.Wait.
	ErrRemoved = errors.New("reader: target removed")
	// ErrNoReader reports that the reader is absent: never plugged in,
	// unplugged, or unknown by that name.
	ErrNoReader = errors.New("reader: no reader")
	// ErrServiceUnavailable reports that the platform service behind the
	// reader (pcscd for PC/SC) is not running or went away.
	ErrServiceUnavailable = errors.New("reader: service unavailable")
	// ErrTimeout reports that a deadline passed before the operation
	// completed. Errors that wrap it also wrap context.DeadlineExceeded
	// when the deadline came from a context.
	ErrTimeout = errors.New("reader: timeout")
	// ErrClosed reports use of a Reader or Target after Close.
	ErrClosed = errors.New("reader: closed")
	// ErrBadCommand reports a command APDU that cannot be sent: empty,
	// shorter than the 4-byte header, or beyond the reader's Limits.
	ErrBadCommand = errors.New("reader: bad command")
)

// Transceiver sends one command APDU and returns the response APDU (data
// followed by SW1 SW2, ISO/IEC 7816-4 clause 5.1). It is the one-method
// transport the nfc package is written against.
type Transceiver interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// Target is one ISO/IEC 14443-4 target in the reader's field, from its
// arrival until it leaves or Close is called. Its methods may be called
// from one goroutine at a time, except Close, which may be called at any
// time to abandon the target.
type Target interface {
	Transceiver
	// ATR returns the answer-to-reset the reader reported for the target
	// (for a contactless target, the ATR a PC/SC reader synthesises, PC/SC
	// part 3 clause 3.1.3.2.3). The caller must not modify it.
	ATR() []byte
	// Limits returns the APDU limits of the reader the target is on.
	Limits() Limits
	// WaitRemoved blocks until the target has left the field and returns
	// nil, or returns the context's error (wrapping ErrTimeout on a
	// deadline).
	WaitRemoved(ctx context.Context) error
	// Close releases the target (a PC/SC reader powers it down). Transmit
	// after Close returns ErrClosed.
	Close() error
}

// Detector is implemented by targets that know when the reader saw them
// arrive: Detected is the time of the presence event, before the connection
// (power-up, ATR) that made the target usable. The tap's detection phase
// runs from it.
type Detector interface {
	Detected() time.Time
}

// Reader is one NFC reader. Wait and Target.WaitRemoved share the reader's
// event watch and must not run at the same time.
type Reader interface {
	// Name returns the reader's name as the platform reports it.
	Name() string
	// Limits returns the APDU limits of the reader.
	Limits() Limits
	// Wait blocks until a target that has not been returned before is in
	// the field and returns it connected. A target still in the field when
	// Wait is called again is not returned twice; it must leave and come
	// back. Wait returns an error wrapping ErrNoReader when the reader
	// vanishes (a later Wait waits for it to come back), and the context's
	// error when ctx ends.
	Wait(ctx context.Context) (Target, error)
	// Close releases the reader. A blocked Wait returns ErrClosed.
	Close() error
}

// Provider lists readers and opens them.
type Provider interface {
	// List returns the names of the readers present now, in the platform's
	// order. No readers is an empty list, not an error.
	List(ctx context.Context) ([]string, error)
	// Open opens the reader called name, or the first reader present when
	// name is empty, waiting for it to be plugged in until ctx ends (then
	// the error wraps ErrNoReader).
	Open(ctx context.Context, name string) (Reader, error)
}

// CtxErr converts a finished context's error into the package's vocabulary:
// a passed deadline wraps both ErrTimeout and context.DeadlineExceeded, a
// cancellation is returned as is. what names the operation ("waiting for a
// target").
func CtxErr(ctx context.Context, what string) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, errors.Join(ErrTimeout, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// UnavailableError is a reader that cannot be used, told in one line an
// operator acts on: the service is not running, no reader has that name
// (with the ones present), the reader was unplugged. Error returns that line
// alone; Err, reachable with errors.Is and errors.As, wraps
// ErrServiceUnavailable or ErrNoReader and the platform's own error.
type UnavailableError struct {
	// Reason is the one-line cause, e.g. "pcscd is not running (start it:
	// systemctl start pcscd)".
	Reason string
	// Err is the error behind it.
	Err error
}

func (e *UnavailableError) Error() string { return e.Reason }

// Unwrap returns Err.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable returns the UnavailableError in err's chain, or nil.
func Unavailable(err error) *UnavailableError {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue
	}
	return nil
}

// AvailabilityReporter is implemented by a Reader that can tell, while Wait
// blocks for a target, that it became unusable and usable again (a PC/SC
// reader watches pcscd and the reader itself). A daemon uses it to keep its
// health current between taps instead of polling.
type AvailabilityReporter interface {
	// SetAvailability sets the function that Wait calls on each change: a
	// non-nil error (a *UnavailableError saying why) when the reader became
	// unusable, nil when it is usable again. f runs on Wait's goroutine and
	// must not call the Reader.
	SetAvailability(f func(err error))
}
