package pcsc

import (
	"strconv"
	"strings"

	"github.com/idreader/idreader/reader"
)

// The reasons an operator reads when a reader cannot be used
// (reader.UnavailableError), one line each, saying what to do.

// reasonNoService is pcscd not running (SCARD_E_NO_SERVICE and friends).
const reasonNoService = "pcscd is not running (start it: systemctl start pcscd)"

// errNoService is pcscd not running; cause wraps reader.ErrServiceUnavailable.
func errNoService(cause error) error {
	return &reader.UnavailableError{Reason: reasonNoService, Err: cause}
}

// errNoSuchReader is a reader name pcscd does not know (name "" is the first
// reader: none is connected), with the names it does know.
func errNoSuchReader(name string, present []string, cause error) error {
	var b strings.Builder
	if name == "" {
		b.WriteString("no reader is connected to pcscd")
	} else {
		b.WriteString("no reader named " + strconv.Quote(name))
		if len(present) == 0 {
			b.WriteString(" (no reader is connected to pcscd)")
		} else {
			b.WriteString("; readers present: ")
			for i, n := range present {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Quote(n))
			}
		}
	}
	return &reader.UnavailableError{Reason: b.String(), Err: cause}
}

// errUnplugged is the reader that was there leaving.
func errUnplugged(name string, cause error) error {
	return &reader.UnavailableError{Reason: "reader " + strconv.Quote(name) + " was unplugged", Err: cause}
}
