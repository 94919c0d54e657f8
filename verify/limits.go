package verify

import (
	"errors"
	"fmt"

	"github.com/idreader/idreader/internal/printsafe"
)

// Bounds on what a Result says about a response. Every string in a Result
// that can hold bytes from the phone (doc types, element identifiers,
// namespaces, certificate subjects, decoder messages) ends up in reports,
// logs, audit lines and event streams; a hostile response must not be able
// to make those large or to hide terminal control sequences in them.
const (
	// MaxErrorEntries is how many individual problems one check lists before
	// it says "… N more".
	MaxErrorEntries = 32
	// MaxDetail is the length in bytes of the text of one error entry
	// (escaped).
	MaxDetail = 256
	// maxErrorText bounds one Detail and the whole message of one check's
	// error: MaxErrorEntries entries and the "… N more" line.
	maxErrorText = (MaxErrorEntries + 1) * (MaxDetail + 8)
)

// boundedError keeps the chain of err (for errors.Is and [CodeOf]) but
// reports a message that is escaped and cut to a bound.
type boundedError struct {
	err error
	msg string
}

func (e *boundedError) Error() string { return e.msg }
func (e *boundedError) Unwrap() error { return e.err }

// bound returns err with its message escaped and cut to max bytes.
func bound(err error, max int) error {
	if err == nil {
		return nil
	}
	if b, ok := err.(*boundedError); ok && len(b.msg) <= max {
		return err
	}
	return &boundedError{err: err, msg: printsafe.Clip(err.Error(), max)}
}

// joinBounded joins at most MaxErrorEntries of errs, each cut to MaxDetail,
// and then says how many were left out. It returns nil for no errors.
func joinBounded(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	n := min(len(errs), MaxErrorEntries)
	kept := make([]error, 0, n+1)
	for _, e := range errs[:n] {
		kept = append(kept, bound(e, MaxDetail))
	}
	if more := len(errs) - n; more > 0 {
		kept = append(kept, fmt.Errorf("… %d more", more))
	}
	return errors.Join(kept...)
}

// clipDetail escapes and cuts a Detail.
func clipDetail(s string) string { return printsafe.Clip(s, maxErrorText) }

// boundFailures keeps at most MaxErrorEntries failures; the rest are counted
// in a last one, which carries the first left-out failure's code and error.
func (r *Result) boundFailures() {
	if len(r.Failures) <= MaxErrorEntries {
		return
	}
	rest := r.Failures[MaxErrorEntries]
	more := len(r.Failures) - MaxErrorEntries
	r.Failures = append(r.Failures[:MaxErrorEntries:MaxErrorEntries], Failure{
		Code: rest.Code, Detail: fmt.Sprintf("… %d more", more), Err: rest.Err,
	})
}

// SafeDocType returns a doc type fit for logs, audit and events when it has
// not been proven: escaped and cut to 64 bytes.
func SafeDocType(docType string) string { return printsafe.Clip(docType, 64) }
