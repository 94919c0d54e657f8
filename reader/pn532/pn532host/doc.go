// Package pn532host opens a PN532 on the host's real buses: I2C and SPI
// through periph.io's registries (i2creg, spireg, and gpioreg for the reset
// and IRQ lines, filled by periph.io/x/host's drivers once cmd/ called
// host.Init) and the serial port. It is meant for cmd/ only; tests use the
// emulated chip of reader/pn532/pn532test.
package pn532host
