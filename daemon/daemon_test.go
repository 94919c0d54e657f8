package daemon_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/syncbuf"

	"github.com/rs/zerolog"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/daemon/simulated"
	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/simreader"
	"github.com/idreader/idreader/terminal"
)

var (
	worldOnce sync.Once
	worldVal  *simulated.World
	worldErr  error
)

func world(t testing.TB) *simulated.World {
	t.Helper()
	worldOnce.Do(func() { worldVal, worldErr = simulated.New(time.Now()) })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return worldVal
}

// syncBuffer collects output written from several goroutines.
type syncBuffer = syncbuf.Buffer

// recOutput records the signals shown.
type recOutput struct {
	mu      sync.Mutex
	signals []hardware.Signal
	closed  bool
}

func (o *recOutput) Show(ctx context.Context, s hardware.Signal) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.signals = append(o.signals, s)
	return nil
}

func (o *recOutput) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	return nil
}

func (o *recOutput) seen() []hardware.Signal {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.signals)
}

// clockSkew moves the daemons' clock forward in tests that need time to pass
// (a duration in nanoseconds).
var clockSkew atomic.Int64

// skewClock is the real clock moved forward by clockSkew.
type skewClock struct{}

func (skewClock) Now() time.Time { return time.Now().Add(time.Duration(clockSkew.Load())) }

func (skewClock) AfterFunc(d time.Duration, f func()) hardware.Timer { return time.AfterFunc(d, f) }

type harness struct {
	w       *simulated.World
	d       *daemon.Daemon
	readers map[string]*simreader.Reader
	outputs map[string]*recOutput
	events  <-chan daemon.Event
	log     *syncBuffer
	audit   *syncBuffer
	cancel  context.CancelFunc
	done    chan error
}

// start runs a daemon over simulated readers named names, each reading with
// profile by default.
func start(t *testing.T, profile string, to daemon.Timeouts, names ...string) *harness {
	t.Helper()
	return startWith(t, profile, to, nil, names...)
}

// startWith is start with a hook that may change each reader's spec before
// the daemon is made (transports, BLE radio, a QR scanner instead of the
// simulated reader).
func startWith(t *testing.T, profile string, to daemon.Timeouts, edit func(spec *daemon.ReaderSpec), names ...string) *harness {
	t.Helper()
	h := launch(t, profile, to, edit, names...)
	for range names {
		h.next(t, "", daemon.EventReady)
	}
	return h
}

// launch is startWith without waiting for the readers to be ready.
func launch(t *testing.T, profile string, to daemon.Timeouts, edit func(spec *daemon.ReaderSpec), names ...string) *harness {
	t.Helper()
	return launchOn(t, skewClock{}, profile, to, edit, names...)
}

// launchOn is launch with the daemon's clock (backoff, holds, check timeouts,
// retention) set to clock.
func launchOn(t *testing.T, clock hardware.Clock, profile string, to daemon.Timeouts, edit func(spec *daemon.ReaderSpec), names ...string) *harness {
	t.Helper()
	w := world(t)
	h := &harness{w: w, readers: map[string]*simreader.Reader{}, outputs: map[string]*recOutput{},
		log: &syncBuffer{}, audit: &syncBuffer{}, done: make(chan error, 1)}
	if to.Hold == 0 {
		to.Hold = time.Millisecond
	}
	var specs []daemon.ReaderSpec
	for _, n := range names {
		rd := simreader.New(n, reader.Limits{})
		out := &recOutput{}
		h.readers[n], h.outputs[n] = rd, out
		spec := daemon.ReaderSpec{
			Name:     n,
			Open:     func(context.Context) (reader.Reader, error) { return rd, nil },
			Outputs:  []hardware.Output{out},
			Timeouts: to,
		}
		if edit != nil {
			edit(&spec)
		}
		specs = append(specs, spec)
	}
	d, err := daemon.New(daemon.Config{
		Readers:  specs,
		Settings: w.Settings(profile, names...),
		Log:      zerolog.New(h.log),
		Audit:    h.audit,
		Now:      skewClock{}.Now,
		Clock:    clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	var cancelSub func()
	h.events, cancelSub = d.Subscribe(256)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("daemon did not stop within 5 s")
		}
		cancelSub()
	})
	return h
}

// next returns the next event of kind on reader (any reader when empty).
func (h *harness) next(t *testing.T, rd string, kind daemon.EventKind) daemon.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-h.events:
			if !ok {
				t.Fatalf("event stream closed waiting for %s", kind)
			}
			if e.Kind == kind && (rd == "" || e.Reader == rd) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event on %q within 10 s", kind, rd)
		}
	}
}

// tap puts the wallet on reader rd, waits for the decision, takes it away
// and waits for the reader to be ready again.
func (h *harness) tap(t *testing.T, rd string, w *wallet.Wallet) daemon.Event {
	t.Helper()
	target := h.readers[rd].Put(w)
	e := h.next(t, rd, daemon.EventDecision)
	target.Remove()
	h.next(t, rd, daemon.EventReady)
	return e
}

func (h *harness) wallet(t *testing.T, cfg wallet.Config, creds ...*credential.Credential) *wallet.Wallet {
	t.Helper()
	w, err := h.w.Wallet(cfg, creds...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestLoopAcceptAndReject(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{}, "counter")
	cases := []struct {
		name     string
		cred     *credential.Credential
		cfg      wallet.Config
		decision string
		reasons  []string
		signal   hardware.Signal
	}{
		{"adult", h.w.Adult, wallet.Config{Handover: wallet.HandoverNegotiated}, "accept", nil, hardware.SignalAccept},
		{"minor", h.w.Minor, wallet.Config{}, "reject", []string{policy.CodeAgeNotMet}, hardware.SignalReject},
		{"my number card", h.w.MNC, wallet.Config{Handover: wallet.HandoverApple}, "reject", []string{policy.CodeDocTypeNotAllowed}, hardware.SignalReject},
		{"tampered", h.w.Adult, wallet.Config{Faults: wallet.Faults{Tamper: true}}, "reject", []string{"value_digest"}, hardware.SignalReject},
		{"mac", h.w.Adult, wallet.Config{Auth: wallet.AuthMAC}, "accept", nil, hardware.SignalAccept},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := h.tap(t, "counter", h.wallet(t, tc.cfg, tc.cred))
			if e.Decision != tc.decision || !slices.Equal(e.Reasons, tc.reasons) {
				t.Fatalf("decision %s %v, want %s %v", e.Decision, e.Reasons, tc.decision, tc.reasons)
			}
			wantDocType := tc.cred.DocType
			if slices.Contains(tc.reasons, policy.CodeDocTypeNotAllowed) {
				wantDocType = "" // the wallet sent no document
			}
			if e.Profile != "age-21" || e.DocType != wantDocType || e.Total <= 0 || len(e.Steps) == 0 {
				t.Errorf("event %+v", e)
			}
			if e.Personal != nil {
				t.Error("age-21 must not hand personal data to the display")
			}
			sigs := h.outputs["counter"].seen()
			if i := slices.Index(sigs, tc.signal); i < 1 || sigs[i-1] != hardware.SignalReading {
				t.Errorf("signals %v: want reading then %s", sigs, tc.signal)
			}
		})
	}
	if n := strings.Count(h.audit.String(), "\n"); n != len(cases) {
		t.Errorf("%d audit records for %d taps", n, len(cases))
	}
	var rec daemon.AuditRecord
	first, _, _ := strings.Cut(h.audit.String(), "\n")
	if err := json.Unmarshal([]byte(first), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Decision != "accept" || rec.Reader != "counter" || rec.DocType != mdoc.DocTypeMDL ||
		rec.IssuerCountry != "US" || !rec.Negotiated || rec.StepsMS["verify"] <= 0 || rec.TotalMS <= 0 {
		t.Errorf("audit record %+v", rec)
	}
	// Every phase from engagement to output is in the audit record, in
	// milliseconds.
	for _, p := range []terminal.Phase{terminal.PhaseEngagement, terminal.PhaseSession, terminal.PhaseRequest,
		terminal.PhaseTransfer, terminal.PhaseVerification, terminal.PhaseDecision, terminal.PhaseOutput} {
		if rec.Timing.Get(p) <= 0 {
			t.Errorf("audit record without phase %s: %s", p, first)
		}
	}
}

func TestLoopIdentityShowsPersonal(t *testing.T) {
	h := start(t, "identity", daemon.Timeouts{}, "desk")
	e := h.tap(t, "desk", h.wallet(t, wallet.Config{}, h.w.Adult))
	if e.Decision != "accept" {
		t.Fatalf("decision %s %v", e.Decision, e.Reasons)
	}
	if e.Personal == nil || e.Personal.Name != "Robin Sample" || len(e.Personal.Portrait) < 100 {
		t.Fatalf("personal %+v", e.Personal)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Robin") {
		t.Errorf("the event's JSON carries the name: %s", b)
	}
}

// TestLoopRemovedMidTap: the phone leaves during a stalled exchange; the tap
// ends with "removed" long before the exchange timeout and the next tap works.
func TestLoopRemovedMidTap(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{Exchange: 20 * time.Second}, "counter")
	w := h.wallet(t, wallet.Config{Faults: wallet.Faults{Stall: time.Minute}}, h.w.Adult)
	target := h.readers["counter"].Put(w)
	h.next(t, "counter", daemon.EventReading)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	target.Remove()
	e := h.next(t, "counter", daemon.EventDecision)
	if e.Decision != "reject" || !slices.Equal(e.Reasons, []string{"removed"}) {
		t.Fatalf("decision %s %v", e.Decision, e.Reasons)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("removal took %s to end the tap", d)
	}
	if sigs := h.outputs["counter"].seen(); sigs[len(sigs)-1] != hardware.SignalFault && !slices.Contains(sigs, hardware.SignalFault) {
		t.Errorf("signals %v: want fault", sigs)
	}
	h.next(t, "counter", daemon.EventReady)
	if e := h.tap(t, "counter", h.wallet(t, wallet.Config{}, h.w.Adult)); e.Decision != "accept" {
		t.Fatalf("next tap: %s %v", e.Decision, e.Reasons)
	}
}

// TestLoopStallAndGarbage: a stalled or garbage wallet ends its tap with a
// reason; the phone stays in the field past the removal timeout and the
// next phone is served.
func TestLoopStallAndGarbage(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{Exchange: 300 * time.Millisecond, Removal: 200 * time.Millisecond}, "counter")
	for _, tc := range []struct {
		name   string
		faults wallet.Faults
		code   string
	}{
		{"stall", wallet.Faults{Stall: time.Minute}, "timeout"},
		{"garbage", wallet.Faults{Garbage: wallet.GarbageNotCBOR}, "malformed"},
		{"undecryptable", wallet.Faults{Garbage: wallet.GarbageUndecryptable}, "session"},
		{"vanish", wallet.Faults{Vanish: true}, "removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := h.readers["counter"].Put(h.wallet(t, wallet.Config{Faults: tc.faults}, h.w.Adult))
			e := h.next(t, "counter", daemon.EventDecision)
			if e.Decision != "reject" || !slices.Equal(e.Reasons, []string{tc.code}) {
				t.Fatalf("decision %s %v, want reject %s", e.Decision, e.Reasons, tc.code)
			}
			// The phone is left lying on the reader: the loop goes idle
			// after the removal timeout anyway.
			h.next(t, "counter", daemon.EventReady)
			if e := h.tap(t, "counter", h.wallet(t, wallet.Config{}, h.w.Adult)); e.Decision != "accept" {
				t.Fatalf("next tap: %s %v", e.Decision, e.Reasons)
			}
			bad.Remove()
		})
	}
}

// TestLoopTwoReaders: a stalled tap on one reader does not slow the other.
func TestLoopTwoReaders(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{Exchange: 3 * time.Second}, "left", "right")
	slow := h.readers["left"].Put(h.wallet(t, wallet.Config{Faults: wallet.Faults{Stall: time.Minute}}, h.w.Adult))
	defer slow.Remove()
	h.next(t, "left", daemon.EventReading)
	began := time.Now()
	for i := range 3 {
		e := h.tap(t, "right", h.wallet(t, wallet.Config{}, h.w.Adult))
		if e.Decision != "accept" {
			t.Fatalf("right tap %d: %s %v", i, e.Decision, e.Reasons)
		}
	}
	if d := time.Since(began); d >= 3*time.Second {
		t.Errorf("three taps on the right took %s while the left stalled", d)
	}
	e := h.next(t, "left", daemon.EventDecision)
	if !slices.Equal(e.Reasons, []string{"timeout"}) {
		t.Errorf("left: %v", e.Reasons)
	}
	st := h.d.Readers()
	if len(st) != 2 || st[0].Name != "left" || !st[0].Up || !st[1].Up {
		t.Errorf("readers %+v", st)
	}
}

func TestCheck(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{}, "counter", "second")
	if _, ok := h.d.LastResult(); ok {
		t.Error("a last result before any check")
	}
	ctx := context.Background()
	if _, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "nope"}); !errors.Is(err, daemon.ErrUnknownProfile) {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "identity", Reader: "nope"}); !errors.Is(err, daemon.ErrUnknownReader) {
		t.Errorf("unknown reader: %v", err)
	}
	if _, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "identity", Timeout: 50 * time.Millisecond}); !errors.Is(err, terminal.ErrTimeout) {
		t.Errorf("timeout: %v", err)
	}

	// A check arms the reader with its profile for the next tap only.
	type answer struct {
		r   *daemon.CheckResult
		err error
	}
	got := make(chan answer, 1)
	go func() {
		r, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "identity", Timeout: 10 * time.Second})
		got <- answer{r, err}
	}()
	waitArmed(t, h.d, "counter")
	if _, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "age-20", Reader: "counter"}); !errors.Is(err, daemon.ErrBusy) {
		t.Errorf("second check: %v", err)
	}
	e := h.tap(t, "counter", h.wallet(t, wallet.Config{}, h.w.Adult))
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	r := a.r
	if r.Decision != "accept" || r.Profile != "identity" || r.Reader != "counter" || r.ID == "" || e.CheckID != r.ID {
		t.Fatalf("result %+v (event %+v)", r, e)
	}
	if r.Verdict != "accept" || len(r.Documents) != 1 || r.Documents[0].Elements[mdoc.NameSpaceMDL]["given_name"] != "Robin" {
		t.Errorf("report %+v", r.Report)
	}
	if last, ok := h.d.LastResult(); !ok || last.ID != r.ID {
		t.Errorf("last result %v %v", last, ok)
	}
	// The last result holds personal data: it is gone once the retention
	// (2 minutes by default) has passed.
	clockSkew.Store(int64(3 * time.Minute))
	if last, ok := h.d.LastResult(); ok {
		t.Errorf("last result %s still kept after its retention", last.ID)
	}
	clockSkew.Store(0)
	// Back to the default profile.
	if e := h.tap(t, "counter", h.wallet(t, wallet.Config{}, h.w.Adult)); e.Profile != "age-21" || e.CheckID != "" {
		t.Errorf("after the check: %+v", e)
	}

	// A failed tap answers the check with an error report.
	go func() {
		r, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "age-21", Reader: "second"})
		got <- answer{r, err}
	}()
	waitArmed(t, h.d, "second")
	h.tap(t, "second", h.wallet(t, wallet.Config{Faults: wallet.Faults{Garbage: wallet.GarbageNotCBOR}}, h.w.Adult))
	a = <-got
	if a.err != nil || a.r.Decision != "reject" || len(a.r.Errors) != 1 || a.r.Errors[0].Code != "malformed" || a.r.Documents == nil {
		t.Fatalf("failed tap: %+v %v", a.r, a.err)
	}

	// Cancelling returns ErrCancelled to the waiting caller.
	if h.d.CancelCurrent() {
		t.Error("CancelCurrent with nothing armed")
	}
	go func() {
		r, err := h.d.Check(ctx, daemon.CheckRequest{Profile: "age-20"})
		got <- answer{r, err}
	}()
	waitArmed(t, h.d, "counter")
	if !h.d.CancelCurrent() {
		t.Error("CancelCurrent found nothing")
	}
	if a := <-got; !errors.Is(a.err, daemon.ErrCancelled) {
		t.Errorf("cancelled check: %v", a.err)
	}
	// The caller's context ends a check too.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := h.d.Check(cctx, daemon.CheckRequest{Profile: "age-20"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("context: %v", err)
	}
}

// waitArmed waits until a check is armed on reader rd (a second check
// reports ErrBusy).
func waitArmed(t *testing.T, d *daemon.Daemon, rd string) {
	t.Helper()
	for range 500 {
		if d.Armed(rd) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the check never armed")
}

func TestReload(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{}, "counter")
	// age-21 refuses the My Number card's doc type, age-20 accepts it.
	if e := h.tap(t, "counter", h.wallet(t, wallet.Config{}, h.w.MNC)); e.Decision != "reject" {
		t.Fatalf("before reload: %s", e.Decision)
	}
	bad := h.w.Settings("age-99", "counter")
	if err := h.d.Reload(bad); err == nil {
		t.Fatal("reload accepted an unknown profile")
	}
	s := h.w.Settings("age-20", "counter")
	custom := policy.Builtin()["age-20"].Clone()
	custom.Name = "age-20"
	custom.IssuerCountries = []string{"JP"}
	s.Profiles["age-20"] = custom
	// A tap in progress keeps the old settings.
	stall := h.readers["counter"].Put(h.wallet(t, wallet.Config{Faults: wallet.Faults{Stall: 300 * time.Millisecond}}, h.w.MNC))
	h.next(t, "counter", daemon.EventReading)
	if err := h.d.Reload(s); err != nil {
		t.Fatal(err)
	}
	e := h.next(t, "counter", daemon.EventDecision)
	stall.Remove()
	h.next(t, "counter", daemon.EventReady)
	if e.Profile != "age-21" || e.Decision != "reject" {
		t.Errorf("tap in progress during reload: %s %s %v", e.Profile, e.Decision, e.Reasons)
	}
	if e := h.tap(t, "counter", h.wallet(t, wallet.Config{}, h.w.MNC)); e.Profile != "age-20" || e.Decision != "accept" {
		t.Errorf("after reload: %s %s %v", e.Profile, e.Decision, e.Reasons)
	}
	if e := h.tap(t, "counter", h.wallet(t, wallet.Config{}, h.w.Adult)); e.Decision != "reject" || !slices.Equal(e.Reasons, []string{policy.CodeIssuerNotAllowed}) {
		t.Errorf("US mDL after reload: %s %v", e.Decision, e.Reasons)
	}
}

// TestNoPersonalDataInLogs runs taps with every built-in profile and scans
// the logs, the audit file and the events' JSON for the disclosed values.
func TestNoPersonalDataInLogs(t *testing.T) {
	h := start(t, "identity", daemon.Timeouts{Exchange: 300 * time.Millisecond}, "desk")
	var events bytes.Buffer
	record := func(e daemon.Event) {
		b, _ := json.Marshal(e)
		events.Write(append(b, '\n'))
	}
	for _, p := range []string{"identity", "age-20", "age-21"} {
		for _, c := range []*credential.Credential{h.w.Adult, h.w.MNC, h.w.Minor} {
			res := make(chan *daemon.CheckResult, 1)
			go func() {
				r, _ := h.d.Check(context.Background(), daemon.CheckRequest{Profile: p})
				res <- r
			}()
			waitArmed(t, h.d, "desk")
			record(h.tap(t, "desk", h.wallet(t, wallet.Config{}, c)))
			if r := <-res; r == nil {
				t.Fatal("no check result")
			}
		}
	}
	record(h.tap(t, "desk", h.wallet(t, wallet.Config{Faults: wallet.Faults{Tamper: true}}, h.w.Adult)))
	record(h.tap(t, "desk", h.wallet(t, wallet.Config{Faults: wallet.Faults{Stall: time.Minute}}, h.w.MNC)))

	portrait, err := credential.Portrait()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(portrait)
	secrets := []string{
		"Robin", "Sample", "TEST0000001", "1990-04-15", "見本", "花子", "東京都", "千代田", "平成", "131016",
		b64[:40], b64[len(b64)/2 : len(b64)/2+40], base64.RawURLEncoding.EncodeToString(portrait)[:40],
		h.w.Minor.DocType + "x", // sanity: never matches
	}
	secrets = secrets[:len(secrets)-1]
	for name, text := range map[string]string{"log": h.log.String(), "audit": h.audit.String(), "events": events.String()} {
		if text == "" {
			t.Errorf("%s is empty", name)
		}
		for _, line := range strings.Split(text, "\n") {
			for _, s := range secrets {
				if strings.Contains(line, s) {
					t.Errorf("%s line carries %q: %s", name, s, line)
				}
			}
		}
	}
	if !strings.Contains(h.audit.String(), `"decision":"accept"`) || !strings.Contains(h.audit.String(), `"reasons":["age_not_met"]`) {
		t.Errorf("audit lacks decisions:\n%s", h.audit.String())
	}
}

func TestShutdownTurnsOutputsOff(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{}, "counter")
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("no stop")
	}
	o := h.outputs["counter"]
	sigs := o.seen()
	if sigs[len(sigs)-1] != hardware.SignalOff || !o.closed {
		t.Errorf("signals %v, closed %v", sigs, o.closed)
	}
}

// TestCycleDemo runs the simulated reader's own cycle: alternating accept
// and reject, as `idreaderd --demo` does.
func TestCycleDemo(t *testing.T) {
	h := start(t, "age-21", daemon.Timeouts{}, "demo")
	wallets, err := h.w.DemoWallets()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cards := make([]simreader.Card, len(wallets))
	for i, w := range wallets {
		cards[i] = w
	}
	go h.readers["demo"].Cycle(ctx, simreader.CycleOptions{Interval: 10 * time.Millisecond, Linger: 200 * time.Millisecond}, cards...)
	var got []string
	for range 4 {
		e := h.next(t, "demo", daemon.EventDecision)
		got = append(got, e.Decision+fmt.Sprint(e.Reasons))
	}
	if !slices.Equal(got, []string{"accept[]", "reject[age_not_met]", "accept[]", "reject[age_not_met]"}) {
		t.Errorf("decisions %v", got)
	}
}
