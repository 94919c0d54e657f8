package pn532

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// UARTBaud is the HSU speed the PN532 starts with (PN532 User Manual clause
// 6.2.3): 115200 baud, 8 data bits, no parity, one stop bit.
const UARTBaud = 115200

// hsuWakeup is sent before the first frame after power-up or reset: the
// chip starts in low-VBAT mode and wakes on a 0x55 followed by a long
// enough preamble (clause 7.2.11, application note AN10609 "Low battery
// mode"); the padding also lets it start its oscillator.
var hsuWakeup = []byte{0x55, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}

// UARTOptions configure a UART transport.
type UARTOptions struct {
	// Name names the port in String, e.g. "/dev/ttyAMA0".
	Name string
}

// UART is the HSU transport over a byte stream: a serial port at
// UARTBaud (pn532host.OpenSerial) or, in tests, a pseudo-terminal. Frames are found in
// the stream by their start code; a reader goroutine owns the port's reads.
type UART struct {
	port io.ReadWriter
	opts UARTOptions

	chunks chan []byte
	done   chan struct{}
	stop   chan struct{} // closed by Close
	rerr   error         // read error that ended the reader goroutine, set before done closes
	once   sync.Once

	buf  []byte // received bytes not yet parsed
	wake bool   // send hsuWakeup before the next frame
}

// NewUART returns the transport over port and starts reading from it. A
// port whose Read returns (0, nil) on a read timeout is fine. Close closes
// port when it is an io.Closer, which ends the reader.
func NewUART(port io.ReadWriter, opts UARTOptions) *UART {
	u := &UART{port: port, opts: opts, chunks: make(chan []byte, 64), done: make(chan struct{}), stop: make(chan struct{}), wake: true}
	go u.readLoop()
	return u
}

func (u *UART) readLoop() {
	defer close(u.done)
	for {
		b := make([]byte, 512)
		n, err := u.port.Read(b)
		if n > 0 {
			select {
			case u.chunks <- b[:n]:
			case <-u.stop:
				return
			}
		}
		if err != nil {
			u.rerr = err
			return
		}
	}
}

// String implements Transport.
func (u *UART) String() string { return "uart " + u.opts.Name }

// Close closes the port when it is an io.Closer.
func (u *UART) Close() error {
	var err error
	u.once.Do(func() {
		close(u.stop)
		if c, ok := u.port.(io.Closer); ok {
			err = c.Close()
		}
	})
	return err
}

// WriteFrame implements Transport; after Wakeup the wake-up preamble goes
// first, in the same write.
func (u *UART) WriteFrame(ctx context.Context, frame []byte) error {
	out := frame
	if u.wake {
		out = append(append([]byte(nil), hsuWakeup...), frame...)
		u.wake = false
	}
	if _, err := u.port.Write(out); err != nil {
		return fmt.Errorf("pn532: uart write: %w", err)
	}
	return nil
}

// ReadFrame implements Transport.
func (u *UART) ReadFrame(ctx context.Context, max int) (Frame, error) {
	for {
		if len(u.buf) > 0 {
			f, n, err := ParseFrame(u.buf)
			if err == nil || !errors.Is(err, ErrShortFrame) {
				u.buf = u.buf[n:]
				if err != nil {
					return Frame{}, fmt.Errorf("pn532: uart read: %w", err)
				}
				return copyFrame(f), nil
			}
			if len(u.buf) > 2*MaxFrameBytes {
				// No frame in this much noise: drop all but the tail that
				// may hold the start of one.
				u.buf = append([]byte(nil), u.buf[len(u.buf)-MaxFrameBytes:]...)
			}
		}
		select {
		case b := <-u.chunks:
			u.buf = append(u.buf, b...)
		case <-u.done:
			// Drain what the reader sent before it stopped.
			select {
			case b := <-u.chunks:
				u.buf = append(u.buf, b...)
				continue
			default:
			}
			return Frame{}, fmt.Errorf("pn532: uart read: %w", u.rerr)
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		}
	}
}

// Wakeup implements Transport: the wake-up preamble goes before the next
// frame, and bytes received so far are dropped.
func (u *UART) Wakeup(ctx context.Context) error {
	u.wake = true
	u.buf = u.buf[:0]
	for {
		select {
		case <-u.chunks:
		default:
			return nil
		}
	}
}

// SerialReadTimeout is how long one read of the serial port blocks; the
// reader goroutine loops on it.
const SerialReadTimeout = 50 * time.Millisecond

// wireTime is the time n bytes take at UARTBaud with 10 bits a byte (start,
// 8 data, stop).
func (u *UART) wireTime(n int) time.Duration {
	return time.Duration(n) * 10 * time.Second / UARTBaud
}
