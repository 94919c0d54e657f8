package pn532

import (
	"errors"
	"fmt"

	"github.com/idreader/idreader/reader"
)

// Status is the error code of a PN532 status byte (bits 5..0; PN532 User
// Manual clause 7.1, table "Error code list"). A non-zero Status is an error;
// test for one with errors.Is(err, pn532.StatusTimeout) or take it out with
// errors.As.
type Status byte

// Status codes, PN532 User Manual clause 7.1.
const (
	StatusOK                 Status = 0x00
	StatusTimeout            Status = 0x01 // the target did not answer in time
	StatusCRC                Status = 0x02 // CRC error detected by the CIU
	StatusParity             Status = 0x03 // parity error detected by the CIU
	StatusBitCount           Status = 0x04 // wrong bit count during anticollision
	StatusFraming            Status = 0x05 // framing error during a MIFARE operation
	StatusCollision          Status = 0x06 // abnormal bit collision at 106 kbit/s
	StatusBufferSize         Status = 0x07 // communication buffer too small
	StatusRFBufferOverflow   Status = 0x09 // RF buffer overflow detected by the CIU
	StatusRFField            Status = 0x0A // counterpart did not switch its field on in time
	StatusRFProtocol         Status = 0x0B // RF protocol error
	StatusTemperature        Status = 0x0D // overheating: antenna drivers switched off
	StatusBufferOverflow     Status = 0x0E // internal buffer overflow
	StatusInvalidParameter   Status = 0x10 // invalid parameter (range, format)
	StatusDEPUnsupported     Status = 0x12 // DEP: command not supported by the target
	StatusDataFormat         Status = 0x13 // DEP, MIFARE or ISO-DEP: data format does not match the spec
	StatusAuthentication     Status = 0x14 // MIFARE authentication error
	StatusUIDCheck           Status = 0x23 // ISO/IEC 14443-3 UID check byte wrong
	StatusDEPState           Status = 0x25 // DEP: invalid device state
	StatusNotAllowed         Status = 0x26 // operation not allowed in this configuration
	StatusContext            Status = 0x27 // command not acceptable in the current context
	StatusReleased           Status = 0x29 // the PN532 as target was released by its initiator
	StatusCardID             Status = 0x2A // ISO/IEC 14443-3B: the card ID does not match
	StatusCardGone           Status = 0x2B // ISO/IEC 14443-3B: the card previously activated has disappeared
	StatusNFCID3             Status = 0x2C // NFCID3 mismatch in DEP 212/424 kbit/s passive
	StatusOverCurrent        Status = 0x2D // over-current event
	StatusNADMissing         Status = 0x2E // NAD missing in a DEP frame
	statusMask               byte   = 0x3F // error code bits of a status byte
	statusMI                 byte   = 0x40 // More Information: chained data follows
	statusNAD                byte   = 0x80 // NAD present (DEP only)
	statusUnknownDescription        = "unknown status"
)

var statusText = map[Status]string{
	StatusOK:               "ok",
	StatusTimeout:          "target did not answer in time",
	StatusCRC:              "CRC error",
	StatusParity:           "parity error",
	StatusBitCount:         "wrong bit count in anticollision",
	StatusFraming:          "framing error",
	StatusCollision:        "bit collision",
	StatusBufferSize:       "communication buffer too small",
	StatusRFBufferOverflow: "RF buffer overflow",
	StatusRFField:          "counterpart field not switched on in time",
	StatusRFProtocol:       "RF protocol error",
	StatusTemperature:      "overheating",
	StatusBufferOverflow:   "internal buffer overflow",
	StatusInvalidParameter: "invalid parameter",
	StatusDEPUnsupported:   "command not supported by the target",
	StatusDataFormat:       "data format does not match the specification",
	StatusAuthentication:   "authentication error",
	StatusUIDCheck:         "UID check byte wrong",
	StatusDEPState:         "invalid device state",
	StatusNotAllowed:       "operation not allowed in this configuration",
	StatusContext:          "command not acceptable in the current context",
	StatusReleased:         "released by the initiator",
	StatusCardID:           "card ID mismatch",
	StatusCardGone:         "card disappeared",
	StatusNFCID3:           "NFCID3 mismatch",
	StatusOverCurrent:      "over-current",
	StatusNADMissing:       "NAD missing",
}

// Error implements error.
func (s Status) Error() string {
	t, ok := statusText[s]
	if !ok {
		t = statusUnknownDescription
	}
	return fmt.Sprintf("pn532: status 0x%02X: %s", byte(s), t)
}

// Is makes a timeout status match reader.ErrTimeout.
func (s Status) Is(target error) bool {
	return s == StatusTimeout && target == reader.ErrTimeout
}

// RF reports whether the status is an error on the air (the target may have
// left the field), as opposed to one about the command or the chip.
func (s Status) RF() bool {
	switch s {
	case StatusTimeout, StatusCRC, StatusParity, StatusBitCount, StatusFraming, StatusCollision,
		StatusRFBufferOverflow, StatusRFProtocol, StatusDataFormat, StatusReleased, StatusCardID, StatusCardGone:
		return true
	}
	return false
}

// statusErr returns the error of status byte b, nil when its code is 0.
func statusErr(b byte) error {
	if s := Status(b & statusMask); s != StatusOK {
		return s
	}
	return nil
}

// Errors of the command layer.
var (
	// ErrNoACK reports that the chip did not acknowledge a command after
	// all retries: it is silent (unpowered, wrong bus, crashed). The
	// Reader resets it before the next poll.
	ErrNoACK = errors.New("pn532: chip did not acknowledge")
	// ErrUnacknowledged reports that the chip did not acknowledge a
	// command that must not run twice (not Resendable, e.g.
	// InDataExchange) even after a long wait. It was aborted, not sent
	// again: it may or may not have reached the target, whose state is
	// unknown. The Reader ends the exchange with this error (a transport
	// failure, not a removal) and configures the chip again before the
	// next poll.
	ErrUnacknowledged = errors.New("pn532: command not acknowledged")
	// ErrChain reports InDataExchange chaining (the MI bit, clause 7.3.8)
	// that does not add up: data in the answer to a chained command part,
	// an empty chained response part, or a response shorter than SW1 SW2
	// or longer than the command's Le allows (a part delivered twice).
	ErrChain = errors.New("pn532: chained exchange out of step")
	// ErrSyntax reports the chip's application-level error frame: the
	// command was framed right but not understood.
	ErrSyntax = errors.New("pn532: chip reported a syntax error")
	// ErrResponse reports a response frame that does not answer the
	// command (wrong TFI or response code, too short, checksum still bad
	// after retries).
	ErrResponse = errors.New("pn532: bad response")
)
