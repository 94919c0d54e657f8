// Package pn532test is an emulated NXP PN532 for tests and the selftest: it
// speaks the chip's frame protocol (ACK, NACK, normal and extended frames,
// checksums) and its reader-mode commands behind periph.io's i2c.Bus and
// spi.Port interfaces and, for the HSU, over a byte stream such as a
// pseudo-terminal, and it bridges InDataExchange to a card in its field
// (the simulated wallet of holder/wallet). Faults can be armed to break it
// the ways a real chip and a real phone break: NACK, a damaged response, a
// missing ACK, a target that does not answer in time, a target that leaves
// at frame N, a chip that falls silent, a bit rate change refused.
//
// It also holds the frame transcript format of testdata/pn532 and a
// Transport that replays such a transcript strictly.
package pn532test
