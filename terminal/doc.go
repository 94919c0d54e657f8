// Package terminal is the reader's side of one tap, end to end: engagement
// (NFC static or TNEP negotiated handover, or a scanned QR code), the
// session, the request (RequestProfile), data retrieval over NFC data
// transfer or Bluetooth LE, verification and termination (ISO/IEC 18013-5
// clauses 8.2, 8.3 and 9). Tap and TapQR run the steps in a straight line
// and fail closed.
//
// It talks to the target through the one-method nfc.Transceiver, so a PC/SC
// reader, a PN532 or the in-process simulated wallet all serve, and to a
// radio through the ble GATT interface. Randomness, time and trust anchors
// come from Config. The package does no logging, drives no outputs and
// knows no acceptance policy: the long-running reader loops, checks, events
// and the accept / reject decision are package daemon's.
package terminal
