package daemon_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/reader"
)

// reportingReader is a reader that reports its availability
// (reader.AvailabilityReporter), as a PC/SC reader does when pcscd goes.
type reportingReader struct {
	reader.Reader
	mu sync.Mutex
	f  func(error)
	ok chan struct{} // closed once SetAvailability was called
}

func (r *reportingReader) SetAvailability(f func(error)) {
	r.mu.Lock()
	r.f = f
	r.mu.Unlock()
	close(r.ok)
}

func (r *reportingReader) report(err error) {
	r.mu.Lock()
	f := r.f
	r.mu.Unlock()
	f(err)
}

// TestReaderReportsAvailability: a reader that reports itself unusable
// while idle turns its status down at once, with the one-line reason, and
// up and ready again when it reports it is back.
func TestReaderReportsAvailability(t *testing.T) {
	var rr *reportingReader
	h := startWith(t, "age-21", daemon.Timeouts{}, func(spec *daemon.ReaderSpec) {
		open := spec.Open
		spec.Open = func(ctx context.Context) (reader.Reader, error) {
			rd, err := open(ctx)
			rr = &reportingReader{Reader: rd, ok: make(chan struct{})}
			return rr, err
		}
	}, "desk")
	<-rr.ok
	status := func() daemon.ReaderStatus {
		for _, s := range h.d.Readers() {
			if s.Name == "desk" {
				return s
			}
		}
		t.Fatal("no reader desk")
		return daemon.ReaderStatus{}
	}
	if s := status(); !s.Up || s.Reason != "" {
		t.Fatalf("at the start: %+v", s)
	}
	const why = "pcscd is not running (start it: systemctl start pcscd)"
	rr.report(&reader.UnavailableError{Reason: why, Err: errors.Join(reader.ErrServiceUnavailable, errors.New("scard: Service not available"))})
	h.next(t, "desk", daemon.EventReaderDown)
	if s := status(); s.Up || s.Reason != why {
		t.Errorf("after the report: %+v, want down with %q", s, why)
	}
	if seen := h.outputs["desk"].seen(); len(seen) == 0 || seen[len(seen)-1] != hardware.SignalFault {
		t.Errorf("outputs %v, want the fault signal last", seen)
	}
	// Still down, for another reason: the reason follows.
	rr.report(&reader.UnavailableError{Reason: `reader "desk" was unplugged`, Err: reader.ErrNoReader})
	if s := status(); s.Up || s.Reason != `reader "desk" was unplugged` {
		t.Errorf("unplugged: %+v", s)
	}
	rr.report(nil)
	h.next(t, "desk", daemon.EventReaderUp)
	h.next(t, "desk", daemon.EventReady)
	if s := status(); !s.Up || s.Reason != "" {
		t.Errorf("back: %+v", s)
	}
	// A tap is served as before.
	if e := h.tap(t, "desk", h.wallet(t, wallet.Config{}, h.w.Adult)); e.Decision != daemon.DecisionAccept {
		t.Errorf("tap after the reader came back: %s %v", e.Decision, e.Reasons)
	}
}
