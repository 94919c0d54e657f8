package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/hardware/hardwaretest"
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
// closed at once is reopened with backoff (100 ms, doubling up to
// BackoffMax), not in a tight loop flooding the event stream with ready
// events. The daemon runs on a fake clock: no real time has to pass.
func TestClosedReaderBacksOff(t *testing.T) {
	clock := hardwaretest.NewClock()
	var opens atomic.Int64
	launchOn(t, clock, "age-21", daemon.Timeouts{BackoffMax: time.Second}, func(spec *daemon.ReaderSpec) {
		spec.Open = func(context.Context) (reader.Reader, error) {
			opens.Add(1)
			return closedReader{}, nil
		}
	}, "counter")
	// waitBackoff waits for the loop to have opened the reader n times and
	// to be waiting out its backoff on the fake clock.
	waitBackoff := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for opens.Load() != n || clock.Pending() != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%d opens, %d timers pending; want %d opens and a backoff", opens.Load(), clock.Pending(), n)
			}
			runtime.Gosched()
		}
	}
	n := int64(1)
	for _, backoff := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		backoff *= time.Millisecond
		waitBackoff(n)
		clock.Advance(backoff - time.Millisecond)
		if got := opens.Load(); got != n || clock.Pending() != 1 {
			t.Fatalf("reopened (%d opens) before its %v backoff had passed", got, backoff)
		}
		clock.Advance(time.Millisecond)
		n++
	}
	waitBackoff(n)
}

// TestResultRetention: the last check result, which holds personal data,
// is dropped when ResultRetention has passed on the daemon's clock.
func TestResultRetention(t *testing.T) {
	clock := hardwaretest.NewClock()
	h := launchOn(t, clock, "age-21", daemon.Timeouts{}, nil, "counter")
	h.next(t, "", daemon.EventReady)
	got := make(chan *daemon.CheckResult, 1)
	go func() {
		r, err := h.d.Check(context.Background(), daemon.CheckRequest{Profile: "identity"})
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	waitArmed(t, h.d, "counter")
	target := h.readers["counter"].Put(h.wallet(t, wallet.Config{}, h.w.Adult))
	h.next(t, "counter", daemon.EventDecision)
	r := <-got
	target.Remove()
	// The loop records the result as the last one just after answering.
	deadline := time.Now().Add(5 * time.Second)
	for {
		last, ok := h.d.LastResult()
		if ok && last.ID == r.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last result %v %v, want %s", last, ok, r.ID)
		}
		runtime.Gosched()
	}
	clock.Advance(2*time.Minute - time.Millisecond)
	if _, ok := h.d.LastResult(); !ok {
		t.Error("last result dropped before its retention passed")
	}
	clock.Advance(time.Millisecond)
	if last, ok := h.d.LastResult(); ok {
		t.Errorf("last result %s still kept after its retention", last.ID)
	}
}
