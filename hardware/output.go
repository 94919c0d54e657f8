package hardware

import (
	"context"
	"errors"
)

// ErrClosed is returned by Show on an Output that has been closed.
var ErrClosed = errors.New("hardware: output closed")

// ReasonShower is implemented by outputs that can show why a signal was
// given, such as the console. Reasons are stable reason codes (for example
// "age_not_met", "document_expired"), never personal data: an output may
// write them to a log or a screen anyone can read.
type ReasonShower interface {
	Output
	// ShowReasons is Show with the reason codes of the decision.
	ShowReasons(ctx context.Context, s Signal, reasons []string) error
}

// ShowReasons shows s with its reason codes on o if o is a ReasonShower,
// and plain s otherwise.
func ShowReasons(ctx context.Context, o Output, s Signal, reasons []string) error {
	if r, ok := o.(ReasonShower); ok {
		return r.ShowReasons(ctx, s, reasons)
	}
	return o.Show(ctx, s)
}
