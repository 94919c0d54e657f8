package hardwaretest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/hardware/hardwaretest"
)

const ms = time.Millisecond

func TestClockFiresInDeadlineOrder(t *testing.T) {
	c := hardwaretest.NewClock()
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Since(hardwaretest.Epoch).String()) }
	}
	c.AfterFunc(300*ms, at("c"))
	c.AfterFunc(100*ms, at("a"))
	c.AfterFunc(100*ms, at("a2")) // same deadline: creation order
	stopped := c.AfterFunc(200*ms, at("never"))
	c.AfterFunc(100*ms, func() {
		// A timer made while firing fires in the same Advance.
		c.AfterFunc(50*ms, at("b"))
	})
	if !stopped.Stop() {
		t.Error("Stop of a pending timer returned false")
	}
	if stopped.Stop() {
		t.Error("second Stop returned true")
	}
	c.Advance(250 * ms)
	if want := []string{"a@100ms", "a2@100ms", "b@150ms"}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if c.Pending() != 1 {
		t.Errorf("pending %d, want 1", c.Pending())
	}
	if d := c.Since(hardwaretest.Epoch); d != 250*ms {
		t.Errorf("clock at %v after Advance(250ms)", d)
	}
	c.Advance(time.Second)
	if got[len(got)-1] != "c@300ms" || c.Pending() != 0 {
		t.Errorf("fired %v, pending %d", got, c.Pending())
	}
	fired := false
	c.AfterFunc(-time.Second, func() { fired = true })
	c.Advance(0)
	if !fired {
		t.Error("a negative delay did not fire on Advance(0)")
	}
}

func TestRecorder(t *testing.T) {
	c := hardwaretest.NewClock()
	r := hardwaretest.NewRecorder(c)
	ctx := context.Background()
	if _, ok := r.Last(); ok {
		t.Error("Last on an empty recorder")
	}
	_ = r.Show(ctx, hardware.SignalReady)
	c.Advance(time.Second)
	boom := errors.New("boom")
	r.FailOn(hardware.SignalReject, boom)
	_ = r.Show(ctx, hardware.SignalAccept)
	if err := r.ShowReasons(ctx, hardware.SignalReject, []string{"age_not_met"}); !errors.Is(err, boom) {
		t.Errorf("FailOn: %v", err)
	}
	r.FailOn(hardware.SignalReject, nil)
	r.Fail(boom)
	if err := r.Show(ctx, hardware.SignalReady); !errors.Is(err, boom) {
		t.Errorf("Fail: %v", err)
	}
	r.Fail(nil)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.Show(canceled, hardware.SignalFault); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	want := []hardwaretest.Shown{
		{At: 0, Signal: hardware.SignalReady},
		{At: time.Second, Signal: hardware.SignalAccept},
		{At: time.Second, Signal: hardware.SignalReject, Reasons: []string{"age_not_met"}, Err: boom},
		{At: time.Second, Signal: hardware.SignalReady, Err: boom},
	}
	got := r.Shown()
	if len(got) != len(want) {
		t.Fatalf("shown %+v", got)
	}
	for i := range want {
		if got[i].At != want[i].At || got[i].Signal != want[i].Signal || !slices.Equal(got[i].Reasons, want[i].Reasons) || got[i].Err != want[i].Err {
			t.Errorf("shown[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if s := r.Signals(); !slices.Equal(s, []hardware.Signal{hardware.SignalReady, hardware.SignalAccept, hardware.SignalReject, hardware.SignalReady}) {
		t.Errorf("Signals %v", s)
	}
	r.FailClose(boom)
	if err := r.Close(); !errors.Is(err, boom) || r.Closed() != 1 {
		t.Errorf("Close: %v, closed %d", err, r.Closed())
	}
	if err := r.Show(ctx, hardware.SignalReady); !errors.Is(err, hardware.ErrClosed) {
		t.Errorf("Show after Close: %v", err)
	}
	if last, _ := r.Last(); last != hardware.SignalReady {
		t.Errorf("Last %v", last)
	}
}

func TestBoard(t *testing.T) {
	c := hardwaretest.NewClock()
	b := hardwaretest.NewBoard(c, "GPIO17", "GPIO27")
	p, err := b.Lookup("GPIO17")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lookup("GPIO4"); err == nil {
		t.Error("Lookup of a missing pin succeeded")
	}
	if p.Name() != "GPIO17" {
		t.Errorf("Name %q", p.Name())
	}
	_ = p.Out(gpio.High)
	c.Advance(20 * ms)
	boom := errors.New("boom")
	b.Fail("GPIO17", boom)
	if err := p.Out(gpio.Low); !errors.Is(err, boom) {
		t.Errorf("failing Out: %v", err)
	}
	if b.Level("GPIO17") != gpio.High || b.Level("GPIO27") != gpio.Low || b.Level("nope") != gpio.Low {
		t.Error("levels wrong")
	}
	b.Fail("GPIO17", nil)
	_ = p.Out(gpio.Low)
	want := []hardwaretest.PinEvent{{At: 0, Pin: "GPIO17", Level: gpio.High}, {At: 20 * ms, Pin: "GPIO17", Level: gpio.Low}}
	if got := b.Log(); !slices.Equal(got, want) {
		t.Errorf("log %v, want %v", got, want)
	}
	if s := want[1].String(); s != "+20ms GPIO17 Low" {
		t.Errorf("String %q", s)
	}
	b.ResetLog()
	if len(b.Log()) != 0 {
		t.Error("ResetLog kept events")
	}
}
