package terminal

import (
	"errors"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/reason"
	"github.com/idreader/idreader/verify"
)

// Reason codes for BLE data retrieval failures (ISO/IEC 18013-5 clause
// 8.3.3.1.1). Timeouts map to CodeTimeout, a State 0x02 from the wallet
// before its response to CodeWalletStatus.
const (
	// CodeDisconnected: the BLE link went down during the set-up or the
	// exchange (the wallet disconnected, or the radio lost it). A wallet that
	// reads a wrong Ident in central client mode disconnects before State
	// 0x01, so it shows up here.
	CodeDisconnected = reason.Disconnected
	// CodeBLEProtocol: the wallet broke the BLE framing rules (an empty or
	// oversized chunk, an unknown leading byte or State value, a message over
	// the size limit).
	CodeBLEProtocol = reason.BLEProtocol
	// CodeIdentMismatch: the Ident characteristic did not match
	// HKDF(EDeviceKeyBytes, "BLEIdent").
	CodeIdentMismatch = reason.IdentMismatch
	// CodeNotFound: the wallet's BLE service (or one of its characteristics)
	// was not found.
	CodeNotFound = reason.NotFound
)

// transportCode maps the BLE transport's sentinel errors; "" for others.
func transportCode(err error) verify.Code {
	switch {
	case errors.Is(err, ble.ErrTimeout):
		return CodeTimeout
	case errors.Is(err, ble.ErrIdentMismatch):
		return CodeIdentMismatch
	case errors.Is(err, ble.ErrDisconnected):
		return CodeDisconnected
	case errors.Is(err, ble.ErrProtocol), errors.Is(err, ble.ErrMessageTooLarge):
		return CodeBLEProtocol
	case errors.Is(err, ble.ErrSessionEnded):
		return CodeWalletStatus
	case errors.Is(err, ble.ErrNotFound):
		return CodeNotFound
	}
	return ""
}
