package gpio_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/idreader/idreader/hardware"
	hwgpio "github.com/idreader/idreader/hardware/gpio"
	"github.com/idreader/idreader/hardware/hardwaretest"
)

const ms = time.Millisecond

var (
	H = gpio.High
	L = gpio.Low
)

func ev(at time.Duration, pin string, l gpio.Level) hardwaretest.PinEvent {
	return hardwaretest.PinEvent{At: at, Pin: pin, Level: l}
}

// rig is an Output on a fake board with all four pins fitted.
type rig struct {
	clock *hardwaretest.Clock
	board *hardwaretest.Board
	out   *hwgpio.Output
}

func fullConfig() hwgpio.Config {
	return hwgpio.Config{Green: "G", Red: "R", Buzzer: "B", Relay: "K"}
}

func newRig(t *testing.T, cfg hwgpio.Config, opts ...func(*hwgpio.Options)) *rig {
	t.Helper()
	clock := hardwaretest.NewClock()
	board := hardwaretest.NewBoard(clock, "G", "R", "B", "K")
	o := hwgpio.Options{Lookup: board.Lookup, Clock: clock}
	for _, f := range opts {
		f(&o)
	}
	out, err := hwgpio.New(cfg, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	board.ResetLog()
	return &rig{clock: clock, board: board, out: out}
}

func (r *rig) show(t *testing.T, s hardware.Signal) {
	t.Helper()
	if err := r.out.Show(context.Background(), s); err != nil {
		t.Fatalf("Show(%v): %v", s, err)
	}
}

func wantLog(t *testing.T, b *hardwaretest.Board, want ...hardwaretest.PinEvent) {
	t.Helper()
	got := b.Log()
	if !slices.Equal(got, want) {
		t.Errorf("pin log:\n got %v\nwant %v", got, want)
	}
}

func wantLevels(t *testing.T, b *hardwaretest.Board, want map[string]gpio.Level) {
	t.Helper()
	for pin, l := range want {
		if got := b.Level(pin); got != l {
			t.Errorf("pin %s is %v, want %v", pin, got, l)
		}
	}
}

func allLow(t *testing.T, b *hardwaretest.Board) {
	t.Helper()
	wantLevels(t, b, map[string]gpio.Level{"G": L, "R": L, "B": L, "K": L})
}

func TestNewDrivesEveryPinInactive(t *testing.T) {
	clock := hardwaretest.NewClock()
	board := hardwaretest.NewBoard(clock, "G", "R", "B", "K")
	cfg := fullConfig()
	cfg.RelayActiveLow = true
	if _, err := hwgpio.New(cfg, hwgpio.Options{Lookup: board.Lookup, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	wantLog(t, board, ev(0, "G", L), ev(0, "R", L), ev(0, "B", L), ev(0, "K", H))
}

func TestAccept(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalAccept)
	// Initial levels are set before Show returns.
	wantLog(t, r.board, ev(0, "G", H), ev(0, "B", H), ev(0, "K", H))
	r.clock.Advance(10 * time.Second)
	wantLog(t, r.board,
		ev(0, "G", H), ev(0, "B", H), ev(0, "K", H),
		ev(100*ms, "B", L), // DefaultAcceptBeep
		ev(500*ms, "K", L), // DefaultRelayPulse
		ev(3*time.Second, "G", L),
	)
	allLow(t, r.board)
	if n := r.clock.Pending(); n != 0 {
		t.Errorf("%d timers pending after the pattern", n)
	}
}

func TestAcceptAfterReadyStartsAtShow(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalReady)
	r.clock.Advance(7 * time.Second)
	r.show(t, hardware.SignalAccept)
	r.clock.Advance(time.Second)
	t0 := 7 * time.Second
	wantLog(t, r.board,
		ev(0, "G", H),                  // ready: green steady
		ev(t0, "B", H), ev(t0, "K", H), // green already on: not rewritten
		ev(t0+100*ms, "B", L),
		ev(t0+500*ms, "K", L),
	)
}

func TestReject(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalReject)
	r.clock.Advance(10 * time.Second)
	wantLog(t, r.board,
		ev(0, "R", H), ev(0, "B", H),
		ev(100*ms, "B", L), ev(200*ms, "B", H),
		ev(300*ms, "B", L), ev(400*ms, "B", H),
		ev(500*ms, "B", L),
		ev(3*time.Second, "R", L),
	)
	allLow(t, r.board)
}

func TestRejectCutsAcceptShort(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalAccept)
	r.clock.Advance(50 * ms)
	r.show(t, hardware.SignalReject)
	// The relay drops first, before anything is switched on.
	wantLog(t, r.board,
		ev(0, "G", H), ev(0, "B", H), ev(0, "K", H),
		ev(50*ms, "K", L), ev(50*ms, "G", L), ev(50*ms, "R", H),
	)
	r.board.ResetLog()
	r.clock.Advance(10 * time.Second)
	// The buzzer was on and stays on into the reject beep; nothing of the
	// accept pattern (buzzer at 100ms, relay at 500ms, green at 3s) fires.
	t0 := 50 * ms
	wantLog(t, r.board,
		ev(t0+100*ms, "B", L), ev(t0+200*ms, "B", H),
		ev(t0+300*ms, "B", L), ev(t0+400*ms, "B", H),
		ev(t0+500*ms, "B", L),
		ev(t0+3*time.Second, "R", L),
	)
}

func TestReadyModes(t *testing.T) {
	t.Run("steady", func(t *testing.T) {
		r := newRig(t, fullConfig())
		r.show(t, hardware.SignalReady)
		r.clock.Advance(time.Minute)
		wantLog(t, r.board, ev(0, "G", H))
		if n := r.clock.Pending(); n != 0 {
			t.Errorf("%d timers pending for a steady state", n)
		}
	})
	t.Run("blink", func(t *testing.T) {
		cfg := fullConfig()
		cfg.Ready = hwgpio.ReadyBlink
		r := newRig(t, cfg)
		r.show(t, hardware.SignalReady)
		r.clock.Advance(4100 * ms)
		wantLog(t, r.board,
			ev(0, "G", H), ev(100*ms, "G", L),
			ev(2000*ms, "G", H), ev(2100*ms, "G", L),
			ev(4000*ms, "G", H), ev(4100*ms, "G", L),
		)
	})
	t.Run("off", func(t *testing.T) {
		cfg := fullConfig()
		cfg.Ready = hwgpio.ReadyDark
		r := newRig(t, cfg)
		r.show(t, hardware.SignalReady)
		r.clock.Advance(time.Minute)
		wantLog(t, r.board)
		allLow(t, r.board)
	})
}

func TestReadingBlinksUntilNextShow(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalReading)
	r.clock.Advance(500 * ms)
	r.show(t, hardware.SignalReject) // green goes off at once, blink stops
	r.clock.Advance(time.Minute)
	got := r.board.Log()
	want := []hardwaretest.PinEvent{
		ev(0, "G", H), ev(125*ms, "G", L), ev(250*ms, "G", H), ev(375*ms, "G", L), ev(500*ms, "G", H),
		ev(500*ms, "G", L), ev(500*ms, "R", H), ev(500*ms, "B", H),
	}
	if !slices.Equal(got[:len(want)], want) {
		t.Fatalf("pin log:\n got %v\nwant prefix %v", got, want)
	}
	for _, e := range got[len(want):] {
		if e.Pin == "G" {
			t.Errorf("green written after the reject: %v", e)
		}
	}
}

func TestReadingSteadyWithEmptyPattern(t *testing.T) {
	cfg := fullConfig()
	cfg.Ready = hwgpio.ReadyDark
	cfg.ReadingBlink = []time.Duration{}
	r := newRig(t, cfg)
	r.show(t, hardware.SignalReading)
	r.clock.Advance(time.Minute)
	wantLog(t, r.board, ev(0, "G", H))
}

func TestFault(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalFault)
	r.clock.Advance(1000 * ms)
	wantLog(t, r.board,
		ev(0, "R", H), ev(0, "B", H),
		ev(250*ms, "R", L), ev(500*ms, "B", L), ev(500*ms, "R", H), // ties fire in timer creation order
		ev(750*ms, "R", L), ev(1000*ms, "R", H),
	)
	r.show(t, hardware.SignalOff)
	if n := r.clock.Pending(); n != 0 {
		t.Errorf("%d timers pending after Off", n)
	}
	allLow(t, r.board)
}

func TestCustomPatterns(t *testing.T) {
	cfg := fullConfig()
	cfg.AcceptHold = -1                                                   // until the next signal
	cfg.AcceptBeep = []time.Duration{50 * ms, 20 * ms, 50 * ms, 999 * ms} // trailing off ignored
	cfg.RelayPulse = 2 * time.Second
	r := newRig(t, cfg)
	r.show(t, hardware.SignalAccept)
	r.clock.Advance(time.Hour)
	wantLog(t, r.board,
		ev(0, "G", H), ev(0, "B", H), ev(0, "K", H),
		ev(50*ms, "B", L), ev(70*ms, "B", H), ev(120*ms, "B", L),
		ev(2*time.Second, "K", L),
	)
	wantLevels(t, r.board, map[string]gpio.Level{"G": H})
}

func TestSilentBuzzer(t *testing.T) {
	cfg := fullConfig()
	cfg.AcceptBeep = []time.Duration{}
	r := newRig(t, cfg)
	r.show(t, hardware.SignalAccept)
	r.clock.Advance(time.Minute)
	for _, e := range r.board.Log() {
		if e.Pin == "B" {
			t.Errorf("buzzer written with an empty beep: %v", e)
		}
	}
}

func TestActiveLow(t *testing.T) {
	cfg := fullConfig()
	cfg.RelayActiveLow = true
	cfg.GreenActiveLow = true
	r := newRig(t, cfg)
	r.show(t, hardware.SignalAccept)
	r.clock.Advance(time.Second)
	wantLog(t, r.board,
		ev(0, "G", L), ev(0, "B", H), ev(0, "K", L),
		ev(100*ms, "B", L), ev(500*ms, "K", H),
	)
	if err := r.out.Close(); err != nil {
		t.Fatal(err)
	}
	wantLevels(t, r.board, map[string]gpio.Level{"G": H, "R": L, "B": L, "K": H})
}

func TestNotFittedPins(t *testing.T) {
	clock := hardwaretest.NewClock()
	board := hardwaretest.NewBoard(clock, "K") // only the relay exists
	out, err := hwgpio.New(hwgpio.Config{Relay: "K"}, hwgpio.Options{Lookup: board.Lookup, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []hardware.Signal{hardware.SignalReady, hardware.SignalReading, hardware.SignalReject, hardware.SignalFault, hardware.SignalAccept} {
		if err := out.Show(context.Background(), s); err != nil {
			t.Fatalf("Show(%v): %v", s, err)
		}
	}
	clock.Advance(time.Second)
	wantLog(t, board, ev(0, "K", L), ev(0, "K", H), ev(500*ms, "K", L))
}

func TestCloseLeavesEverythingInert(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalAccept)
	r.clock.Advance(20 * ms)
	if err := r.out.Close(); err != nil {
		t.Fatal(err)
	}
	allLow(t, r.board)
	if n := r.clock.Pending(); n != 0 {
		t.Errorf("%d timers pending after Close", n)
	}
	r.board.ResetLog()
	r.clock.Advance(time.Hour)
	wantLog(t, r.board)
	if err := r.out.Show(context.Background(), hardware.SignalReady); !errors.Is(err, hardware.ErrClosed) {
		t.Errorf("Show after Close: %v, want ErrClosed", err)
	}
	if err := r.out.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOffForcesEveryPin(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalOff)
	// Off writes the inactive level even to pins believed inactive.
	wantLog(t, r.board, ev(0, "K", L), ev(0, "B", L), ev(0, "R", L), ev(0, "G", L))
}

func TestShowErrors(t *testing.T) {
	r := newRig(t, fullConfig())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.out.Show(ctx, hardware.SignalAccept); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
	if err := r.out.Show(context.Background(), hardware.Signal(42)); err == nil || !strings.Contains(err.Error(), "unknown signal") {
		t.Errorf("unknown signal: %v", err)
	}
	wantLog(t, r.board)
}

func TestPinWriteErrorIsReturnedAndRetried(t *testing.T) {
	r := newRig(t, fullConfig())
	broken := errors.New("line busy")
	r.board.Fail("G", broken)
	err := r.out.Show(context.Background(), hardware.SignalAccept)
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "green pin G") {
		t.Fatalf("Show: %v, want the pin's error naming the green pin", err)
	}
	// The other pins still got the pattern.
	wantLevels(t, r.board, map[string]gpio.Level{"B": H, "K": H})
	r.board.Fail("G", nil)
	r.show(t, hardware.SignalReady)
	wantLevels(t, r.board, map[string]gpio.Level{"G": H, "B": L, "K": L})
}

func TestBackgroundErrorKeptForNextCall(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalAccept)
	broken := errors.New("line busy")
	r.board.Fail("K", broken)
	r.clock.Advance(time.Second) // the relay fails to drop at 500ms
	r.board.Fail("K", nil)
	err := r.out.Show(context.Background(), hardware.SignalReady)
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "earlier pattern") {
		t.Fatalf("Show: %v, want the kept background error", err)
	}
	// The failed write left the level unknown, so Ready drives it again.
	wantLevels(t, r.board, map[string]gpio.Level{"K": L})
	if err := r.out.Show(context.Background(), hardware.SignalReady); err != nil {
		t.Errorf("second Show still reports: %v", err)
	}
}

func TestBackgroundErrorToOnError(t *testing.T) {
	var got []error
	r := newRig(t, fullConfig(), func(o *hwgpio.Options) {
		o.OnError = func(err error) { got = append(got, err) }
	})
	r.show(t, hardware.SignalAccept)
	broken := errors.New("line busy")
	r.board.Fail("B", broken)
	r.clock.Advance(time.Second)
	if len(got) != 1 || !errors.Is(got[0], broken) {
		t.Fatalf("OnError got %v", got)
	}
	r.board.Fail("B", nil)
	if err := r.out.Close(); err != nil {
		t.Errorf("Close: %v (the error went to OnError)", err)
	}
	allLow(t, r.board)
}

func TestCloseReportsPinErrors(t *testing.T) {
	r := newRig(t, fullConfig())
	r.show(t, hardware.SignalAccept)
	broken := errors.New("line busy")
	r.board.Fail("G", broken)
	if err := r.out.Close(); !errors.Is(err, broken) {
		t.Fatalf("Close: %v", err)
	}
	// Every other pin was still released.
	wantLevels(t, r.board, map[string]gpio.Level{"R": L, "B": L, "K": L})
}

func TestNewLookupErrors(t *testing.T) {
	clock := hardwaretest.NewClock()
	board := hardwaretest.NewBoard(clock, "G", "R")
	_, err := hwgpio.New(hwgpio.Config{Green: "G", Red: "R", Relay: "nope"}, hwgpio.Options{Lookup: board.Lookup, Clock: clock})
	if err == nil || !strings.Contains(err.Error(), `relay pin "nope"`) {
		t.Fatalf("New: %v", err)
	}
	_, err = hwgpio.New(hwgpio.Config{Green: "G"}, hwgpio.Options{Clock: clock})
	if err == nil || !strings.Contains(err.Error(), "Lookup") {
		t.Errorf("New without Lookup: %v", err)
	}
	_, err = hwgpio.New(hwgpio.Config{Green: "G"}, hwgpio.Options{Clock: clock, Lookup: func(string) (gpio.PinIO, error) { return nil, nil }})
	if err == nil {
		t.Error("New with a nil pin: no error")
	}
	board.Fail("R", errors.New("busy"))
	_, err = hwgpio.New(hwgpio.Config{Green: "G", Red: "R"}, hwgpio.Options{Lookup: board.Lookup, Clock: clock})
	if err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("New with a failing pin: %v", err)
	}
}

func TestConcurrentShows(t *testing.T) {
	r := newRig(t, fullConfig())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				_ = r.out.Show(context.Background(), hardware.Signal((i+j)%6))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			r.clock.Advance(37 * ms)
		}
	}()
	wg.Wait()
	if err := r.out.Close(); err != nil {
		t.Fatal(err)
	}
	allLow(t, r.board)
}

func TestConfigDefaults(t *testing.T) {
	in := hwgpio.Config{Green: "G"}
	c := in.WithDefaults()
	if c.Ready != hwgpio.ReadySteady || c.AcceptHold != 3*time.Second || c.RejectHold != 3*time.Second ||
		c.RelayPulse != 500*ms || !slices.Equal(c.AcceptBeep, []time.Duration{100 * ms}) ||
		len(c.RejectBeep) != 5 || !slices.Equal(c.FaultBlink, []time.Duration{250 * ms, 250 * ms}) {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	// The caller's slices are not shared.
	beep := []time.Duration{10 * ms}
	c = hwgpio.Config{Green: "G", AcceptBeep: beep}.WithDefaults()
	c.AcceptBeep[0] = time.Hour
	if beep[0] != 10*ms {
		t.Error("WithDefaults shares the caller's slice")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*hwgpio.Config)
		want string
	}{
		{"no pins", func(c *hwgpio.Config) { *c = hwgpio.Config{} }, "no pins"},
		{"shared pin", func(c *hwgpio.Config) { c.Relay = "G" }, `Relay: pin "G" is already used by Green`},
		{"ready mode", func(c *hwgpio.Config) { c.Ready = "pulse" }, "Ready: unknown mode"},
		{"relay too long", func(c *hwgpio.Config) { c.RelayPulse = 2 * time.Minute }, "RelayPulse"},
		{"relay negative", func(c *hwgpio.Config) { c.RelayPulse = -1 }, "RelayPulse"},
		{"zero step", func(c *hwgpio.Config) { c.RejectBeep = []time.Duration{100 * ms, 0, 100 * ms} }, "RejectBeep: step 1"},
		{"negative step", func(c *hwgpio.Config) { c.FaultBeep = []time.Duration{-ms} }, "FaultBeep: step 0"},
		{"odd blink", func(c *hwgpio.Config) { c.ReadingBlink = []time.Duration{ms} }, "ReadingBlink: a repeating pattern"},
		{"long pattern", func(c *hwgpio.Config) { c.AcceptBeep = make([]time.Duration, 65) }, "AcceptBeep: 65 steps"},
		{"blink without pattern", func(c *hwgpio.Config) { c.Ready = hwgpio.ReadyBlink; c.ReadyBlink = []time.Duration{} }, "ReadyBlink: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fullConfig()
			tc.edit(&c)
			err := c.WithDefaults().Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
			if _, err := hwgpio.New(c, hwgpio.Options{Lookup: hardwaretest.NewBoard(nil, "G", "R", "B", "K").Lookup}); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
}

func TestOpenValidatesBeforeTouchingTheHost(t *testing.T) {
	// An invalid config fails before host.Init, so this never touches GPIO.
	if _, err := hwgpio.Open(hwgpio.Config{}, hwgpio.Options{}); err == nil || !strings.Contains(err.Error(), "no pins") {
		t.Fatalf("Open: %v", err)
	}
}

func ExampleNew() {
	clock := hardwaretest.NewClock()
	board := hardwaretest.NewBoard(clock, "GPIO17", "GPIO27", "GPIO22")
	out, err := hwgpio.New(hwgpio.Config{Green: "GPIO17", Buzzer: "GPIO27", Relay: "GPIO22"},
		hwgpio.Options{Lookup: board.Lookup, Clock: clock})
	if err != nil {
		panic(err)
	}
	board.ResetLog()
	_ = out.Show(context.Background(), hardware.SignalAccept)
	clock.Advance(5 * time.Second)
	_ = out.Close()
	for _, e := range board.Log() {
		fmt.Println(e)
	}
	// Output:
	// +0s GPIO17 High
	// +0s GPIO27 High
	// +0s GPIO22 High
	// +100ms GPIO27 Low
	// +500ms GPIO22 Low
	// +3s GPIO17 Low
	// +5s GPIO22 Low
	// +5s GPIO27 Low
	// +5s GPIO17 Low
}
