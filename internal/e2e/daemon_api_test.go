package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/idreader/idreader/api"
	"github.com/idreader/idreader/api/display"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/hardware"
	hwgpio "github.com/idreader/idreader/hardware/gpio"
	"github.com/idreader/idreader/hardware/hardwaretest"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/verify"
)

// The pins of the fake board, named as in deploy/idreaderd.example.yaml.
const (
	pinGreen  = "GPIO17"
	pinRed    = "GPIO27"
	pinBuzzer = "GPIO22"
	pinRelay  = "GPIO23"
)

// Output timings of the rig's GPIO output (the example config's defaults,
// spelled out so that the expected pin logs below do not depend on them).
var (
	acceptBeep = []time.Duration{100 * time.Millisecond}
	rejectBeep = []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}
)

const (
	relayPulse = 500 * time.Millisecond
	signalHold = 3 * time.Second
)

// mncHolders are two My Number cards from their own Japanese PKI: an adult
// (age_over_20 true) and a minor (age_over_20 false), with the values the
// event stream must never carry.
type mncHolders struct {
	trust    *verify.TrustStore // the fixture's anchors and this PKI's IACA
	adult    *credential.Credential
	minor    *credential.Credential
	name     string // full_name_unicode of the adult
	portrait []byte // portrait of both
}

func newMNCHolders(t testing.TB, f *fixture) *mncHolders {
	t.Helper()
	now := time.Now()
	p, err := pki.New(pki.Options{Now: now, Country: "JP"})
	if err != nil {
		t.Fatal(err)
	}
	h := &mncHolders{trust: verify.NewTrustStore(append(f.trust.Certificates(), p.IACA)...)}
	issue := func(birth time.Time) *credential.Credential {
		elems, err := credential.MyNumberCard(credential.SampleOptions{Now: now, BirthDate: birth})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range elems {
			switch e.Identifier {
			case "full_name_unicode":
				h.name = e.Value.(string)
			case "portrait":
				h.portrait = e.Value.([]byte)
			}
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		c, err := credential.Issue(credential.IssueOptions{
			DocType: mdoc.DocTypeMyNumberCard, Elements: elems, DeviceKey: key,
			DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Hour),
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	h.adult = issue(time.Time{})
	h.minor = issue(now.AddDate(-15, 0, 0))
	if h.name == "" || len(h.portrait) == 0 {
		t.Fatal("sample My Number card without full_name_unicode or portrait")
	}
	return h
}

// apiRig is the daemon on a rig reader with its HTTP side wired as
// cmd/idreaderd wires it, and a GPIO output on a fake board timed by a fake
// clock.
type apiRig struct {
	*rigDaemon
	base  string // http://127.0.0.1:PORT
	clock *hardwaretest.Clock
	board *hardwaretest.Board
}

func startAPIRig(t *testing.T, f *fixture, trust *verify.TrustStore) *apiRig {
	t.Helper()
	clock := hardwaretest.NewClock()
	board := hardwaretest.NewBoard(clock, pinGreen, pinRed, pinBuzzer, pinRelay)
	var gpioErrs []error
	var gpioMu sync.Mutex
	out, err := hwgpio.New(hwgpio.Config{
		Green: pinGreen, Red: pinRed, Buzzer: pinBuzzer, Relay: pinRelay,
		// Dark while idle, so that a tap's green shows in the pin log.
		Ready:      hwgpio.ReadyDark,
		AcceptHold: signalHold, RejectHold: signalHold,
		AcceptBeep: acceptBeep, RejectBeep: rejectBeep,
		RelayPulse: relayPulse,
	}, hwgpio.Options{Lookup: board.Lookup, Clock: clock, OnError: func(err error) {
		gpioMu.Lock()
		gpioErrs = append(gpioErrs, err)
		gpioMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		gpioMu.Lock()
		defer gpioMu.Unlock()
		if len(gpioErrs) > 0 {
			t.Errorf("gpio pattern errors: %v", gpioErrs)
		}
	})
	ln, err := api.ListenTCP(context.Background(), "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	// What cmd/idreaderd's serveHTTP does, on the daemon the rig runs.
	serve := func(ctx context.Context, d *daemon.Daemon) error {
		m := api.NewMetrics(d)
		m.Start()
		defer m.Stop()
		h := api.New(api.Options{
			Service: d,
			Metrics: m,
			Display: display.New(display.Options{Service: d, ClearAfter: 8 * time.Second}),
		})
		return api.Serve(ctx, h, 2*time.Second, ln)
	}
	rd := startRigDaemonWith(t, f, rigOptions{
		profile: "age-20", log: zerolog.Nop(), trust: trust,
		outputs: []hardware.Output{out}, beside: serve,
	})
	return &apiRig{rigDaemon: rd, base: "http://" + ln.Addr().String(), clock: clock, board: board}
}

// tapHeld puts a wallet on the reader and keeps it in the field until the
// daemon decided and inspect ran: the loop then waits for the phone to
// leave and drives no output, so inspect may read the pins and advance
// the fake clock. It takes the wallet away and waits for the daemon to be
// idle again.
func (r *apiRig) tapHeld(t *testing.T, cfg wallet.Config, inspect func(daemon.Event)) daemon.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cardCtx, leave := context.WithCancel(ctx)
	defer leave()
	w, err := wallet.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cardErr := make(chan error, 1)
	go func() { cardErr <- vpcd.Tap(cardCtx, r.addr, w) }()
	e := r.next(t, daemon.EventDecision)
	inspect(e)
	leave()
	if err := <-cardErr; err != nil && !errors.Is(err, vpcd.ErrDisconnected) {
		t.Errorf("card: %v", err)
	}
	r.next(t, daemon.EventReady)
	return e
}

// pinStep is one expected write on the fake board, relative to the first
// write of the tap.
type pinStep struct {
	at    time.Duration
	pin   string
	level gpio.Level
}

func (s pinStep) String() string { return fmt.Sprintf("+%v %s %s", s.at, s.pin, s.level) }

// Expected pin logs of one tap, from Reading to the end of the decision's
// pattern (Ready is dark, so going idle writes nothing).
var (
	acceptPins = []pinStep{
		{0, pinGreen, gpio.High},                            // reading: green (its blink starts on)
		{0, pinBuzzer, gpio.High}, {0, pinRelay, gpio.High}, // accept; green stays on
		{100 * time.Millisecond, pinBuzzer, gpio.Low}, // one 100 ms beep
		{relayPulse, pinRelay, gpio.Low},              // 500 ms relay pulse
		{signalHold, pinGreen, gpio.Low},              // accept hold over
	}
	rejectPins = []pinStep{
		{0, pinGreen, gpio.High},                                                   // reading
		{0, pinGreen, gpio.Low}, {0, pinRed, gpio.High}, {0, pinBuzzer, gpio.High}, // reject
		{100 * time.Millisecond, pinBuzzer, gpio.Low}, // three 100 ms beeps, 100 ms apart
		{200 * time.Millisecond, pinBuzzer, gpio.High},
		{300 * time.Millisecond, pinBuzzer, gpio.Low},
		{400 * time.Millisecond, pinBuzzer, gpio.High},
		{500 * time.Millisecond, pinBuzzer, gpio.Low},
		{signalHold, pinRed, gpio.Low}, // reject hold over
	}
)

// checkPins compares the board's log since the last ResetLog with want.
func (r *apiRig) checkPins(t *testing.T, what string, want []pinStep) {
	t.Helper()
	log := r.board.Log()
	got := make([]pinStep, len(log))
	for i, e := range log {
		got[i] = pinStep{e.At - log[0].At, e.Pin, e.Level}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: pin log\n got %v\nwant %v", what, got, want)
	}
}

// levels returns the levels of the four pins, green, red, buzzer, relay.
func (r *apiRig) levels() [4]gpio.Level {
	return [4]gpio.Level{r.board.Level(pinGreen), r.board.Level(pinRed), r.board.Level(pinBuzzer), r.board.Level(pinRelay)}
}

// inspectPins checks the levels right after a decision, then runs the
// decision's pattern to its end on the fake clock.
func (r *apiRig) inspectPins(t *testing.T, want [4]gpio.Level) func(daemon.Event) {
	return func(e daemon.Event) {
		t.Helper()
		if got := r.levels(); got != want {
			t.Errorf("%s: pins (green, red, buzzer, relay) %v, want %v", e.Decision, got, want)
		}
		r.clock.Advance(signalHold)
		if r.clock.Pending() != 0 {
			t.Errorf("%s: %d output timers still pending after the hold", e.Decision, r.clock.Pending())
		}
	}
}

// httpAnswer is one HTTP answer: status and body.
type httpAnswer struct {
	status int
	body   []byte
	err    error
}

func (r *apiRig) do(method, path, body string) httpAnswer {
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		return httpAnswer{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return httpAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return httpAnswer{status: resp.StatusCode, body: b, err: err}
}

// postCheck starts POST /v1/checks in a goroutine and returns once the
// daemon armed the check.
func (r *apiRig) postCheck(t *testing.T, body string) <-chan httpAnswer {
	t.Helper()
	ch := make(chan httpAnswer, 1)
	go func() { ch <- r.do(http.MethodPost, "/v1/checks", body) }()
	deadline := time.Now().Add(10 * time.Second)
	for !r.d.Armed("") {
		if time.Now().After(deadline) {
			t.Fatal("the check was not armed within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ch
}

// checkJSON is the part of a CheckResult (or an error body) the test reads.
type checkJSON struct {
	ID        string   `json:"id"`
	Reader    string   `json:"reader"`
	Profile   string   `json:"profile"`
	Decision  string   `json:"decision"`
	Verdict   string   `json:"verdict"`
	Reasons   []string `json:"reasons"`
	Documents []struct {
		DocType  string                    `json:"docType"`
		Elements map[string]map[string]any `json:"elements"`
	} `json:"documents"`
	Error *api.ErrorDetail `json:"error"`
}

func decodeCheck(t *testing.T, what string, a httpAnswer, status int) checkJSON {
	t.Helper()
	if a.err != nil {
		t.Fatalf("%s: %v", what, a.err)
	}
	if a.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, a.status, status, a.body)
	}
	var c checkJSON
	if err := json.Unmarshal(a.body, &c); err != nil {
		t.Fatalf("%s: %v: %s", what, err, a.body)
	}
	return c
}

// scrape reads /metrics into a map from series ("name{labels}") to value.
func (r *apiRig) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	a := r.do(http.MethodGet, "/metrics", "")
	if a.err != nil || a.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", a.status, a.err)
	}
	m := map[string]float64{}
	for line := range strings.SplitSeq(string(a.body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// scrapeUntil scrapes /metrics until ok holds or 10 s passed, and returns
// the last scrape: the metrics follow the daemon's events asynchronously.
func (r *apiRig) scrapeUntil(t *testing.T, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := r.scrape(t)
		if ok(m) || time.Now().After(deadline) {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sseStream collects GET /v1/events: the raw bytes and the decoded events.
type sseStream struct {
	mu     sync.Mutex
	raw    bytes.Buffer
	events []daemon.Event
	done   chan struct{}
}

// openEvents connects to the event stream and returns once the server
// subscribed (its first comment arrived).
func (r *apiRig) openEvents(t *testing.T) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /v1/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sseStream{done: make(chan struct{})}
	subscribed := make(chan struct{})
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		first := true
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.raw.WriteString(line + "\n")
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var e daemon.Event
				if err := json.Unmarshal([]byte(data), &e); err != nil {
					t.Errorf("event %q: %v", data, err)
				}
				s.events = append(s.events, e)
			}
			s.mu.Unlock()
			if first && strings.HasPrefix(line, ":") {
				first = false
				close(subscribed)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatal("event stream: no opening comment within 10 s")
	}
	return s
}

// waitFor waits until the stream holds an event of kind for check id.
func (s *sseStream) waitFor(t *testing.T, kind daemon.EventKind, id string) daemon.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		i := slices.IndexFunc(s.events, func(e daemon.Event) bool { return e.Kind == kind && e.CheckID == id })
		var e daemon.Event
		if i >= 0 {
			e = s.events[i]
		}
		s.mu.Unlock()
		if i >= 0 {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("event stream: no %s event for check %s within 10 s", kind, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *sseStream) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.raw.Bytes())
}

// TestDaemonRigAPI: the daemon through pcscd + vpcd, driven by its
// point-of-sale API as cmd/idreaderd serves it: checks answered with only
// what the profile disclosed, the last result, a cancelled check, the
// metrics moving, the event stream without personal data, and the GPIO
// output's pin sequence on a fake board and fake clock, inert after stop.
func TestDaemonRigAPI(t *testing.T) {
	f := getFixture(t)
	h := newMNCHolders(t, f)
	r := startAPIRig(t, f, h.trust)
	stream := r.openEvents(t)
	// The collector runs on its own subscription: wait for it to see the
	// reader up.
	before := r.scrapeUntil(t, func(m map[string]float64) bool { return m[`idreader_reader_up{reader="counter"}`] == 1 })
	if got := before[`idreader_reader_up{reader="counter"}`]; got != 1 {
		t.Errorf("idreader_reader_up before the taps: %v", got)
	}
	// New drove every pin inactive; a dark ready state keeps them so.
	if got := r.levels(); got != [4]gpio.Level{} {
		t.Fatalf("idle pins %v", got)
	}
	if a := r.do(http.MethodGet, "/v1/results/last", ""); a.status != http.StatusNotFound {
		t.Errorf("GET /v1/results/last before any check: %d %s", a.status, a.body)
	}

	// 1. age-20 with an adult's My Number card: accepted, and the answer
	// holds age_over_20 and the portrait, nothing else.
	r.board.ResetLog()
	ans := r.postCheck(t, `{"profile":"age-20","timeout":"20s"}`)
	e := r.tapHeld(t, wallet.Config{Credentials: []*credential.Credential{h.adult}},
		r.inspectPins(t, [4]gpio.Level{gpio.High, gpio.Low, gpio.High, gpio.High}))
	a := <-ans
	accepted := decodeCheck(t, "age-20 adult", a, http.StatusOK)
	if accepted.Decision != "accept" || accepted.Verdict != "accept" || accepted.Profile != "age-20" ||
		accepted.Reader != "counter" || accepted.ID == "" || accepted.ID != e.CheckID {
		t.Errorf("age-20 adult: %+v (event %+v)", accepted, e)
	}
	if !bytes.Contains(a.body, []byte(`"reasons":[]`)) {
		t.Errorf("age-20 adult: reasons not an empty array: %s", a.body)
	}
	wantElems := map[string]map[string]any{
		mdoc.NameSpace23220:   {"age_over_20": true},
		mdoc.NameSpace23220JP: {"portrait": base64.StdEncoding.EncodeToString(h.portrait)},
	}
	if len(accepted.Documents) != 1 || accepted.Documents[0].DocType != mdoc.DocTypeMyNumberCard ||
		!reflect.DeepEqual(accepted.Documents[0].Elements, wantElems) {
		t.Errorf("age-20 adult: documents %+v, want only %v", accepted.Documents, slices.Collect(maps.Keys(wantElems)))
	}
	r.checkPins(t, "accept", acceptPins)

	// 2. age-20 with a minor's card: verified, refused by the policy.
	r.board.ResetLog()
	ans = r.postCheck(t, `{"profile":"age-20","timeout":"20s"}`)
	e = r.tapHeld(t, wallet.Config{Credentials: []*credential.Credential{h.minor}},
		r.inspectPins(t, [4]gpio.Level{gpio.Low, gpio.High, gpio.High, gpio.Low}))
	rejected := decodeCheck(t, "age-20 minor", <-ans, http.StatusOK)
	if rejected.Decision != "reject" || rejected.Verdict != "accept" || rejected.ID != e.CheckID ||
		!slices.Equal(rejected.Reasons, []string{policy.CodeAgeNotMet}) {
		t.Errorf("age-20 minor: %+v", rejected)
	}
	r.checkPins(t, "reject", rejectPins)

	last := decodeCheck(t, "GET /v1/results/last", r.do(http.MethodGet, "/v1/results/last", ""), http.StatusOK)
	if last.ID != rejected.ID || last.Decision != "reject" || !slices.Equal(last.Reasons, rejected.Reasons) {
		t.Errorf("last result %+v, want check %s", last, rejected.ID)
	}

	// 3. identity with an mDL: the answer carries the name and more (to the
	// caller that asked); the event stream below must not, though the
	// decision event holds them for the kiosk display.
	r.board.ResetLog()
	ans = r.postCheck(t, `{"profile":"identity","timeout":"20s"}`)
	e = r.tapHeld(t, wallet.Config{Credentials: []*credential.Credential{f.mdl}},
		r.inspectPins(t, [4]gpio.Level{gpio.High, gpio.Low, gpio.High, gpio.High}))
	identity := decodeCheck(t, "identity", <-ans, http.StatusOK)
	if identity.Decision != "accept" || identity.ID != e.CheckID || len(identity.Documents) != 1 ||
		identity.Documents[0].Elements[mdoc.NameSpaceMDL]["given_name"] == nil || e.Personal == nil {
		t.Errorf("identity: %+v (personal in the event: %v)", identity, e.Personal != nil)
	}
	r.checkPins(t, "identity accept", acceptPins)

	// 4. A check cancelled while it waits for a tap.
	ans = r.postCheck(t, `{"profile":"age-20","timeout":"20s"}`)
	if a := r.do(http.MethodDelete, "/v1/checks/current", ""); a.err != nil || a.status != http.StatusNoContent {
		t.Fatalf("DELETE /v1/checks/current: %d %v %s", a.status, a.err, a.body)
	}
	cancelled := decodeCheck(t, "cancelled check", <-ans, http.StatusGone)
	if cancelled.Error == nil || cancelled.Error.Code != api.CodeCancelled {
		t.Errorf("cancelled check: %+v", cancelled)
	}
	if a := r.do(http.MethodDelete, "/v1/checks/current", ""); a.status != http.StatusNotFound {
		t.Errorf("DELETE /v1/checks/current without a check: %d %s", a.status, a.body)
	}
	if last := decodeCheck(t, "last after cancel", r.do(http.MethodGet, "/v1/results/last", ""), http.StatusOK); last.ID != identity.ID {
		t.Errorf("last result after the cancel: %s, want %s", last.ID, identity.ID)
	}

	// Metrics: three taps, two accepts, one age_not_met.
	const taps = 3
	after := r.scrapeUntil(t, func(m map[string]float64) bool {
		return m[`idreader_taps_total{reader="counter"}`]-before[`idreader_taps_total{reader="counter"}`] >= taps
	})
	for series, want := range map[string]float64{
		`idreader_taps_total{reader="counter"}`:                                             taps,
		`idreader_decisions_total{decision="accept",reason="none"}`:                         2,
		`idreader_decisions_total{decision="reject",reason="` + policy.CodeAgeNotMet + `"}`: 1,
		`idreader_tap_duration_seconds_count{step="total"}`:                                 taps,
		`idreader_events_total{kind="decision"}`:                                            taps,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	if got := after[`idreader_reader_up{reader="counter"}`]; got != 1 {
		t.Errorf("idreader_reader_up after the taps: %v", got)
	}

	// The event stream: reading and decision for each tap, with its check.
	for _, c := range []checkJSON{accepted, rejected, identity} {
		stream.waitFor(t, daemon.EventReading, c.ID)
		if d := stream.waitFor(t, daemon.EventDecision, c.ID); d.Decision != c.Decision || !slices.Equal(d.Reasons, c.Reasons) {
			t.Errorf("streamed decision %+v, want %s %v", d, c.Decision, c.Reasons)
		}
	}
	// No personal data: none of the disclosed text values (names, dates,
	// address, document number, the portrait's base64) is on the stream.
	raw := stream.bytes()
	personal := map[string]bool{h.name: true}
	for _, c := range []checkJSON{accepted, rejected, identity} {
		for _, d := range c.Documents {
			for _, ns := range d.Elements {
				for id, v := range ns {
					if s, ok := v.(string); ok && len(s) >= 4 && id != "issuing_country" {
						personal[s] = true
					}
				}
			}
		}
	}
	pic := base64.StdEncoding.EncodeToString(h.portrait)
	personal[pic[len(pic)/2:len(pic)/2+32]] = true
	if !personal[pic] {
		t.Error("the portrait was not among the disclosed values")
	}
	for v := range personal {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("the event stream carries a disclosed value: %.40q", v)
		}
	}

	// Stopping the daemon leaves every output inert.
	r.board.ResetLog()
	r.stop()
	if got := r.levels(); got != [4]gpio.Level{} {
		t.Errorf("pins after stop %v, want all Low", got)
	}
	log := r.board.Log()
	if len(log) < 4 {
		t.Fatalf("stop wrote %v, want every pin driven Low", log)
	}
	for _, ev := range log {
		if ev.Level != gpio.Low {
			t.Errorf("stop wrote %v", ev)
		}
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(r.base, "http://"), time.Second); err == nil {
		t.Error("the API still listens after stop")
	}
}
