package pn532

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// I2CAddr is the PN532's 7-bit I2C address (0x48 for writing and 0x49 for
// reading in 8-bit notation; PN532 User Manual clause 6.2.4).
const I2CAddr = 0x24

// statusReady is bit 0 of the status byte the chip sends first on I2C and
// on an SPI status read: a frame is ready (clause 6.2.4 and 6.2.5).
const statusReady = 0x01

// I2COptions configure an I2C transport.
type I2COptions struct {
	// Addr is the 7-bit address; zero means I2CAddr.
	Addr uint16
	// IRQ is the chip's P70_IRQ line (active low) when it is wired; then
	// the transport waits for it instead of polling the status byte.
	IRQ gpio.PinIn
	// Poll is the status polling interval; zero means 1 ms.
	Poll time.Duration
	// Name names the bus in String, e.g. "/dev/i2c-1".
	Name string
}

// I2C is the I2C transport. Every read from the PN532 starts with its
// status byte; the host reads it until bit 0 is set and then reads the
// status byte again followed by the frame, in one transaction.
type I2C struct {
	bus  i2c.Bus
	opts I2COptions
	buf  []byte
}

// NewI2C returns the transport over bus. The caller keeps the bus and
// closes it after the Reader.
func NewI2C(bus i2c.Bus, opts I2COptions) *I2C {
	if opts.Addr == 0 {
		opts.Addr = I2CAddr
	}
	return &I2C{bus: bus, opts: opts, buf: make([]byte, 1+MaxFrameBytes)}
}

// String implements Transport.
func (t *I2C) String() string {
	name := t.opts.Name
	if name == "" {
		name = t.bus.String()
	}
	return fmt.Sprintf("i2c %s 0x%02x", name, t.opts.Addr)
}

// WriteFrame implements Transport: one write transaction.
func (t *I2C) WriteFrame(ctx context.Context, frame []byte) error {
	if err := t.bus.Tx(t.opts.Addr, frame, nil); err != nil {
		return fmt.Errorf("pn532: i2c write: %w", err)
	}
	return nil
}

// ReadFrame implements Transport.
func (t *I2C) ReadFrame(ctx context.Context, max int) (Frame, error) {
	var st [1]byte
	err := waitReady(ctx, t.opts.IRQ, t.opts.Poll, func() (bool, error) {
		if err := t.bus.Tx(t.opts.Addr, nil, st[:]); err != nil {
			return false, fmt.Errorf("pn532: i2c status read: %w", err)
		}
		return st[0]&statusReady != 0, nil
	})
	if err != nil {
		return Frame{}, err
	}
	buf := t.buf[:1+min(max, MaxFrameBytes)]
	clear(buf)
	if err := t.bus.Tx(t.opts.Addr, nil, buf); err != nil {
		return Frame{}, fmt.Errorf("pn532: i2c read: %w", err)
	}
	if buf[0]&statusReady == 0 {
		return Frame{}, fmt.Errorf("pn532: i2c read: %w: status byte 0x%02X not ready", ErrBadFrame, buf[0])
	}
	f, _, err := ParseFrame(buf[1:])
	if err != nil {
		return Frame{}, fmt.Errorf("pn532: i2c read: %w", err)
	}
	return copyFrame(f), nil
}

// Wakeup implements Transport: the chip wakes on its address; the first
// transaction may be refused while it does.
func (t *I2C) Wakeup(ctx context.Context) error {
	var st [1]byte
	_ = t.bus.Tx(t.opts.Addr, nil, st[:]) // may be NAKed by a sleeping chip
	return sleep(ctx, 2*time.Millisecond)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
