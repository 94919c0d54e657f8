// Package vpcd connects a simulated card to vsmartcard's vpcd, the virtual
// reader driver for pcscd, so the PC/SC reader path can be tested end to end
// without hardware.
//
// vpcd listens on TCP (port 35963 for its first slot, 35964 for the second);
// a connection is a card in the field, closing it takes the card away. Each
// message either way is a 2-byte big-endian length and a payload. From vpcd,
// a 1-byte payload is a control message (00 power off, 01 power on, 02 reset,
// 04 get ATR) and anything longer is a command APDU; the card answers get ATR
// with its ATR and a command APDU with the response APDU, and stays silent on
// the others.
//
// vpcd (Debian 12, vsmartcard 0.8) writes the length and the payload with two
// send calls, so a card that leaves delayed ACKs on waits ~40 ms per APDU;
// this package sets TCP_QUICKACK before every read on Linux and writes each
// frame with a single Write.
package vpcd
