package pn532

import (
	"fmt"
	"strings"
)

// Bus kinds of a bus spec.
const (
	BusI2C  = "i2c"
	BusSPI  = "spi"
	BusUART = "uart"
)

// Bus names the bus a chip hangs on: "i2c:/dev/i2c-1", "spi:/dev/spidev0.0"
// or "uart:/dev/ttyAMA0" (the form of the configuration's bus: setting and
// of --pn532).
type Bus struct {
	// Kind is BusI2C, BusSPI or BusUART.
	Kind string
	// Path is the device: an I2C bus, an SPI device, or a serial port.
	Path string
}

// ParseBus parses KIND:PATH.
func ParseBus(s string) (Bus, error) {
	kind, path, ok := strings.Cut(s, ":")
	if !ok || path == "" {
		return Bus{}, fmt.Errorf("pn532: bus %q: want i2c:/dev/i2c-N, spi:/dev/spidevB.C or uart:/dev/TTY", s)
	}
	switch kind {
	case BusI2C, BusSPI, BusUART:
	default:
		return Bus{}, fmt.Errorf("pn532: bus %q: unknown kind %q (i2c, spi or uart)", s, kind)
	}
	if !strings.HasPrefix(path, "/") {
		return Bus{}, fmt.Errorf("pn532: bus %q: the device must be an absolute path", s)
	}
	return Bus{Kind: kind, Path: path}, nil
}

// String returns KIND:PATH.
func (b Bus) String() string { return b.Kind + ":" + b.Path }
