package terminal_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/wallet"
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
			h := start(t, "age-21", terminal.Timeouts{Exchange: 10 * time.Second}, "desk")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := h.d.Check(ctx, terminal.CheckRequest{Profile: "identity", Timeout: tc.timeout})
				errc <- err
			}()
			waitArmed(t, h.d, "desk")
			// The wallet answers after 1.5 s, when the caller is gone.
			w := h.wallet(t, wallet.Config{Faults: wallet.Faults{Stall: 1500 * time.Millisecond}}, h.w.Adult)
			target := h.readers["desk"].Put(w)
			defer target.Remove()
			if e := h.next(t, "desk", terminal.EventReading); e.Profile != "identity" {
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
			e := h.next(t, "desk", terminal.EventDecision)
			if e.Decision != terminal.DecisionReject || !slices.Equal(e.Reasons, []string{"cancelled"}) || e.Personal != nil {
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
