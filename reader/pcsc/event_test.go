package pcsc

import "testing"

// ev builds an event state as pcsc-lite reports it: flags and the event
// count in the upper 16 bits, with SCARD_STATE_CHANGED set.
func ev(count int, flags readerState) readerState {
	return readerState(count)<<16 | flags | stateChanged
}

// step is one input to the state machine and the action it must answer: an
// event from SCardGetStatusChange (connect == nil), or the outcome of the
// connect that the previous step asked for.
type step struct {
	event   readerState
	connect *connectResult
	want    action
}

func onEvent(e readerState, want action) step { return step{event: e, want: want} }

func onConnect(r connectResult, want action) step {
	return step{connect: &r, want: want}
}

// run feeds steps to a fresh machine and checks each action. It returns the
// final state.
func run(t *testing.T, steps []step) watchState {
	t.Helper()
	w := freshWatch()
	var last readerState
	for i, s := range steps {
		var got action
		if s.connect == nil {
			last = s.event
			w, got = w.onEvent(s.event)
			if w.state&stateChanged != 0 {
				t.Fatalf("step %d: stored state %#x keeps SCARD_STATE_CHANGED", i, w.state)
			}
		} else {
			w, got = w.onConnect(last.count(), *s.connect)
		}
		if got != s.want {
			t.Fatalf("step %d: action %v, want %v (state %+v)", i, got, s.want, w)
		}
	}
	return w
}

func TestWatchSequences(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"empty reader waits", []step{
			// 0x12: EMPTY|CHANGED, as measured on the rig.
			onEvent(0x12, actWait),
		}},
		{"insertion connects once", []step{
			onEvent(0x12, actWait),
			// 0x10022: count 1, PRESENT|CHANGED, as measured.
			onEvent(0x10022, actConnect),
			onConnect(connectOK, actServe),
			// The same card again (e.g. INUSE toggled): not a new tap.
			onEvent(ev(1, statePresent|0x100), actWait),
			onEvent(ev(2, stateEmpty), actWait),
			onEvent(ev(3, statePresent), actConnect),
			onConnect(connectOK, actServe),
		}},
		{"card already present on start", []step{
			onEvent(ev(5, statePresent), actConnect),
			onConnect(connectOK, actServe),
		}},
		{"mute card is not connected", []step{
			onEvent(ev(1, statePresent|stateMute), actWait),
			onEvent(ev(1, statePresent), actConnect),
		}},
		{"neither empty nor present waits", []step{
			onEvent(ev(1, 0), actWait),
		}},
		{"stale state: card left before pcscd's poll, retried, next card served", []step{
			onEvent(ev(1, statePresent), actConnect),
			onConnect(connectStale, actRetry),
			// pcscd answers at once (state unaware) with the same stale
			// view: the count did not move, the next card is in.
			onEvent(ev(1, statePresent), actConnect),
			onConnect(connectStale, actRetry),
			onEvent(ev(1, statePresent), actConnect),
			onConnect(connectOK, actServe),
			onEvent(ev(1, statePresent), actWait),
		}},
		{"stale state: card left, pcscd then sees the reader empty", []step{
			onEvent(ev(1, statePresent), actConnect),
			onConnect(connectStale, actRetry),
			onEvent(ev(2, stateEmpty), actWait),
			onEvent(ev(3, statePresent), actConnect),
			onConnect(connectOK, actServe),
		}},
		{"busy card is retried, and served once released", []step{
			onEvent(ev(1, statePresent), actConnect),
			onConnect(connectBusy, actRetry),
			onEvent(ev(1, statePresent|0x80), actConnect),
			onConnect(connectOK, actServe),
		}},
		{"reader unknown", []step{
			onEvent(ev(0, stateUnknown), actGone),
		}},
		{"reader unavailable", []step{
			onEvent(ev(1, stateUnavailable|statePresent), actGone),
		}},
		{"pcscd lost while connecting", []step{
			onEvent(ev(7, statePresent), actConnect),
			onConnect(connectNoService, actReconnect),
			// The new pcscd counts from scratch; its count 7 is a new card.
			onEvent(ev(7, statePresent), actConnect),
		}},
		{"other connect error fails", []step{
			onEvent(ev(1, statePresent), actConnect),
			onConnect(connectFailed, actFail),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, tt.steps) })
	}
}

// A card pcscd keeps reporting while every connect finds it gone (stale),
// or another connection keeps holding (busy), is given up after
// connectRetries tries, and not tried again until the count moves.
func TestWatchGivesUp(t *testing.T) {
	for name, res := range map[string]connectResult{"stale": connectStale, "busy": connectBusy} {
		t.Run(name, func(t *testing.T) { testGivesUp(t, res) })
	}
}

func testGivesUp(t *testing.T, res connectResult) {
	w := freshWatch()
	card := ev(4, statePresent)
	for i := 1; i <= connectRetries; i++ {
		var a action
		if w, a = w.onEvent(card); a != actConnect {
			t.Fatalf("try %d: onEvent = %v, want connect", i, a)
		}
		w, a = w.onConnect(card.count(), res)
		switch {
		case i < connectRetries && a != actRetry:
			t.Fatalf("try %d: onConnect = %v, want retry", i, a)
		case i < connectRetries && w.state != stateUnaware:
			t.Fatalf("try %d: stored state %#x, want unaware so pcscd answers at once", i, w.state)
		case i == connectRetries && a != actWait:
			t.Fatalf("try %d: onConnect = %v, want wait (given up)", i, a)
		}
	}
	if w.served != 4 || w.retries != 0 {
		t.Fatalf("after giving up: served %d retries %d, want 4 and 0", w.served, w.retries)
	}
	if w.state != card&^stateChanged {
		t.Fatalf("after giving up: stored state %#x, want %#x (block until it changes)", w.state, card&^stateChanged)
	}
	if _, a := w.onEvent(card); a != actWait {
		t.Fatalf("same card after giving up: %v, want wait", a)
	}
	if _, a := w.onEvent(ev(6, statePresent)); a != actConnect {
		t.Fatalf("next card after giving up: %v, want connect", a)
	}
}

// Retries count per card: an empty reader or a served card starts over.
func TestWatchRetriesReset(t *testing.T) {
	for _, reset := range []step{onEvent(ev(2, stateEmpty), actWait), onConnect(connectOK, actServe)} {
		w := freshWatch()
		w, _ = w.onEvent(ev(1, statePresent))
		for range connectRetries - 1 {
			w, _ = w.onConnect(1, connectStale)
		}
		if reset.connect == nil {
			w, _ = w.onEvent(reset.event)
		} else {
			w, _ = w.onConnect(1, *reset.connect)
		}
		if w.retries != 0 {
			t.Fatalf("after %v: retries %d, want 0", reset.want, w.retries)
		}
	}
}

func TestRemovalEvents(t *testing.T) {
	tests := []struct {
		name   string
		ev     readerState
		want   removal
		served int
	}{
		{"still there", ev(1, statePresent), removalWait, 1},
		{"still there, in use", ev(1, statePresent|0x100), removalWait, 1},
		{"left", ev(2, stateEmpty), removalDone, -1},
		{"left and a new card in", ev(3, statePresent), removalDone, 1},
		{"reader vanished", ev(1, stateUnknown), removalGone, 1},
		{"reader unavailable", ev(1, stateUnavailable), removalGone, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := freshWatch().onEvent(ev(1, statePresent))
			w, _ = w.onConnect(1, connectOK)
			w, got := w.onRemovalEvent(tt.ev, 1)
			if got != tt.want {
				t.Fatalf("onRemovalEvent = %d, want %d", got, tt.want)
			}
			if w.served != tt.served {
				t.Errorf("served = %d, want %d", w.served, tt.served)
			}
			if w.state != tt.ev&^stateChanged {
				t.Errorf("stored state %#x, want %#x", w.state, tt.ev&^stateChanged)
			}
		})
	}
}

func TestActionString(t *testing.T) {
	for a := actWait; a <= actFail; a++ {
		if s := a.String(); s == "" || s == "action(?)" {
			t.Errorf("action %d has no name", a)
		}
	}
	if s := action(99).String(); s != "action(?)" {
		t.Errorf("action(99) = %q", s)
	}
}

// TestWatchHiddenCard: the sequence measured on the rig when a phone leaves
// and the next one enters within one presence poll. The reader's power-down
// of the card that had just left makes pcscd publish EMPTY with the odd count
// of that card's insertion; its presence thread saw "present" before and
// after and will report nothing until the new card leaves. The machine
// probes, serves the card the probe found, and asks afresh afterwards.
func TestWatchHiddenCard(t *testing.T) {
	w := freshWatch()
	steps := []struct {
		event readerState
		want  action
		probe *connectResult
		then  action
	}{
		{event: 0x12, want: actWait},
		{event: 0x10022, want: actConnect},
		{event: 0x10012, want: actProbe, probe: ptr(connectOK), then: actServe},
		{event: 0x10012, want: actProbe, probe: ptr(connectFailed), then: actRetry},
		// The presence thread counted the removal: nothing is hidden.
		{event: ev(2, stateEmpty), want: actWait},
		{event: ev(3, statePresent), want: actConnect},
	}
	for i, s := range steps {
		var a action
		w, a = w.onEvent(s.event)
		if a != s.want {
			t.Fatalf("step %d: onEvent = %v, want %v (%+v)", i, a, s.want, w)
		}
		if s.want == actConnect {
			w, _ = w.onConnect(s.event.count(), connectOK)
		}
		if s.probe != nil {
			if w, a = w.onProbe(s.event.count(), *s.probe); a != s.then {
				t.Fatalf("step %d: onProbe = %v, want %v", i, a, s.then)
			}
			if w.state != stateUnaware {
				t.Fatalf("step %d: stored state %#x after a probe, want unaware", i, w.state)
			}
		}
	}
}

// TestWatchProbeGivesUp: probes for a hidden card stop after probeLimit
// failures and start again only for another count; pcscd going away
// reconnects.
func TestWatchProbeGivesUp(t *testing.T) {
	w := freshWatch()
	hidden := ev(5, stateEmpty)
	for i := 1; i <= probeLimit; i++ {
		var a action
		if w, a = w.onEvent(hidden); a != actProbe {
			t.Fatalf("try %d: onEvent = %v, want probe", i, a)
		}
		w, a = w.onProbe(hidden.count(), connectStale)
		if want := map[bool]action{true: actRetry, false: actWait}[i < probeLimit]; a != want {
			t.Fatalf("try %d: onProbe = %v, want %v", i, a, want)
		}
	}
	if _, a := w.onEvent(hidden); a != actWait {
		t.Fatalf("after giving up: %v, want wait", a)
	}
	if _, a := w.onEvent(ev(7, stateEmpty)); a != actProbe {
		t.Fatalf("another odd count: %v, want probe", a)
	}
	if w2, a := w.onProbe(7, connectNoService); a != actReconnect || w2.served != -1 {
		t.Fatalf("no service: %v %+v", a, w2)
	}
	if _, a := w.onProbe(7, connectBusy); a != actWait {
		t.Fatalf("busy: %v", a)
	}
}

func ptr[T any](v T) *T { return &v }
