package pcsc

import (
	"errors"
	"testing"

	"github.com/idreader/idreader/reader"
)

func TestUnavailableReasons(t *testing.T) {
	cases := []struct {
		err      error
		want     string
		sentinel error
	}{
		{errNoService(reader.ErrServiceUnavailable), "pcscd is not running (start it: systemctl start pcscd)", reader.ErrServiceUnavailable},
		{errNoSuchReader("X", []string{"A 00 00", "B 00 01"}, reader.ErrNoReader), `no reader named "X"; readers present: "A 00 00", "B 00 01"`, reader.ErrNoReader},
		{errNoSuchReader("X", nil, reader.ErrNoReader), `no reader named "X" (no reader is connected to pcscd)`, reader.ErrNoReader},
		{errNoSuchReader("", nil, reader.ErrNoReader), "no reader is connected to pcscd", reader.ErrNoReader},
		{errUnplugged("A 00 00", reader.ErrNoReader), `reader "A 00 00" was unplugged`, reader.ErrNoReader},
	}
	for _, tc := range cases {
		if tc.err.Error() != tc.want {
			t.Errorf("%q, want %q", tc.err.Error(), tc.want)
		}
		if !errors.Is(tc.err, tc.sentinel) || reader.Unavailable(tc.err) == nil {
			t.Errorf("%q: does not wrap %v or is not an UnavailableError", tc.err, tc.sentinel)
		}
	}
}
