package pn532

import (
	"fmt"

	"go.bug.st/serial"
)

// OpenSerial opens the serial device at path (a tty such as /dev/ttyAMA0 or
// /dev/serial0, or a pseudo-terminal) at UARTBaud, 8N1, raw, and returns
// the UART transport over it. It needs no cgo. Close the transport to close
// the port.
func OpenSerial(path string) (*UART, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: UARTBaud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("pn532: opening %s: %w", path, err)
	}
	if err := p.SetReadTimeout(serialReadTimeout); err != nil {
		p.Close()
		return nil, fmt.Errorf("pn532: opening %s: %w", path, err)
	}
	return NewUART(p, UARTOptions{Name: path}), nil
}
