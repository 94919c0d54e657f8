package hardware_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/hardware/hardwaretest"
)

// plain is an Output that is not a ReasonShower.
type plain struct{ shown []hardware.Signal }

func (p *plain) Show(_ context.Context, s hardware.Signal) error {
	p.shown = append(p.shown, s)
	return nil
}
func (p *plain) Close() error { return nil }

func TestMultiShowsOnAllAndJoinsErrors(t *testing.T) {
	a, b := hardwaretest.NewRecorder(nil), hardwaretest.NewRecorder(nil)
	p := &plain{}
	m := hardware.Multi(a, nil, b, p)
	ctx := context.Background()
	errA, errB := errors.New("a broke"), errors.New("b broke")
	a.Fail(errA)
	b.FailOn(hardware.SignalReject, errB)
	err := m.Show(ctx, hardware.SignalReject)
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("Show: %v, want both errors", err)
	}
	if !strings.Contains(err.Error(), "showing reject on output 0") || !strings.Contains(err.Error(), "output 1") {
		t.Errorf("error does not name the outputs: %v", err)
	}
	a.Fail(nil)
	if err := hardware.ShowReasons(ctx, m, hardware.SignalAccept, []string{"ok"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*hardwaretest.Recorder{a, b} {
		if s := r.Signals(); !slices.Equal(s, []hardware.Signal{hardware.SignalReject, hardware.SignalAccept}) {
			t.Errorf("recorder saw %v", s)
		}
		if got := r.Shown()[1].Reasons; !slices.Equal(got, []string{"ok"}) {
			t.Errorf("reasons %v", got)
		}
	}
	if !slices.Equal(p.shown, []hardware.Signal{hardware.SignalReject, hardware.SignalAccept}) {
		t.Errorf("plain output saw %v", p.shown)
	}
	b.FailClose(errB)
	if err := m.Close(); !errors.Is(err, errB) || a.Closed() != 1 || b.Closed() != 1 {
		t.Errorf("Close: %v (closed %d, %d)", err, a.Closed(), b.Closed())
	}
}

func TestMultiEmpty(t *testing.T) {
	m := hardware.Multi()
	if err := m.Show(context.Background(), hardware.SignalReady); err != nil {
		t.Error(err)
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
}

func TestShowReasonsFallsBackToShow(t *testing.T) {
	p := &plain{}
	if err := hardware.ShowReasons(context.Background(), p, hardware.SignalReject, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.shown, []hardware.Signal{hardware.SignalReject}) {
		t.Errorf("shown %v", p.shown)
	}
}
