package ble

import "errors"

// Sentinel errors returned (wrapped) by this package and expected (wrapped)
// from GATT adapters.
var (
	// ErrDisconnected reports that the BLE link went down. GATT adapters must
	// return an error wrapping it from every call made after, or blocked
	// during, a disconnection.
	ErrDisconnected = errors.New("ble: disconnected")

	// ErrTimeout reports that a step (connect, start, a message) did not
	// finish within its time limit ([Config]) or the caller's deadline.
	ErrTimeout = errors.New("ble: timeout")

	// ErrIdentMismatch reports that the Ident characteristic served by the
	// GATT server in mdoc central client mode is not the value derived from
	// EDeviceKeyBytes (ISO/IEC 18013-5 clause 8.3.3.1.1.4, per MPZ
	// GattClient): the mdoc connected to the wrong reader.
	ErrIdentMismatch = errors.New("ble: ident mismatch")

	// ErrMessageTooLarge reports that a reassembled message would exceed the
	// receiver's size limit.
	ErrMessageTooLarge = errors.New("ble: message too large")

	// ErrProtocol reports a peer that broke the 18013-5 BLE rules: an empty
	// or oversize chunk, an unknown chunk leading byte, an unknown State
	// value, or data before State 0x01.
	ErrProtocol = errors.New("ble: protocol violation")

	// ErrSessionEnded reports that the session was ended with State 0x02
	// (ISO/IEC 18013-5 clause 8.3.3.1.1.7), by the peer or by Close.
	ErrSessionEnded = errors.New("ble: session ended")

	// ErrNotFound reports that a scanned service, or a characteristic that the
	// mode needs, is absent. GATT adapters wrap it from Discover.
	ErrNotFound = errors.New("ble: not found")
)
