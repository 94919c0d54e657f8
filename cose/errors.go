package cose

import (
	"errors"
	"fmt"
)

// The kinds of failure. Every error of this package is an [*Error] whose
// Kind is one of them; errors.Is(err, ErrMalformed) works.
var (
	// ErrMalformed: the bytes are not a COSE message of the expected shape.
	ErrMalformed = errors.New("cose: malformed")
	// ErrUnsupported: an algorithm, key type or critical header this package
	// does not implement, or an algorithm used with a key it is not bound to.
	ErrUnsupported = errors.New("cose: unsupported")
	// ErrVerify: the signature or MAC tag does not verify.
	ErrVerify = errors.New("cose: verification failed")
)

// Error is a failure of one kind with a detail. Its text is
// "<kind>: <detail>"; callers that report in their own words may use Detail
// alone.
type Error struct {
	Kind   error
	Detail string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Detail }

// Unwrap returns the kind.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
