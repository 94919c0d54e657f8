package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// EventKind names what happened at a reader. The daemon's event stream, its
// metrics, the kiosk display and the GPIO outputs are all driven by events.
type EventKind string

// Event kinds, in the order a tap produces them.
const (
	EventReaderUp   EventKind = "reader_up"   // the reader is present and watched
	EventReaderDown EventKind = "reader_down" // the reader vanished or pcscd is down
	EventReady      EventKind = "ready"       // idle, waiting for a phone
	EventReading    EventKind = "reading"     // a phone is in the field, the exchange runs
	EventDecision   EventKind = "decision"    // the tap ended: accept or reject with reasons
	EventRemoved    EventKind = "removed"     // the phone left the field after the tap
)

// Event is one thing that happened at a reader. Events carry no personal
// data, so they may be logged, counted and streamed to any subscriber;
// Personal is the one exception and is only set for a display that a
// profile allows to show the holder's face and name: loggers, metrics and
// the point-of-sale event stream must ignore it.
type Event struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Reader  string    `json:"reader"`
	Kind    EventKind `json:"kind"`
	Profile string    `json:"profile,omitempty"`
	// CheckID identifies the point-of-sale check the tap answered, if any.
	CheckID string `json:"checkId,omitempty"`
	// Decision is "accept" or "reject" for EventDecision.
	Decision string `json:"decision,omitempty"`
	// Reasons are stable reason codes (verification, policy or tap codes).
	Reasons []string `json:"reasons,omitempty"`
	// DocType and IssuerCountry describe the document without identifying
	// its holder.
	DocType       string `json:"docType,omitempty"`
	IssuerCountry string `json:"issuerCountry,omitempty"`
	// Engagement is terminal.EngagementNFC or terminal.EngagementQR, and Transport the data
	// retrieval the tap used (empty when it failed before choosing one).
	Engagement string             `json:"engagement,omitempty"`
	Transport  terminal.Transport `json:"transport,omitempty"`
	// Steps are the durations of the tap's steps (engagement, session,
	// request, verify, decide), and Total the time from tap to decision.
	Steps []terminal.StepTime `json:"-"`
	Total time.Duration       `json:"-"`
	// Timing is the duration of each phase of the tap, detection to
	// output (the terminal's phases, then decision and output); no
	// personal data.
	Timing terminal.Timing `json:"-"`
	// Personal is for the kiosk display only (never logged or streamed).
	Personal *Personal `json:"-"`
}

// Personal is what a clerk needs to compare the holder with the document,
// shown for a few seconds on the kiosk display and then cleared.
type Personal struct {
	Name     string
	Portrait []byte // JPEG or JPEG 2000, as disclosed
}

// CheckRequest asks the daemon for one check: the next tap on the reader
// (empty: the only or first reader) is read with the named profile.
type CheckRequest struct {
	Profile string        `json:"profile"`
	Timeout time.Duration `json:"-"`
	Reader  string        `json:"reader,omitempty"`
}

// CheckResult is the answer to a check: the verification report in the
// same JSON shape as `idreader verify` (verdict, documents, errors) plus the
// policy decision and its reasons. It holds the disclosed personal data and
// goes only to the caller that asked for the check.
type CheckResult struct {
	ID      string `json:"id"`
	Reader  string `json:"reader"`
	Profile string `json:"profile"`
	verify.Report
	Decision string    `json:"decision"`
	Reasons  []string  `json:"reasons"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

// ReaderStatus is the state of one configured reader.
type ReaderStatus struct {
	Name  string    `json:"name"`
	Up    bool      `json:"up"`
	State EventKind `json:"state"`
	// Engagement is how a tap starts: terminal.EngagementNFC or terminal.EngagementQR.
	Engagement string `json:"engagement"`
	// BLE is empty when the reader has no Bluetooth LE radio, "ok" when it
	// had one at its last use, and otherwise why it is unavailable (an NFC
	// reader then offers NFC only).
	BLE string `json:"ble,omitempty"`
	// Reason says, in one line, why a reader that is down is down (for
	// example "pcscd is not running (start it: systemctl start pcscd)");
	// empty while it is up.
	Reason string `json:"reason,omitempty"`
}

// Errors of the Service.
var (
	ErrUnknownProfile = errors.New("daemon: unknown profile")
	ErrUnknownReader  = errors.New("daemon: unknown reader")
	ErrBusy           = errors.New("daemon: a check is already waiting on this reader")
	ErrCancelled      = errors.New("daemon: check cancelled")
)

// Service is what the running daemon offers the point-of-sale API and the
// kiosk display.
type Service interface {
	// Check arms the reader for one tap with the profile and waits for its
	// result, the request's timeout or ctx, whichever comes first.
	Check(ctx context.Context, req CheckRequest) (*CheckResult, error)
	// LastResult returns the result of the last completed check.
	LastResult() (*CheckResult, bool)
	// CancelCurrent cancels the checks waiting for a tap; it reports
	// whether there was one.
	CancelCurrent() bool
	// Subscribe streams events until cancel is called; a slow subscriber
	// loses events rather than slowing a reader down.
	Subscribe(buffer int) (events <-chan Event, cancel func())
	// Readers reports the configured readers.
	Readers() []ReaderStatus
}
