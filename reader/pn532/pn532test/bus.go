package pn532test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/idreader/idreader/reader/pn532"
)

// ErrNAK is what the emulated I2C bus returns for a transaction to an
// address nobody answers.
var ErrNAK = errors.New("pn532test: i2c: address not acknowledged")

// I2C returns the chip behind an I2C bus at pn532.I2CAddr: a write is a
// frame from the host; a read returns the status byte (bit 0 set when a
// frame is ready) followed, when the read is longer than one byte, by the
// frame, padded with zeros (PN532 User Manual clause 6.2.4).
func (c *Chip) I2C() i2c.BusCloser { return &i2cBus{c: c} }

type i2cBus struct{ c *Chip }

func (b *i2cBus) String() string                    { return "pn532test-i2c" }
func (b *i2cBus) SetSpeed(f physic.Frequency) error { return nil }
func (b *i2cBus) Close() error                      { return nil }

func (b *i2cBus) Tx(addr uint16, w, r []byte) error {
	if addr != pn532.I2CAddr {
		return ErrNAK
	}
	if len(w) > 0 {
		b.c.fromHost(w)
	}
	if len(r) == 0 {
		return nil
	}
	clear(r)
	if len(r) == 1 {
		if b.c.ready() {
			r[0] = 0x01
		}
		return nil
	}
	if f := b.c.pop(); f != nil {
		r[0] = 0x01
		copy(r[1:], f)
	}
	return nil
}

// SPI returns the chip behind an SPI port: mode 0, 8 bits, at most 5 MHz,
// bytes least significant bit first on the wire (a connection made without
// spi.LSBFirst sees them reversed, as the Raspberry Pi's controller does).
// Each transaction starts with 01 (data write), 02 (status read) or 03
// (data read), clause 6.2.5.
func (c *Chip) SPI() spi.PortCloser { return &spiPort{c: c} }

type spiPort struct{ c *Chip }

func (p *spiPort) String() string                      { return "pn532test-spi" }
func (p *spiPort) LimitSpeed(f physic.Frequency) error { return nil }
func (p *spiPort) Close() error                        { return nil }

func (p *spiPort) Connect(f physic.Frequency, mode spi.Mode, nbits int) (spi.Conn, error) {
	if f > pn532.SPIMaxSpeed {
		return nil, fmt.Errorf("pn532test: spi: %v beyond the PN532's %v", f, pn532.SPIMaxSpeed)
	}
	if mode&^spi.LSBFirst != spi.Mode0 || nbits != 8 {
		return nil, fmt.Errorf("pn532test: spi: mode %v with %d bits; the PN532 takes mode 0, 8 bits", mode, nbits)
	}
	return &spiConn{c: p.c, lsb: mode&spi.LSBFirst != 0}, nil
}

type spiConn struct {
	c   *Chip
	lsb bool
}

func (s *spiConn) String() string      { return "pn532test-spi" }
func (s *spiConn) Duplex() conn.Duplex { return conn.Full }
func (s *spiConn) order(b []byte) {
	if s.lsb {
		return
	}
	for i, v := range b {
		b[i] = bits.Reverse8(v)
	}
}

func (s *spiConn) TxPackets(p []spi.Packet) error {
	for _, pk := range p {
		if err := s.Tx(pk.W, pk.R); err != nil {
			return err
		}
	}
	return nil
}

func (s *spiConn) Tx(w, r []byte) error {
	if len(w) == 0 {
		return errors.New("pn532test: spi: transaction without a prefix byte")
	}
	if len(r) != 0 && len(r) != len(w) {
		return errors.New("pn532test: spi: full duplex needs len(r) == len(w)")
	}
	in := append([]byte(nil), w...)
	s.order(in)
	out := make([]byte, len(w))
	switch in[0] {
	case 0x01:
		s.c.fromHost(in[1:])
	case 0x02:
		if len(out) > 1 && s.c.ready() {
			out[1] = 0x01
		}
	case 0x03:
		if f := s.c.pop(); f != nil {
			copy(out[1:], f)
		}
	default:
		return fmt.Errorf("pn532test: spi: unknown prefix 0x%02X", in[0])
	}
	s.order(out)
	copy(r, out)
	return nil
}

// Serve runs the HSU on a byte stream until ctx ends or rw fails: bytes
// from the host are parsed into frames (the wake-up preamble and other
// bytes outside frames are skipped), frames for the host are written as
// they are ready. It closes nothing.
func (c *Chip) Serve(ctx context.Context, rw io.ReadWriter) error {
	errc := make(chan error, 2)
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := rw.Read(buf)
			if n > 0 {
				c.fromHost(buf[:n])
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	for {
		for f := c.pop(); f != nil; f = c.pop() {
			if _, err := rw.Write(f); err != nil {
				return err
			}
		}
		select {
		case <-c.notify:
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ResetPin returns the chip's RSTPDN line: driving it low and then high
// resets the chip (Chip.Reset).
func (c *Chip) ResetPin() gpio.PinOut {
	return &resetPin{Pin: gpiotest.Pin{N: "RSTPDN", L: gpio.High}, c: c}
}

type resetPin struct {
	gpiotest.Pin
	c *Chip
}

// Out implements gpio.PinOut: a rising edge after a low level ends a reset.
func (p *resetPin) Out(l gpio.Level) error {
	p.Lock()
	prev := p.L
	p.L = l
	p.Unlock()
	if prev == gpio.Low && l == gpio.High {
		p.c.Reset()
	}
	return nil
}

// IRQPin returns the chip's P70_IRQ line: low while a frame waits for the
// host (PN532 User Manual clause 6.2.5), high otherwise.
func (c *Chip) IRQPin() gpio.PinIn {
	return &irqPin{Pin: gpiotest.Pin{N: "P70_IRQ", L: gpio.High}, c: c}
}

type irqPin struct {
	gpiotest.Pin
	c *Chip
}

// Read implements gpio.PinIn.
func (p *irqPin) Read() gpio.Level {
	if p.c.ready() {
		return gpio.Low
	}
	return gpio.High
}

// WaitForEdge implements gpio.PinIn: it returns true when the line fell
// (a frame became ready) within timeout.
func (p *irqPin) WaitForEdge(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.c.irq:
		return true
	case <-t.C:
		return false
	}
}
