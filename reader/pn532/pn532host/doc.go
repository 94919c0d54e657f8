// Package pn532host opens a PN532 on the host's real buses through
// periph.io's host drivers (host.Init, then i2creg, spireg and gpioreg by
// name) and the serial port. It is the only part of the PN532 driver that
// reaches periph's host drivers, and is meant for cmd/ only; tests use the
// emulated chip of reader/pn532/pn532test.
package pn532host
