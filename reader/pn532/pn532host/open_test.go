package pn532host

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pn532"
)

// TestOpenMissingBus: a bus that is not there is a reader that cannot be
// used, told in one line saying what to do; no hardware needed.
func TestOpenMissingBus(t *testing.T) {
	for _, tc := range []struct {
		bus  pn532.Bus
		want string
	}{
		{pn532.Bus{Kind: pn532.BusI2C, Path: "/dev/nonexist"}, "no I2C bus /dev/nonexist (enable it: raspi-config → Interface Options → I2C)"},
		{pn532.Bus{Kind: pn532.BusSPI, Path: "/dev/nonexist"}, "no SPI device /dev/nonexist (enable it: raspi-config → Interface Options → SPI)"},
		{pn532.Bus{Kind: pn532.BusUART, Path: "/nonexistent/ttyX"}, "cannot open serial port /nonexistent/ttyX: "},
	} {
		_, _, err := Open(context.Background(), tc.bus, Options{})
		ue := reader.Unavailable(err)
		if ue == nil || !strings.HasPrefix(ue.Error(), tc.want) || !errors.Is(err, reader.ErrNoReader) {
			t.Errorf("%s: %v", tc.bus, err)
			continue
		}
		if strings.Contains(ue.Error(), "\n") || ue.Error() != err.Error() {
			t.Errorf("%s: not one line: %q", tc.bus, err)
		}
		if _, err := OpenReader(context.Background(), tc.bus, Options{}); reader.Unavailable(err) == nil {
			t.Errorf("OpenReader %s: %v", tc.bus, err)
		}
	}
	if _, err := OpenSerial("/nonexistent/ttyX"); reader.Unavailable(err) == nil || !errors.Is(err, reader.ErrNoReader) {
		t.Errorf("OpenSerial: %v", err)
	}
}
