package pcsc

import (
	"errors"

	"github.com/idreader/idreader/reader"
)

// ErrNoCgo is returned by New in a build without cgo: PC/SC needs
// libpcsclite through cgo.
var ErrNoCgo = errors.New("pcsc: built without cgo; PC/SC readers need CGO_ENABLED=1 and libpcsclite")

// Options configure a Provider.
type Options struct {
	// Limits holds the APDU limits of readers by PC/SC name.
	Limits map[string]reader.Limits
	// DefaultLimits are the limits of readers not in Limits; the zero
	// value means VPCDLimits.
	DefaultLimits reader.Limits
	// Shared connects to targets in shared mode; the default is exclusive,
	// so no other PC/SC client talks to a holder during a tap.
	Shared bool
	// FailFast makes Open and Wait fail at once, with a
	// reader.UnavailableError, when pcscd is not running, the reader is not
	// there or it was unplugged, instead of waiting for them to come (back):
	// for an operator's one-shot command, where waiting cannot help. The
	// daemon waits.
	FailFast bool
}

// VPCDLimits are the limits of vsmartcard's vpcd virtual reader: extended
// APDUs carried up to 65535 bytes each way, the cap of vpcd's 2-byte frame
// length (the ISO/IEC 7816-4 maxima do not fit; a longer command ejects the
// card).
func VPCDLimits() reader.Limits {
	return reader.ExtendedLimits(0xFFFF, 0xFFFF)
}

func (o Options) limitsFor(name string) reader.Limits {
	if l, ok := o.Limits[name]; ok {
		return l
	}
	if o.DefaultLimits == (reader.Limits{}) {
		return VPCDLimits()
	}
	return o.DefaultLimits
}
