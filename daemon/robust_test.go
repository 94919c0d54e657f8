package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/idreader/idreader/daemon"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/terminal"
)

// TestAbandonedCheckStopsItsTap: a check whose caller stops waiting (its
// context ends or its timeout passes) while its tap runs cuts that tap
// short like DELETE /v1/checks/current: the holder's data is not read for
// nobody, not shown, and not kept as the last result for a later caller.
func TestAbandonedCheckStopsItsTap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration // the check's own timeout
		cancel  bool          // the caller's context ends once the tap runs
	}{
		{name: "context", timeout: 10 * time.Second, cancel: true},
		{name: "timeout", timeout: 400 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, "age-21", daemon.Timeouts{Exchange: 10 * time.Second}, "desk")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "identity", Timeout: tc.timeout})
				errc <- err
			}()
			waitArmed(t, h.d, "desk")
			// The wallet answers after 1.5 s, when the caller is gone.
			w := h.wallet(t, wallet.Config{Faults: wallet.Faults{Stall: 1500 * time.Millisecond}}, h.w.Adult)
			target := h.readers["desk"].Put(w)
			defer target.Remove()
			if e := h.next(t, "desk", daemon.EventReading); e.Profile != "identity" {
				t.Fatalf("reading with %q", e.Profile)
			}
			if tc.cancel {
				time.Sleep(50 * time.Millisecond)
				cancel()
			}
			err := <-errc
			if err == nil || (!errors.Is(err, context.Canceled) && !errors.Is(err, terminal.ErrTimeout)) {
				t.Fatalf("Check: %v", err)
			}
			e := h.next(t, "desk", daemon.EventDecision)
			if e.Decision != daemon.DecisionReject || !slices.Equal(e.Reasons, []string{"cancelled"}) || e.Personal != nil {
				t.Errorf("abandoned tap: %s %v personal=%v, want reject [cancelled] without personal data", e.Decision, e.Reasons, e.Personal != nil)
			}
			if last, ok := h.d.LastResult(); ok && len(last.Documents) > 0 {
				t.Errorf("the abandoned tap's disclosed data (%d documents) is kept as the last result", len(last.Documents))
			}
			if h.d.Armed("desk") {
				t.Error("still armed")
			}
		})
	}
}

// TestTapsLeakNoGoroutines: 200 taps (accepted, rejected, failed, some
// answering checks, some cancelled) leave the goroutine count where it was.
func TestTapsLeakNoGoroutines(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{Exchange: 200 * time.Millisecond, Removal: 50 * time.Millisecond}, "counter")
	good := h.wallet(t, wallet.Config{}, h.w.Adult)
	minor := h.wallet(t, wallet.Config{}, h.w.Minor)
	garbage := h.wallet(t, wallet.Config{Faults: wallet.Faults{Garbage: wallet.GarbageNotCBOR}}, h.w.Adult)
	// Warm up once so lazily started goroutines are counted in the base.
	h.tap(t, "counter", good)
	runtime.GC()
	base := runtime.NumGoroutine()
	for i := range 200 {
		var errc chan error
		if i%3 == 0 {
			errc = make(chan error, 1)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				_, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "identity"})
				errc <- err
			}()
			waitArmed(t, h.d, "counter")
			if i%2 == 0 {
				cancel()
				<-errc
				errc = nil
			}
			defer cancel()
		}
		switch i % 4 {
		case 0, 1:
			h.tap(t, "counter", good)
		case 2:
			h.tap(t, "counter", minor)
		case 3:
			h.tap(t, "counter", garbage)
		}
		if errc != nil {
			if err := <-errc; err != nil {
				t.Fatalf("tap %d: check: %v", i, err)
			}
		}
	}
	var n int
	for range 100 {
		runtime.GC()
		if n = runtime.NumGoroutine(); n <= base {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("goroutines %d after 200 taps, %d before\n%s", n, base, buf[:runtime.Stack(buf, true)])
}

// TestConcurrentChecksAndCancels: many Checks, CancelCurrent, Subscribe
// and Readers calls at once on a busy reader neither deadlock nor leave a
// check armed.
func TestConcurrentChecksAndCancels(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{Removal: 20 * time.Millisecond}, "a", "b")
	good := h.wallet(t, wallet.Config{}, h.w.Adult)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				rd := []string{"a", "b", ""}[(g+i)%3]
				switch (g + i) % 4 {
				case 0:
					h.d.CancelCurrent()
				case 1:
					_, cancel := h.d.Subscribe(1) // never read
					h.d.Readers()
					cancel()
				default:
					c, cancel := context.WithTimeout(ctx, time.Duration(1+i%20)*time.Millisecond)
					h.d.Check(c, daemon.CheckRequest{Profile: "identity", Reader: rd})
					cancel()
				}
			}
		}()
	}
	// Taps keep going on reader a while the callers race.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		h.readers["a"].Put(good).Remove()
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("callers stuck\n%s", buf[:runtime.Stack(buf, true)])
	}
	for _, rd := range []string{"a", "b"} {
		for i := 0; h.d.Armed(rd); i++ {
			if i > 500 {
				t.Fatalf("reader %s still armed with no caller", rd)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The daemon still serves taps and checks.
	errc := make(chan error, 1)
	go func() {
		_, err := h.d.Check(context.Background(), daemon.CheckRequest{Profile: "age-21", Reader: "b", Timeout: 10 * time.Second})
		errc <- err
	}()
	waitArmed(t, h.d, "b")
	if e := h.tap(t, "b", good); e.Decision != "accept" {
		t.Errorf("tap after the race: %s %v", e.Decision, e.Reasons)
	}
	if err := <-errc; err != nil {
		t.Error(err)
	}
}

// closedReader is a backend whose Wait fails with ErrClosed at once, as a
// reader closed under the loop (or a broken driver) does.
type closedReader struct{}

func (closedReader) Name() string          { return "closed" }
func (closedReader) Limits() reader.Limits { return reader.Limits{} }
func (closedReader) Close() error          { return nil }
func (closedReader) Wait(context.Context) (reader.Target, error) {
	return nil, fmt.Errorf("closedreader: %w", reader.ErrClosed)
}

// TestClosedReaderBacksOff: a reader that opens but whose Wait reports it
// closed at once is reopened with backoff, not in a tight loop flooding
// the event stream with ready events.
func TestClosedReaderBacksOff(t *testing.T) {
	var opens atomic.Int64
	h := launch(t, "age-21", daemon.Timeouts{BackoffMax: time.Second}, func(spec *daemon.ReaderSpec) {
		spec.Open = func(context.Context) (reader.Reader, error) {
			opens.Add(1)
			return closedReader{}, nil
		}
	}, "counter")
	time.Sleep(500 * time.Millisecond)
	h.cancel()
	// 100 ms, 200 ms, 400 ms...: a handful of attempts in half a second.
	if n := opens.Load(); n > 10 {
		t.Errorf("%d opens in 500 ms: the loop spins", n)
	}
}
