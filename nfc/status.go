package nfc

import (
	"errors"
	"fmt"
)

// Status words of ISO/IEC 7816-4 clause 5.6 that this package produces or
// interprets.
const (
	// SWSuccess is 9000, normal processing.
	SWSuccess uint16 = 0x9000
	// SWWrongLength is 6700, wrong length (no further indication).
	SWWrongLength uint16 = 0x6700
	// SWSecurityStatus is 6982, security status not satisfied.
	SWSecurityStatus uint16 = 0x6982
	// SWConditionsNotSatisfied is 6985, conditions of use not satisfied.
	SWConditionsNotSatisfied uint16 = 0x6985
	// SWCommandNotAllowed is 6986, command not allowed (no current EF).
	SWCommandNotAllowed uint16 = 0x6986
	// SWWrongData is 6A80, incorrect parameters in the command data field.
	SWWrongData uint16 = 0x6A80
	// SWFunctionNotSupported is 6A81, function not supported.
	SWFunctionNotSupported uint16 = 0x6A81
	// SWFileNotFound is 6A82, file or application not found.
	SWFileNotFound uint16 = 0x6A82
	// SWWrongP1P2 is 6A86, incorrect parameters P1-P2.
	SWWrongP1P2 uint16 = 0x6A86
	// SWWrongOffset is 6B00, wrong parameters P1-P2 (offset outside the EF).
	SWWrongOffset uint16 = 0x6B00
	// SWInsNotSupported is 6D00, instruction code not supported or invalid.
	SWInsNotSupported uint16 = 0x6D00
	// SWClassNotSupported is 6E00, class not supported.
	SWClassNotSupported uint16 = 0x6E00
	// SWUnknown is 6F00, no precise diagnosis.
	SWUnknown uint16 = 0x6F00
)

// Sentinel errors for the status words callers branch on. A [StatusError]
// matches them with errors.Is (ISO/IEC 7816-4 clause 5.6, table 6).
var (
	// ErrWrongLength matches 6700 and 6Cxx (wrong Le; xx is the exact length).
	ErrWrongLength = errors.New("nfc: wrong length")
	// ErrSecurityStatus matches 6982.
	ErrSecurityStatus = errors.New("nfc: security status not satisfied")
	// ErrConditionsNotSatisfied matches 6985.
	ErrConditionsNotSatisfied = errors.New("nfc: conditions of use not satisfied")
	// ErrCommandNotAllowed matches 6986.
	ErrCommandNotAllowed = errors.New("nfc: command not allowed")
	// ErrWrongData matches 6A80.
	ErrWrongData = errors.New("nfc: incorrect data field")
	// ErrFunctionNotSupported matches 6A81.
	ErrFunctionNotSupported = errors.New("nfc: function not supported")
	// ErrFileNotFound matches 6A82 (file or application not found).
	ErrFileNotFound = errors.New("nfc: file or application not found")
	// ErrWrongP1P2 matches 6A86 and 6B00.
	ErrWrongP1P2 = errors.New("nfc: incorrect parameters P1-P2")
	// ErrInsNotSupported matches 6D00.
	ErrInsNotSupported = errors.New("nfc: instruction not supported")
	// ErrClassNotSupported matches 6E00.
	ErrClassNotSupported = errors.New("nfc: class not supported")
)

// StatusError is a response APDU whose status word is not 9000 (and, where a
// procedure handles them, not 61xx). It matches the sentinel errors of this
// package with errors.Is (ISO/IEC 7816-4 clause 5.6).
type StatusError struct {
	// SW is SW1 << 8 | SW2.
	SW uint16
}

// Error describes the status word.
func (e StatusError) Error() string {
	if s := e.sentinel(); s != nil {
		return fmt.Sprintf("%v (status %04X)", s, e.SW)
	}
	return fmt.Sprintf("nfc: status %04X", e.SW)
}

// Is reports whether target is the sentinel for this status word.
func (e StatusError) Is(target error) bool {
	if t, ok := target.(StatusError); ok {
		return t.SW == e.SW
	}
	s := e.sentinel()
	return s != nil && s == target
}

func (e StatusError) sentinel() error {
	switch {
	case e.SW == SWWrongLength, e.SW&0xFF00 == 0x6C00:
		return ErrWrongLength
	case e.SW == SWSecurityStatus:
		return ErrSecurityStatus
	case e.SW == SWConditionsNotSatisfied:
		return ErrConditionsNotSatisfied
	case e.SW == SWCommandNotAllowed:
		return ErrCommandNotAllowed
	case e.SW == SWWrongData:
		return ErrWrongData
	case e.SW == SWFunctionNotSupported:
		return ErrFunctionNotSupported
	case e.SW == SWFileNotFound:
		return ErrFileNotFound
	case e.SW == SWWrongP1P2, e.SW == SWWrongOffset:
		return ErrWrongP1P2
	case e.SW == SWInsNotSupported:
		return ErrInsNotSupported
	case e.SW == SWClassNotSupported:
		return ErrClassNotSupported
	}
	return nil
}
