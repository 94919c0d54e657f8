// Package pn532 drives an NXP PN532 NFC controller (the chip on the Adafruit,
// Waveshare and Elechouse boards) attached directly to a host such as a
// Raspberry Pi over I2C, SPI or the high-speed UART, and implements the
// [reader.Reader] contract on it, so the rest of idreader runs on a PN532
// exactly as on a PC/SC reader. It needs no cgo and no pcscd.
//
// The package has three layers, each following the PN532 User Manual
// (UM0701-02):
//
//   - Frames (frame.go, clause 6.2.1): normal and extended information
//     frames, ACK, NACK and the application-level error frame, with their
//     length and data checksums. [ParseFrame] is the only parser of bytes
//     from the chip.
//   - Transports (clause 6.2.2 to 6.2.5): [NewI2C], [NewSPI] and [NewUART]
//     move whole frames over periph.io's i2c.Bus and spi.Conn and over a
//     serial port, each with the bus's way of saying "a frame is ready"
//     (status byte, IRQ line, or the byte stream itself).
//   - Commands (clause 7): [Device] sends one command, waits for the ACK,
//     resends on a NACK, a bad checksum or a missing ACK, asks the chip to
//     resend a damaged response, and maps every status byte to a [Status]
//     error. [Reader] and its targets use GetFirmwareVersion,
//     SAMConfiguration, RFConfiguration, InListPassiveTarget (106 kbit/s
//     Type A with ISO-DEP and Type B), InPSL, InDataExchange with MI
//     chaining, Diagnose (presence check) and InRelease.
//
// A target that leaves the field, or a chip that stops answering in the
// middle of a tap, ends the tap with an error wrapping [reader.ErrRemoved],
// as on PC/SC; a silent chip is reset (through the reset line when there is
// one, otherwise by waking it up and configuring it again) before the next
// poll.
//
// The emulated chip for tests lives in reader/pn532/pn532test.
package pn532
