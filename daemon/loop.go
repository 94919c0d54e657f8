package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/internal/printsafe"
	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// Reason codes of the reader loop, as stable as the others.
const (
	// CodeCancelled: the point-of-sale cancelled the check during its tap.
	CodeCancelled verify.Code = "cancelled"
	// CodeConfig: the tap could not start: its profile or reader identity
	// is missing from the settings.
	CodeConfig verify.Code = "config"
)

// Decisions of a tap.
const (
	DecisionAccept = "accept"
	DecisionReject = "reject"
)

// loop is one reader's loop: idle → target present → tap → decide → signal
// → wait for removal → idle.
type loop struct {
	d    *Daemon
	spec ReaderSpec
	log  zerolog.Logger

	outMu sync.Mutex // serialises Show calls (loop and probe)

	mu      sync.Mutex
	up      bool
	known   bool   // up has been reported once
	reason  string // ReaderStatus.Reason
	state   EventKind
	pending *check // armed, waiting for a tap
	current *check // the check the tap in progress answers
	tapStop context.CancelFunc
	rd      reader.Reader
	ble     string // ReaderStatus.BLE
}

func (l *loop) status() ReaderStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	eng := terminal.EngagementNFC
	if l.spec.OpenQR != nil {
		eng = terminal.EngagementQR
	}
	return ReaderStatus{Name: l.spec.Name, Up: l.up, State: l.state, Engagement: eng, BLE: l.ble, Reason: l.reason}
}

// radio returns the reader's BLE radio (the zero terminal.BLEConfig when it has
// none), logging a change of its availability once.
func (l *loop) radio(ctx context.Context) (terminal.BLEConfig, error) {
	if l.spec.BLE == nil {
		return terminal.BLEConfig{}, nil
	}
	bctx, cancel := context.WithTimeout(ctx, l.spec.Timeouts.Open)
	cfg, err := l.spec.BLE(bctx)
	cancel()
	state := "ok"
	if err != nil {
		cfg, state = terminal.BLEConfig{}, err.Error()
	}
	l.mu.Lock()
	changed := l.ble != state
	l.ble = state
	l.mu.Unlock()
	if changed && ctx.Err() == nil {
		if err != nil {
			l.log.Error().Err(err).Msg("bluetooth LE radio unavailable; BLE is not offered")
		} else {
			l.log.Info().Msg("bluetooth LE radio ready")
		}
	}
	return cfg, err
}

func (l *loop) arm(c *check) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending != nil || l.current != nil {
		return fmt.Errorf("%w (%s)", ErrBusy, l.spec.Name)
	}
	l.pending = c
	return nil
}

// abandon withdraws a check whose caller stopped waiting: it is aborted,
// disarmed if no tap took it yet, and a tap answering it is stopped.
func (l *loop) abandon(c *check) {
	c.abort()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == c {
		l.pending = nil
	}
	if l.current == c {
		l.current = nil
		if l.tapStop != nil {
			l.tapStop()
		}
	}
}

func (l *loop) cancelChecks() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	found := false
	if l.pending != nil {
		l.pending.abort()
		l.pending = nil
		found = true
	}
	if l.current != nil {
		l.current.abort()
		if l.tapStop != nil {
			l.tapStop()
		}
		found = true
	}
	return found
}

// setState records the state and emits its event.
func (l *loop) event(e Event) {
	e.Reader = l.spec.Name
	l.mu.Lock()
	switch e.Kind {
	case EventReaderUp:
		l.up, l.known = true, true
	case EventReaderDown:
		l.up, l.known = false, true
	}
	l.state = e.Kind
	l.mu.Unlock()
	l.d.emit(e)
}

// setUp reports a change of reachability once; the reason of a reader that
// is down follows err even when it stays down.
func (l *loop) setUp(up bool, err error) {
	l.mu.Lock()
	changed := !l.known || l.up != up
	l.reason = ""
	if !up && err != nil {
		l.reason = terminal.ErrorDetail(err)
	}
	l.mu.Unlock()
	if !changed {
		return
	}
	if up {
		l.log.Info().Msg("reader up")
		l.event(Event{Kind: EventReaderUp})
		return
	}
	l.log.Warn().Err(err).Msg("reader down")
	l.event(Event{Kind: EventReaderDown})
	l.show(context.Background(), hardware.SignalFault)
}

// show sets every output to s (with the decision's reason codes for the
// outputs that take them), each bounded by the output timeout.
func (l *loop) show(ctx context.Context, s hardware.Signal, reasons ...string) {
	l.outMu.Lock()
	defer l.outMu.Unlock()
	for i, o := range l.spec.Outputs {
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.spec.Timeouts.Output)
		err := hardware.ShowReasons(octx, o, s, reasons)
		cancel()
		if err != nil {
			l.log.Warn().Err(err).Int("output", i).Str("signal", s.String()).Msg("output failed")
		}
	}
}

func (l *loop) shutdown() error {
	l.show(context.Background(), hardware.SignalOff)
	var errs []error
	for _, o := range l.spec.Outputs {
		errs = append(errs, o.Close())
	}
	l.mu.Lock()
	rd := l.rd
	l.rd = nil
	l.mu.Unlock()
	if rd != nil {
		errs = append(errs, rd.Close())
	}
	return errors.Join(errs...)
}

// nextBackoff is the delay after d before the next attempt to open or wait
// on a reader: 100 ms, then doubling up to limit.
func nextBackoff(d, limit time.Duration) time.Duration {
	if d <= 0 {
		return 100 * time.Millisecond
	}
	return min(2*d, limit)
}

// run opens the reader and serves taps until ctx ends, reopening it with
// backoff when it fails.
func (l *loop) run(ctx context.Context) {
	to := l.spec.Timeouts
	var backoff time.Duration
	for ctx.Err() == nil {
		octx, cancel := context.WithTimeout(ctx, to.Open)
		rd, err := l.spec.Open(octx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.setUp(false, err)
			backoff = nextBackoff(backoff, to.BackoffMax)
			l.d.sleep(ctx, backoff)
			continue
		}
		l.mu.Lock()
		l.rd = rd
		l.mu.Unlock()
		l.setUp(true, nil)
		if ar, ok := rd.(reader.AvailabilityReporter); ok {
			// The reader reports losing its service or being unplugged
			// while it waits, and coming back: health follows at once.
			ar.SetAvailability(func(err error) { l.availability(ctx, err) })
		}
		l.radio(ctx)
		tapped := l.serve(ctx, rd)
		l.mu.Lock()
		l.rd = nil
		l.mu.Unlock()
		rd.Close()
		// A reader that reports itself closed before serving a tap (a
		// broken driver, a reader closed under the loop) is reopened
		// with backoff, not in a tight loop of opens and ready events.
		if tapped {
			backoff = 0
		} else if ctx.Err() == nil {
			backoff = nextBackoff(backoff, to.BackoffMax)
			l.d.sleep(ctx, backoff)
		}
	}
}

// serve waits for targets on rd and taps each; it returns when ctx ends or
// the reader is closed, reporting whether it served a tap.
func (l *loop) serve(ctx context.Context, rd reader.Reader) (tapped bool) {
	to := l.spec.Timeouts
	var backoff time.Duration
	for ctx.Err() == nil {
		l.show(ctx, hardware.SignalReady)
		l.event(Event{Kind: EventReady})
		t, err := l.wait(ctx, rd)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, reader.ErrClosed) {
				return tapped
			}
			// The reader vanished or its service is down: report it,
			// back off and wait again (a later Wait waits for it).
			l.setUp(false, err)
			backoff = nextBackoff(backoff, to.BackoffMax)
			l.d.sleep(ctx, backoff)
			continue
		}
		backoff = 0
		l.setUp(true, nil)
		l.handle(ctx, nfcSource{t})
		tapped = true
	}
	return tapped
}

// runQR serves a QR reader until ctx ends: it checks the BLE radio, opens
// the scanner and taps every scanned mdoc: code; when the radio is missing
// or the scanner fails (a serial device unplugged, the end of standard
// input) the reader is down and the loop tries again with backoff.
func (l *loop) runQR(ctx context.Context) {
	to := l.spec.Timeouts
	var backoff time.Duration
	for ctx.Err() == nil {
		scanned, err := l.serveQR(ctx)
		if ctx.Err() != nil {
			return
		}
		if scanned {
			backoff = 0
		}
		l.setUp(false, err)
		backoff = nextBackoff(backoff, to.BackoffMax)
		l.d.sleep(ctx, backoff)
	}
}

// serveQR serves one opening of the scanner; it reports whether anything
// was scanned and why it stopped.
func (l *loop) serveQR(ctx context.Context) (scanned bool, err error) {
	if _, err := l.radio(ctx); err != nil {
		return false, fmt.Errorf("daemon: bluetooth LE radio: %w", err)
	}
	octx, cancel := context.WithTimeout(ctx, l.spec.Timeouts.Open)
	sc, err := l.spec.OpenQR(octx)
	cancel()
	if err != nil {
		return false, err
	}
	defer sc.Close()
	l.setUp(true, nil)
	for ctx.Err() == nil {
		l.show(ctx, hardware.SignalReady)
		l.event(Event{Kind: EventReady})
		text, err := sc.NextScan(ctx)
		if err != nil {
			return scanned, fmt.Errorf("daemon: reading qr scanner: %w", err)
		}
		scanned = true
		l.handle(ctx, qrSource(text))
	}
	return scanned, ctx.Err()
}

// source is what a tap starts from: an NFC target in the field or the text
// of a scanned QR code.
type source interface {
	// tap runs the exchange with cfg (its Limits are filled in here).
	tap(ctx context.Context, cfg terminal.Config) (*terminal.Outcome, error)
	engagement() string
}

// nfcSource is an NFC target: NFC engagement, then the retrieval the wallet
// picks (NFC or BLE).
type nfcSource struct{ t reader.Target }

func (s nfcSource) tap(ctx context.Context, cfg terminal.Config) (*terminal.Outcome, error) {
	cfg.Limits = terminal.NFCLimits(s.t.Limits())
	return terminal.Tap(ctx, s.t, cfg)
}

func (nfcSource) engagement() string { return terminal.EngagementNFC }

// qrSource is a scanned mdoc: code: QR engagement, BLE retrieval.
type qrSource string

func (s qrSource) tap(ctx context.Context, cfg terminal.Config) (*terminal.Outcome, error) {
	return terminal.TapQR(ctx, string(s), cfg)
}

func (qrSource) engagement() string { return terminal.EngagementQR }

// availability takes a reader's own report (reader.AvailabilityReporter):
// down with the reason, or up and ready again.
func (l *loop) availability(ctx context.Context, err error) {
	wasUp := l.status().Up
	l.setUp(err == nil, err)
	if err == nil && !wasUp && ctx.Err() == nil {
		l.show(ctx, hardware.SignalReady)
		l.event(Event{Kind: EventReady})
	}
}

// wait runs rd.Wait while probing the reader's reachability, if a probe is
// configured.
func (l *loop) wait(ctx context.Context, rd reader.Reader) (reader.Target, error) {
	if l.spec.Probe == nil {
		return rd.Wait(ctx)
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(l.spec.Timeouts.Probe)
		defer tick.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			c, cancel := context.WithTimeout(pctx, l.spec.Timeouts.Probe)
			err := l.spec.Probe(c)
			cancel()
			if pctx.Err() != nil {
				return
			}
			wasUp := l.status().Up
			l.setUp(err == nil, err)
			if err == nil && !wasUp {
				l.show(pctx, hardware.SignalReady)
				l.event(Event{Kind: EventReady})
			}
		}
	}()
	t, err := rd.Wait(ctx)
	stop()
	wg.Wait()
	return t, err
}

// tapRecord is what one tap produced, for the event, the check and the audit.
type tapRecord struct {
	started    time.Time
	engagement string
	profile    string
	check      *check
	outcome    *terminal.Outcome
	err        error
	decision   policy.Decision
	result     *verify.Result
	personal   *Personal
	finished   time.Time
	// timing is the outcome's phases, with decision and output added.
	timing terminal.Timing
}

// handle serves one tap: from a target's arrival to its removal, or from a
// scan to the decision.
func (l *loop) handle(ctx context.Context, src source) {
	nt, isNFC := src.(nfcSource)
	if isNFC {
		defer nt.t.Close()
	}
	to := l.spec.Timeouts
	s := l.d.settings.Load()
	rec := &tapRecord{started: time.Now()}

	tctx, stopTap := context.WithTimeout(ctx, to.Tap)
	defer stopTap()
	l.mu.Lock()
	rec.check, l.pending = l.pending, nil
	l.current = rec.check
	l.tapStop = stopTap
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.current, l.tapStop = nil, nil
		l.mu.Unlock()
	}()

	rec.profile = s.ReaderProfiles[l.spec.Name]
	checkID := ""
	if rec.check != nil {
		rec.profile, checkID = rec.check.profile, rec.check.id
	}
	l.event(Event{Kind: EventReading, Profile: rec.profile, CheckID: checkID})
	l.show(ctx, hardware.SignalReading)

	prof := s.Profiles[rec.profile]
	rec.engagement = src.engagement()
	cfg, cfgErr := l.tapConfig(tctx, s, prof)
	if cfgErr != nil {
		rec.err = cfgErr
	} else {
		rec.outcome, rec.err = src.tap(tctx, cfg)
	}
	tapped := time.Now()
	if rec.outcome != nil {
		rec.timing = rec.outcome.Timing
	}
	cancelled := rec.check != nil && isClosed(rec.check.cancel)
	switch {
	case cfgErr != nil:
		rec.decision = policy.Decision{Document: -1, Reasons: []string{string(CodeConfig)}}
	case cancelled:
		rec.decision = policy.Decision{Document: -1, Reasons: []string{string(CodeCancelled)}}
	case rec.err != nil:
		rec.decision = policy.Decision{Document: -1, Reasons: []string{string(terminal.ErrorCode(rec.err))}}
	default:
		rec.result = rec.outcome.Result
		rec.decision = policy.Decide(prof, rec.result, l.d.cfg.Now())
		if rec.result.Accepted() && rec.decision.Document >= 0 {
			name, pic := policy.Holder(prof, &rec.result.Documents[rec.decision.Document])
			if name != "" || pic != nil {
				rec.personal = &Personal{Name: name, Portrait: pic}
			}
		}
	}
	rec.finished = time.Now()
	rec.timing.Decision = rec.finished.Sub(tapped)
	decided := l.d.cfg.Clock.Now()

	decision := DecisionReject
	signal := hardware.SignalReject
	if rec.decision.Accept {
		decision, signal = DecisionAccept, hardware.SignalAccept
	} else if rec.result == nil && !cancelled {
		// The exchange broke off: no document was read at all.
		signal = hardware.SignalFault
	}
	shown := time.Now()
	l.show(ctx, signal, rec.decision.Reasons...)
	rec.timing.Output = time.Since(shown)
	var steps []terminal.StepTime
	var transport terminal.Transport
	if rec.outcome != nil {
		steps, transport = rec.outcome.Steps, rec.outcome.Transport
	}
	l.event(Event{
		Kind: EventDecision, Profile: rec.profile, CheckID: checkID,
		Decision: decision, Reasons: rec.decision.Reasons,
		DocType: rec.decision.DocType, IssuerCountry: rec.decision.IssuerCountry,
		Engagement: rec.engagement, Transport: transport,
		Steps: steps, Total: rec.finished.Sub(rec.started), Timing: rec.timing, Personal: rec.personal,
	})
	if rec.check != nil {
		l.answer(rec, decision)
	}
	l.audit(rec, decision)

	// Wait for the phone to leave (NFC; a scanned code has nothing to
	// wait for), then hold the decision a little so it can be seen before
	// the outputs show ready again.
	if isNFC {
		rctx, cancel := context.WithTimeout(ctx, to.Removal)
		err := nt.t.WaitRemoved(rctx)
		cancel()
		if err == nil {
			l.event(Event{Kind: EventRemoved, Profile: rec.profile})
		} else if ctx.Err() == nil {
			l.log.Info().Err(err).Msg("phone left in the field; going idle")
		}
	}
	if rest := to.Hold - l.d.cfg.Clock.Now().Sub(decided); rest > 0 {
		l.d.sleep(ctx, rest)
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// tapConfig builds the terminal.Config of one tap from the settings in force and the
// reader's transports and radio (without the radio when it is unavailable:
// the tap then offers what is left).
func (l *loop) tapConfig(ctx context.Context, s *Settings, p *policy.Profile) (terminal.Config, error) {
	if p == nil {
		return terminal.Config{}, fmt.Errorf("%w %q", ErrUnknownProfile, s.ReaderProfiles[l.spec.Name])
	}
	idName := p.ReaderIdentity
	if idName == "" {
		idName = s.ReaderIdentities[l.spec.Name]
	}
	var id *terminal.ReaderIdentity
	if idName != "" {
		if id = s.Identities[idName]; id == nil {
			return terminal.Config{}, fmt.Errorf("daemon: unknown reader identity %q", idName)
		}
	}
	radio, _ := l.radio(ctx)
	return terminal.Config{
		Rand:              l.d.cfg.Rand,
		Now:               l.d.cfg.Now,
		Trust:             s.Trust,
		Revocation:        s.revocationChecker(p),
		Transports:        l.spec.Transports,
		BLE:               radio,
		Request:           RequestFor(p),
		ReaderAuth:        id,
		Sleep:             l.d.cfg.Sleep,
		EngagementTimeout: l.spec.Timeouts.Engagement,
		ExchangeTimeout:   l.spec.Timeouts.Exchange,
	}, nil
}

// revocationChecker is the revocation check of a tap under profile p: nil
// (no check) when no revocation source is configured and the profile is
// soft; otherwise the checker of the settings' revocation set with the
// profile's rule, telling ObserveRevocation about each query.
func (s *Settings) revocationChecker(p *policy.Profile) verify.RevocationChecker {
	mode := p.RevocationMode()
	if s.Revocation == nil && mode != revocation.Hard {
		return nil
	}
	c := revocation.Checker{Set: s.Revocation, Mode: mode}
	if s.ObserveRevocation == nil {
		return c
	}
	observe := s.ObserveRevocation
	return verify.RevocationFunc(func(q verify.RevocationQuery) verify.RevocationResult {
		observe(q)
		return c.CheckRevocation(q)
	})
}

// answer hands the check its result.
func (l *loop) answer(rec *tapRecord, decision string) {
	res := &CheckResult{
		ID: rec.check.id, Reader: l.spec.Name, Profile: rec.profile,
		Decision: decision, Reasons: rec.decision.Reasons,
		Started: rec.started, Finished: rec.finished,
	}
	switch {
	case rec.result != nil:
		res.Report = rec.result.Report()
	case rec.err != nil:
		res.Report = terminal.ErrorReport(rec.err)
	default:
		res.Report = verify.Report{Verdict: verify.VerdictReject, Documents: []verify.DocumentReport{},
			Errors: []verify.ErrorReport{{Code: verify.Code(rec.decision.Reasons[0]), Detail: "check cancelled"}}}
	}
	if res.Reasons == nil {
		res.Reasons = []string{}
	}
	if isClosed(rec.check.cancel) && len(res.Documents) > 0 {
		// The caller stopped waiting after the response was read: its
		// data goes to nobody and is not kept as the last result.
		return
	}
	select {
	case rec.check.result <- res:
	default:
	}
	l.d.finish(res)
}

// AuditRecord is the per-tap audit line. It never holds personal data: no
// element values, no names, numbers, dates of birth or portraits, no APDUs.
type AuditRecord struct {
	Time          time.Time `json:"time"`
	Reader        string    `json:"reader"`
	Profile       string    `json:"profile"`
	CheckID       string    `json:"checkId,omitempty"`
	Decision      string    `json:"decision"`
	Reasons       []string  `json:"reasons"`
	DocType       string    `json:"docType,omitempty"`
	IssuerCountry string    `json:"issuerCountry,omitempty"`
	Negotiated    bool      `json:"negotiated,omitempty"`
	// Engagement is nfc or qr, Transport the data retrieval used (nfc,
	// ble-central, ble-peripheral; empty when the tap failed before one was
	// chosen).
	Engagement string             `json:"engagement"`
	Transport  terminal.Transport `json:"transport,omitempty"`
	StepsMS    map[string]float64 `json:"stepsMs,omitempty"`
	TotalMS    float64            `json:"totalMs"`
	// Timing is phase → milliseconds (detection, engagement, session,
	// request, transfer, verification, decision, output; those that took
	// place), the shape of `idreader read --json`.
	Timing terminal.Timing `json:"timing"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (l *loop) audit(rec *tapRecord, decision string) {
	a := AuditRecord{
		Time: rec.started.UTC(), Reader: l.spec.Name, Profile: rec.profile,
		Decision: decision, Reasons: rec.decision.Reasons,
		DocType: rec.decision.DocType, IssuerCountry: rec.decision.IssuerCountry,
		TotalMS:    ms(rec.finished.Sub(rec.started)),
		Engagement: rec.engagement,
		Timing:     rec.timing,
	}
	if a.Reasons == nil {
		a.Reasons = []string{}
	}
	if rec.check != nil {
		a.CheckID = rec.check.id
	}
	if rec.outcome != nil {
		a.Negotiated = rec.outcome.Negotiated
		a.Transport = rec.outcome.Transport
		a.StepsMS = map[string]float64{}
		for _, s := range rec.outcome.Steps {
			a.StepsMS[s.Step] = ms(s.Duration)
		}
	}
	ev := l.log.Info()
	// The tap error's text comes from the transport and protocol layers and
	// carries no element values; verification failures are logged by code
	// only.
	if rec.err != nil {
		ev = ev.Str("error", printsafe.Clip(rec.err.Error(), verify.MaxDetail))
	}
	ev.Str("profile", a.Profile).Str("checkId", a.CheckID).Str("decision", decision).
		Strs("reasons", a.Reasons).Str("docType", a.DocType).Str("issuerCountry", a.IssuerCountry).
		Str("engagement", a.Engagement).Str("transport", string(a.Transport)).
		Float64("totalMs", a.TotalMS).Msg("tap")
	if l.d.cfg.Audit == nil {
		return
	}
	line, err := json.Marshal(a)
	if err != nil {
		l.log.Error().Err(err).Msg("encoding audit record")
		return
	}
	line = append(line, '\n')
	l.d.auditMu.Lock()
	_, err = l.d.cfg.Audit.Write(line)
	l.d.auditMu.Unlock()
	if err != nil {
		l.log.Error().Err(err).Msg("writing audit record")
	}
}
