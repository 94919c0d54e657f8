package pn532

import (
	"context"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Transport carries whole frames between the host and the chip. The three
// implementations are NewI2C, NewSPI and NewUART; tests use the recording
// and replaying transports of pn532test. A Transport is used by one
// goroutine at a time.
type Transport interface {
	// WriteFrame sends one frame (as EncodeInfo, ACKFrame or NACKFrame
	// make it) to the chip.
	WriteFrame(ctx context.Context, frame []byte) error
	// ReadFrame waits until the chip has a frame for the host, or ctx
	// ends, and returns it; max bounds the frame's length in bytes (the
	// I2C and SPI transports read that many). A frame that arrives damaged
	// is an error wrapping ErrChecksum or ErrBadFrame; the caller answers
	// with a NACK and the chip sends it again.
	ReadFrame(ctx context.Context, max int) (Frame, error)
	// Wakeup makes sure the chip listens to the next frame: the HSU
	// wake-up preamble on the UART, a select pulse on I2C and SPI
	// (PN532 User Manual clause 7.2.11, "Wake up").
	Wakeup(ctx context.Context) error
	// String names the bus ("i2c /dev/i2c-1 0x24").
	String() string
}

// MaxFrameBytes is the size of the longest frame on the bus: preamble,
// start code, extended length, LCS, 265 bytes, DCS and postamble.
const MaxFrameBytes = 1 + 2 + 2 + 2 + 1 + MaxFrameLen + 1 + 1

// ackReadBytes is how much a transport reads when it waits for an ACK: long
// enough for the 8-byte error frame.
const ackReadBytes = 8

// defaultPoll is the status polling interval of the I2C and SPI transports.
const defaultPoll = time.Millisecond

// waitReady waits until ready reports true, polling every poll, or until
// the IRQ line (active low, clause 6.2.5) goes low when irq is set.
func waitReady(ctx context.Context, irq gpio.PinIn, poll time.Duration, ready func() (bool, error)) error {
	if poll <= 0 {
		poll = defaultPoll
	}
	for {
		if irq != nil {
			if irq.Read() == gpio.Low {
				return nil
			}
			// WaitForEdge returns on a falling edge or after poll; the
			// level is read again either way.
			irq.WaitForEdge(poll)
		} else {
			ok, err := ready()
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			t := time.NewTimer(poll)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// copyFrame returns f with Data copied out of the transport's buffer.
func copyFrame(f Frame) Frame {
	f.Data = append([]byte(nil), f.Data...)
	return f
}
