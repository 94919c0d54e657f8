package pn532test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532host"
)

// Buses a Rig connects the driver and the chip over.
const (
	BusI2C  = "i2c"
	BusSPI  = "spi"
	BusUART = "uart"
)

// Buses lists the bus names.
var Buses = []string{BusI2C, BusSPI, BusUART}

// ACK timeouts a Rig gives the driver unless told otherwise. The emulated
// chip shares the CPU with the test, so on a loaded machine (a CI runner
// with two cores running other tests) its ACK can take far longer than a
// real chip's millisecond. Over I2C and SPI it is in the test's process;
// over the UART every frame also crosses the kernel's pseudo-terminal twice,
// and with a load of 30 on two cores a round trip took 16 ms at the median,
// 0.7 s at the 99th percentile and 1.6 s at worst. A late ACK is harmless
// to correctness (the driver never sends a command twice that must not run
// twice, and it waits three timeouts for those), but past that the chip
// counts as silent and the tap fails; timeouts this long only slow the
// tests that make the chip silent.
const (
	EmulatedAckTimeout     = time.Second
	EmulatedUARTAckTimeout = 3 * time.Second
)

// AckTimeout returns the ACK timeout a Rig on bus gives the driver.
func AckTimeout(bus string) time.Duration {
	if bus == BusUART {
		return EmulatedUARTAckTimeout
	}
	return EmulatedAckTimeout
}

// Rig is the driver connected to an emulated chip over one bus: I2C and
// SPI in memory through periph.io's interfaces, the UART over a
// pseudo-terminal opened as a serial port.
type Rig struct {
	Chip      *Chip
	Transport pn532.Transport
	Reader    *pn532.Reader
	// AckTimeout is the driver's ACK timeout.
	AckTimeout time.Duration
	closers    []func() error
}

// NewRig makes a chip with chipOpts, connects it over bus and opens a
// pn532.Reader on it with opts; a zero ACK timeout in opts means
// AckTimeout(bus).
func NewRig(ctx context.Context, bus string, chipOpts Options, opts pn532.Options) (*Rig, error) {
	r := &Rig{Chip: New(chipOpts)}
	switch bus {
	case BusI2C:
		r.Transport = pn532.NewI2C(r.Chip.I2C(), pn532.I2COptions{Name: "emulated"})
	case BusSPI:
		c, err := r.Chip.SPI().Connect(pn532.SPIMaxSpeed, pn532.SPIMode, 8)
		if err != nil {
			return nil, err
		}
		r.Transport = pn532.NewSPI(c, pn532.SPIOptions{Name: "emulated"})
	case BusUART:
		pty, err := r.Chip.ServePTY()
		if err != nil {
			return nil, err
		}
		u, err := pn532host.OpenSerial(pty.Path)
		if err != nil {
			pty.Close()
			return nil, err
		}
		r.Transport = u
		r.closers = append(r.closers, u.Close, pty.Close)
	default:
		return nil, fmt.Errorf("pn532test: unknown bus %q (i2c, spi or uart)", bus)
	}
	if opts.Name == "" {
		opts.Name = "pn532:emulated:" + bus
	}
	if opts.Device.AckTimeout == 0 {
		opts.Device.AckTimeout = AckTimeout(bus)
	}
	r.AckTimeout = opts.Device.AckTimeout
	rd, err := pn532.New(ctx, r.Transport, opts)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.Reader = rd
	return r, nil
}

// Close closes the reader, the serial port and the pseudo-terminal.
func (r *Rig) Close() error {
	var errs []error
	if r.Reader != nil {
		errs = append(errs, r.Reader.Close())
	}
	for _, c := range r.closers {
		errs = append(errs, c())
	}
	r.closers = nil
	return errors.Join(errs...)
}
