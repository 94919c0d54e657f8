package pn532

import (
	"context"
	"fmt"
	"math/bits"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// SPI prefixes, the first byte of every SPI transaction (PN532 User Manual
// clause 6.2.5).
const (
	spiDataWrite  = 0x01 // host writes a frame
	spiStatusRead = 0x02 // host reads the status byte
	spiDataRead   = 0x03 // host reads a frame
)

// SPI settings: mode 0 (clause 6.2.5, the C106 has no other mode), 8 bits,
// least significant bit first, and at most 5 MHz.
const (
	SPIMode     = spi.Mode0
	SPIMaxSpeed = 5 * physic.MegaHertz
)

// SPIOptions configure an SPI transport.
type SPIOptions struct {
	// IRQ is the chip's P70_IRQ line when it is wired.
	IRQ gpio.PinIn
	// Poll is the status polling interval; zero means 1 ms.
	Poll time.Duration
	// LSBFirst reports that the connection already sends the least
	// significant bit first (connected with spi.LSBFirst). Without it the
	// transport reverses the bits of every byte itself, which is what
	// the Raspberry Pi needs: its SPI controller only shifts MSB first.
	LSBFirst bool
	// Name names the bus in String, e.g. "/dev/spidev0.0".
	Name string
}

// SPI is the SPI transport. Each transaction starts with one of the three
// prefixes: data write, status read, data read.
type SPI struct {
	c    spi.Conn
	opts SPIOptions
	w, r []byte
}

// NewSPI returns the transport over c, which the caller connected in
// SPIMode with 8 bits at SPIMaxSpeed or less.
func NewSPI(c spi.Conn, opts SPIOptions) *SPI {
	return &SPI{c: c, opts: opts, w: make([]byte, 1+MaxFrameBytes), r: make([]byte, 1+MaxFrameBytes)}
}

// String implements Transport.
func (t *SPI) String() string {
	if t.opts.Name != "" {
		return "spi " + t.opts.Name
	}
	return "spi " + t.c.String()
}

// order puts b in the chip's bit order in place (LSB first).
func (t *SPI) order(b []byte) {
	if t.opts.LSBFirst {
		return
	}
	for i, v := range b {
		b[i] = bits.Reverse8(v)
	}
}

// WriteFrame implements Transport.
func (t *SPI) WriteFrame(ctx context.Context, frame []byte) error {
	w := t.w[:1+len(frame)]
	w[0] = spiDataWrite
	copy(w[1:], frame)
	t.order(w)
	if err := t.c.Tx(w, t.r[:len(w)]); err != nil {
		return fmt.Errorf("pn532: spi write: %w", err)
	}
	return nil
}

// ReadFrame implements Transport.
func (t *SPI) ReadFrame(ctx context.Context, max int) (Frame, error) {
	err := waitReady(ctx, t.opts.IRQ, t.opts.Poll, func() (bool, error) {
		w, r := t.w[:2], t.r[:2]
		w[0], w[1] = spiStatusRead, 0
		t.order(w)
		if err := t.c.Tx(w, r); err != nil {
			return false, fmt.Errorf("pn532: spi status read: %w", err)
		}
		t.order(r)
		return r[1]&statusReady != 0, nil
	})
	if err != nil {
		return Frame{}, err
	}
	n := 1 + min(max, MaxFrameBytes)
	w, r := t.w[:n], t.r[:n]
	clear(w)
	w[0] = spiDataRead
	t.order(w)
	if err := t.c.Tx(w, r); err != nil {
		return Frame{}, fmt.Errorf("pn532: spi read: %w", err)
	}
	t.order(r)
	f, _, err := ParseFrame(r[1:])
	if err != nil {
		return Frame{}, fmt.Errorf("pn532: spi read: %w", err)
	}
	return copyFrame(f), nil
}

// Wakeup implements Transport: selecting the chip wakes it; it needs a
// moment before it takes a frame.
func (t *SPI) Wakeup(ctx context.Context) error {
	w, r := t.w[:2], t.r[:2]
	w[0], w[1] = spiStatusRead, 0
	t.order(w)
	_ = t.c.Tx(w, r) // only the chip select edge matters
	return sleep(ctx, 2*time.Millisecond)
}
