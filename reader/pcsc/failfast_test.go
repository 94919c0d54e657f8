//go:build cgo

package pcsc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pcsc"
)

const noService = "pcscd is not running (start it: systemctl start pcscd)"

// TestFailFastUnknownReader: an unknown name fails at once, listing the
// readers present; without FailFast it still names them when ctx ends.
func TestFailFastUnknownReader(t *testing.T) {
	info := rig.Require(t)
	for _, ff := range []bool{true, false} {
		p, _ := pcsc.New(pcsc.Options{FailFast: ff})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		_, err := p.Open(ctx, "no such reader 00 00")
		cancel()
		ue := reader.Unavailable(err)
		if ue == nil || !errors.Is(err, reader.ErrNoReader) {
			t.Fatalf("failfast=%v: %v, want an UnavailableError wrapping ErrNoReader", ff, err)
		}
		for _, r := range info.Readers {
			if !strings.Contains(ue.Reason, `"`+r+`"`) {
				t.Errorf("failfast=%v: %q does not list %q", ff, ue.Reason, r)
			}
		}
		if ff && time.Since(start) > 100*time.Millisecond {
			t.Errorf("fail-fast open took %v", time.Since(start))
		}
	}
}

// TestFailFastNoService: with pcscd stopped, Open fails at once with
// FailFast, and a Wait blocked when pcscd stops returns; without FailFast
// Open waits for pcscd until ctx ends, then says the same.
func TestFailFastNoService(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{FailFast: true}, info.Readers[0])
	waited := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := r.Wait(ctx)
		waited <- err
	}()
	time.Sleep(100 * time.Millisecond)
	rig.StopPCSCD(t)
	stopped := time.Now()
	select {
	case err := <-waited:
		if ue := reader.Unavailable(err); ue == nil || ue.Reason != noService || !errors.Is(err, reader.ErrServiceUnavailable) {
			t.Errorf("Wait across the stop: %v", err)
		}
		t.Logf("Wait returned %v after the stop", time.Since(stopped).Round(time.Millisecond))
	case <-time.After(2 * time.Second):
		t.Fatal("Wait still blocked 2 s after pcscd stopped")
	}

	p, _ := pcsc.New(pcsc.Options{FailFast: true})
	start := time.Now()
	_, err := p.Open(context.Background(), info.Readers[0])
	if ue := reader.Unavailable(err); ue == nil || ue.Reason != noService || !errors.Is(err, reader.ErrServiceUnavailable) {
		t.Errorf("Open: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("fail-fast Open took %v", d)
	}

	p, _ = pcsc.New(pcsc.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = p.Open(ctx, info.Readers[0])
	if ue := reader.Unavailable(err); ue == nil || ue.Reason != noService || !errors.Is(err, reader.ErrTimeout) {
		t.Errorf("waiting Open: %v", err)
	}
}

// TestAvailabilityReports: a Wait blocked while pcscd stops and starts
// again reports both, as they happen, and keeps waiting.
func TestAvailabilityReports(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[0])
	reports := make(chan error, 16)
	r.(reader.AvailabilityReporter).SetAvailability(func(err error) { reports <- err })
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := r.Wait(ctx)
		waited <- err
	}()
	time.Sleep(100 * time.Millisecond)
	next := func(what string) error {
		t.Helper()
		select {
		case err := <-reports:
			return err
		case <-time.After(time.Second):
			t.Fatalf("no report within 1 s of %s", what)
			return nil
		}
	}
	rig.StopPCSCD(t)
	if err := next("the stop"); reader.Unavailable(err) == nil || reader.Unavailable(err).Reason != noService {
		t.Errorf("report after the stop: %v", err)
	}
	rig.StartPCSCD(t)
	if err := next("the start"); err != nil {
		t.Errorf("report after the start: %v", err)
	}
	select {
	case err := <-waited:
		t.Fatalf("Wait returned across the restart: %v", err)
	default:
	}
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel: %v", err)
	}
	if len(reports) != 0 {
		t.Errorf("%d more reports", len(reports))
	}
}
