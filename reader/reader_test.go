package reader

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCheckCommand(t *testing.T) {
	short, ext, vpcd := ShortLimits(), ExtendedLimits(0, 0), ExtendedLimits(0xFFFF, 0xFFFF)
	big := func(n int) []byte { b := make([]byte, n); b[4] = 0; return b }
	cases := []struct {
		name string
		l    Limits
		apdu []byte
		ok   bool
	}{
		{"empty", ext, nil, false},
		{"3 bytes", ext, []byte{0, 0xA4, 4}, false},
		{"case 1", short, []byte{0, 0xA4, 4, 0}, true},
		{"case 2S", short, []byte{0, 0xB0, 0, 0, 0}, true},
		{"short max", short, append(append([]byte{0x80, 0x10, 0, 0, 0xFF}, make([]byte, 255)...), 0), true},
		{"extended on short", short, []byte{0x80, 0x10, 0, 0, 0, 0, 1, 0xAB}, false},
		{"case 2E on short", short, []byte{0, 0xB0, 0, 0, 0, 0, 0}, false},
		{"extended", ext, []byte{0x80, 0x10, 0, 0, 0, 0, 1, 0xAB}, true},
		{"vpcd max", vpcd, big(0xFFFF), true},
		{"vpcd over", vpcd, big(0x10000), false},
		{"iso max", ext, big(MaxExtendedCommand), true},
		{"iso over", ext, big(MaxExtendedCommand + 1), false},
	}
	for _, c := range cases {
		err := c.l.CheckCommand(c.apdu)
		if (err == nil) != c.ok {
			t.Errorf("%s: CheckCommand = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrBadCommand) {
			t.Errorf("%s: %v does not wrap ErrBadCommand", c.name, err)
		}
	}
}

func TestLimits(t *testing.T) {
	if l := ShortLimits(); l.ExtendedAPDU || l.MaxCommand != 261 || l.MaxResponse != 258 {
		t.Errorf("ShortLimits() = %+v", l)
	}
	if l := ExtendedLimits(0, 0); !l.ExtendedAPDU || l.MaxCommand != 65544 || l.MaxResponse != 65538 {
		t.Errorf("ExtendedLimits(0, 0) = %+v", l)
	}
}

func TestCtxErr(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	err := CtxErr(ctx, "waiting")
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	err = CtxErr(ctx, "waiting")
	if errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
}
