package pn532host

import (
	"context"
	"errors"
	"fmt"
	"io"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi/spireg"

	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pn532"
)

// Options configure Open.
type Options struct {
	// Reset and IRQ name the GPIO pins wired to the chip's RSTPDN and
	// P70_IRQ (e.g. "GPIO20", "GPIO16"); empty when not wired.
	Reset, IRQ string
	// SPISpeed is the SPI clock; zero means 1 MHz (the chip takes up to
	// 5 MHz, long wires less).
	SPISpeed physic.Frequency
	// Reader configures the reader; its Name defaults to "pn532:" and the
	// bus.
	Reader pn532.Options
}

// Open opens the bus, configures the chip and returns the Reader and the
// closer of the bus (close it after the Reader). periph's host drivers must
// be registered first (host.Init, which cmd/ calls: only cmd/ and
// hardware/gpio import periph.io/x/host). A bus that cannot be opened is a
// *reader.UnavailableError (one line saying what to do, wrapping
// reader.ErrNoReader); a chip that does not answer wraps reader.ErrNoReader.
func Open(ctx context.Context, bus pn532.Bus, opts Options) (*pn532.Reader, io.Closer, error) {
	var irq gpio.PinIn
	if opts.IRQ != "" {
		p := gpioreg.ByName(opts.IRQ)
		if p == nil {
			return nil, nil, fmt.Errorf("pn532: no pin named %q for irq", opts.IRQ)
		}
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, nil, fmt.Errorf("pn532: irq pin %s: %w", opts.IRQ, err)
		}
		irq = p
	}
	if opts.Reset != "" {
		p := gpioreg.ByName(opts.Reset)
		if p == nil {
			return nil, nil, fmt.Errorf("pn532: no pin named %q for reset", opts.Reset)
		}
		if err := p.Out(gpio.High); err != nil {
			return nil, nil, fmt.Errorf("pn532: reset pin %s: %w", opts.Reset, err)
		}
		opts.Reader.Reset = p
	}
	if opts.Reader.Name == "" {
		opts.Reader.Name = "pn532:" + bus.String()
	}
	var (
		t      pn532.Transport
		closer io.Closer
	)
	switch bus.Kind {
	case pn532.BusI2C:
		b, err := i2creg.Open(bus.Path)
		if err != nil {
			return nil, nil, &reader.UnavailableError{
				Reason: fmt.Sprintf("no I2C bus %s (enable it: raspi-config → Interface Options → I2C)", bus.Path),
				Err:    fmt.Errorf("pn532: opening %s: %w: %w", bus.Path, reader.ErrNoReader, err)}
		}
		t, closer = pn532.NewI2C(b, pn532.I2COptions{IRQ: irq, Name: bus.Path}), b
	case pn532.BusSPI:
		p, err := spireg.Open(bus.Path)
		if err != nil {
			return nil, nil, &reader.UnavailableError{
				Reason: fmt.Sprintf("no SPI device %s (enable it: raspi-config → Interface Options → SPI)", bus.Path),
				Err:    fmt.Errorf("pn532: opening %s: %w: %w", bus.Path, reader.ErrNoReader, err)}
		}
		speed := opts.SPISpeed
		if speed <= 0 {
			speed = physic.MegaHertz
		}
		speed = min(speed, pn532.SPIMaxSpeed)
		// The Pi's controller shifts MSB first only; the transport
		// reverses the bits itself.
		c, err := p.Connect(speed, pn532.SPIMode, 8)
		if err != nil {
			p.Close()
			return nil, nil, fmt.Errorf("pn532: connecting %s: %w", bus.Path, err)
		}
		t, closer = pn532.NewSPI(c, pn532.SPIOptions{IRQ: irq, Name: bus.Path}), p
	case pn532.BusUART:
		u, err := OpenSerial(bus.Path)
		if err != nil {
			return nil, nil, err // a *reader.UnavailableError
		}
		t, closer = u, u
	default:
		return nil, nil, fmt.Errorf("pn532: unknown bus kind %q", bus.Kind)
	}
	r, err := pn532.New(ctx, t, opts.Reader)
	if err != nil {
		return nil, nil, errors.Join(err, closer.Close())
	}
	return r, closer, nil
}

// busReader is a Reader that closes its bus with it.
type busReader struct {
	*pn532.Reader
	bus io.Closer
}

// Close closes the reader and then its bus.
func (r busReader) Close() error {
	return errors.Join(r.Reader.Close(), r.bus.Close())
}

// OpenReader is Open for the reader loop: the returned reader closes the bus
// when it is closed.
func OpenReader(ctx context.Context, bus pn532.Bus, opts Options) (reader.Reader, error) {
	r, c, err := Open(ctx, bus, opts)
	if err != nil {
		return nil, err
	}
	return busReader{Reader: r, bus: c}, nil
}
