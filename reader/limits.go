package reader

import "fmt"

// Sizes of APDUs, ISO/IEC 7816-4 clause 5.1.
const (
	// MaxShortCommand is the longest short command APDU: a 4-byte
	// header, Lc, 255 data bytes and Le.
	MaxShortCommand = 4 + 1 + 255 + 1
	// MaxShortResponse is the longest response to a short command: 256
	// data bytes and SW1 SW2.
	MaxShortResponse = 256 + 2
	// MaxExtendedCommand is the longest extended command APDU: a 4-byte
	// header, 3-byte Lc, 65535 data bytes and 2-byte Le.
	MaxExtendedCommand = 4 + 3 + 65535 + 2
	// MaxExtendedResponse is the longest response to an extended command:
	// 65536 data bytes and SW1 SW2.
	MaxExtendedResponse = 65536 + 2
)

// Limits are the APDU limits of a reader (not of the target: ISO/IEC
// 18013-5 clause 8.3.3.1.2 leaves extended length support to the reader,
// and a reader that cannot carry extended APDUs forces command chaining and
// GET RESPONSE). Lengths count whole APDUs: header and trailer included.
type Limits struct {
	// ExtendedAPDU reports that the reader carries extended-length APDUs.
	ExtendedAPDU bool
	// MaxCommand is the longest command APDU the reader carries, in bytes.
	MaxCommand int
	// MaxResponse is the longest response APDU (with SW1 SW2) the reader
	// returns, in bytes.
	MaxResponse int
}

// ShortLimits are the limits of a reader that only carries short APDUs.
func ShortLimits() Limits {
	return Limits{MaxCommand: MaxShortCommand, MaxResponse: MaxShortResponse}
}

// ExtendedLimits are the limits of a reader that carries extended APDUs of
// up to maxCommand and maxResponse bytes (0 for the ISO/IEC 7816-4 maxima).
func ExtendedLimits(maxCommand, maxResponse int) Limits {
	if maxCommand <= 0 {
		maxCommand = MaxExtendedCommand
	}
	if maxResponse <= 0 {
		maxResponse = MaxExtendedResponse
	}
	return Limits{ExtendedAPDU: true, MaxCommand: maxCommand, MaxResponse: maxResponse}
}

// CheckCommand reports whether the reader can carry apdu: it must hold at
// least the 4-byte header (ISO/IEC 7816-4 clause 5.1), be no longer than
// MaxCommand, and use the extended-length form (a zero byte after the
// header followed by more bytes, clause 5.1) only when ExtendedAPDU is set.
// The error wraps ErrBadCommand.
func (l Limits) CheckCommand(apdu []byte) error {
	switch {
	case len(apdu) == 0:
		return fmt.Errorf("%w: empty command", ErrBadCommand)
	case len(apdu) < 4:
		return fmt.Errorf("%w: command of %d bytes is shorter than the 4-byte header", ErrBadCommand, len(apdu))
	case l.MaxCommand > 0 && len(apdu) > l.MaxCommand:
		return fmt.Errorf("%w: command of %d bytes exceeds the reader's %d", ErrBadCommand, len(apdu), l.MaxCommand)
	case !l.ExtendedAPDU && IsExtended(apdu):
		return fmt.Errorf("%w: extended-length command on a short-only reader", ErrBadCommand)
	}
	return nil
}

// IsExtended reports whether apdu uses the extended-length form: after the
// 4-byte header comes a 0x00 byte and at least two more bytes (extended Lc
// or Le, ISO/IEC 7816-4 clause 5.1, cases 2E, 3E and 4E).
func IsExtended(apdu []byte) bool {
	return len(apdu) >= 7 && apdu[4] == 0x00
}
