// Package terminal is the reader's side of one tap, end to end: NFC
// engagement (static or TNEP negotiated handover), the session, the request,
// NFC data transfer, verification and termination (ISO/IEC 18013-5 clauses
// 8.2, 8.3 and 9). It talks to the target through the one-method
// nfc.Transceiver, so a PC/SC reader, a PN532 or the in-process simulated
// wallet all serve. Randomness, time and trust anchors come from Config; the
// package does no logging of its own.
package terminal
