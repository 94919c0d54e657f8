package vical

import (
	"errors"
	"fmt"

	"github.com/idreader/idreader/reason"
)

// The reason codes a VICAL verification fails with (their texts: package
// reason).
const (
	// CodeMalformed: the VICAL does not decode, is not a COSE_Sign1 or
	// lacks a required member.
	CodeMalformed = reason.VICALMalformed
	// CodeSignature: the COSE_Sign1 signature does not verify with the
	// signer certificate's key.
	CodeSignature = reason.VICALSignature
	// CodeUntrusted: the signer certificate does not chain through the
	// x5chain to a configured VICAL anchor.
	CodeUntrusted = reason.VICALUntrusted
	// CodeProfile: the signer certificate breaks the VICAL signer profile
	// (EKU 1.0.18013.5.1.8, digitalSignature, not a CA).
	CodeProfile = reason.VICALProfile
	// CodeValidity: a certificate of the signer's chain is not valid at the
	// verification time, or the VICAL is dated after it.
	CodeValidity = reason.VICALValidity
	// CodeStale: the VICAL's nextUpdate has passed.
	CodeStale = reason.VICALStale
)

// Sentinels, one per code; every [*Error] unwraps to one of them.
var (
	ErrMalformed = errors.New("vical: malformed")
	ErrSignature = errors.New("vical: signature invalid")
	ErrUntrusted = errors.New("vical: signer untrusted")
	ErrProfile   = errors.New("vical: signer certificate profile violated")
	ErrValidity  = errors.New("vical: not valid at this time")
	ErrStale     = errors.New("vical: past its nextUpdate")
)

var sentinels = map[reason.Code]error{
	CodeMalformed: ErrMalformed,
	CodeSignature: ErrSignature,
	CodeUntrusted: ErrUntrusted,
	CodeProfile:   ErrProfile,
	CodeValidity:  ErrValidity,
	CodeStale:     ErrStale,
}

// Error is one problem of a VICAL: a reason code and a detail (no personal
// data; the detail may quote names from the VICAL's certificates).
type Error struct {
	Code   reason.Code
	Detail string
}

func (e *Error) Error() string { return sentinels[e.Code].Error() + ": " + e.Detail }

// Unwrap returns the sentinel of the code, so errors.Is(err, ErrStale) works.
func (e *Error) Unwrap() error { return sentinels[e.Code] }

func errorf(code reason.Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Problems returns every [*Error] in err's wrap tree, in order: [Verify]
// reports all it found, joined.
func Problems(err error) []*Error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return []*Error{e}
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var out []*Error
		for _, x := range u.Unwrap() {
			out = append(out, Problems(x)...)
		}
		return out
	case interface{ Unwrap() error }:
		return Problems(u.Unwrap())
	}
	return nil
}
