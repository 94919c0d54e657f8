package gpio

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// Open is New on the host's real GPIO pins: it validates cfg, initialises
// periph's host drivers (host.Init) and, unless opts.Lookup is set, looks
// pins up by name with gpioreg.ByName. It is meant for cmd/ only; tests use
// New with fake pins.
func Open(cfg Config, opts Options) (*Output, error) {
	if err := cfg.WithDefaults().Validate(); err != nil {
		return nil, err
	}
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("gpio: initialising periph host drivers: %w", err)
	}
	if opts.Lookup == nil {
		opts.Lookup = byName
	}
	return New(cfg, opts)
}

func byName(name string) (gpio.PinIO, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("gpio: no pin named %q on this host", name)
	}
	return p, nil
}
