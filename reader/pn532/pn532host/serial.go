package pn532host

import (
	"fmt"

	"go.bug.st/serial"

	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pn532"
)

// OpenSerial opens the serial device at path (a tty such as /dev/ttyAMA0 or
// /dev/serial0, or a pseudo-terminal) at pn532.UARTBaud, 8N1, raw, and returns
// the UART transport over it. It needs no cgo. Close the transport to close
// the port. A port that cannot be opened is a *reader.UnavailableError
// wrapping reader.ErrNoReader.
func OpenSerial(path string) (*pn532.UART, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: pn532.UARTBaud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, &reader.UnavailableError{
			Reason: fmt.Sprintf("cannot open serial port %s: %v", path, err),
			Err:    fmt.Errorf("pn532: opening %s: %w: %w", path, reader.ErrNoReader, err)}
	}
	if err := p.SetReadTimeout(pn532.SerialReadTimeout); err != nil {
		p.Close()
		return nil, fmt.Errorf("pn532: opening %s: %w", path, err)
	}
	return pn532.NewUART(p, pn532.UARTOptions{Name: path}), nil
}
