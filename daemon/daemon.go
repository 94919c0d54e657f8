package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// Settings are the parts of the daemon's configuration that a reload (SIGHUP)
// may change: they apply from the next tap on; a tap in progress keeps the
// settings it started with.
type Settings struct {
	// Profiles are the acceptance profiles by name.
	Profiles map[string]*policy.Profile
	// Trust holds the IACA roots.
	Trust *verify.TrustStore
	// Revocation holds the verified CRLs and status lists in force; nil
	// when no revocation source is configured. A tap checks revocation
	// when it is set or its profile's rule is hard (a hard profile with
	// nothing to check against rejects with revocation_unknown).
	Revocation *revocation.Set
	// ObserveRevocation, when set, sees every revocation query of a tap
	// (the DS certificate and the MSO status), so the trust refresh can
	// fetch the CRLs and status lists taps reveal.
	ObserveRevocation func(verify.RevocationQuery)
	// Identities are the reader-authentication certificates and keys by
	// name (ISO/IEC 18013-5 clause 9.1.4).
	Identities map[string]*terminal.ReaderIdentity
	// ReaderProfiles maps a reader's name to the profile it reads with when
	// no check is armed.
	ReaderProfiles map[string]string
	// ReaderIdentities maps a reader's name to the identity it
	// authenticates with when its profile names none.
	ReaderIdentities map[string]string
}

// Validate checks that every profile is valid and every reference resolves.
func (s *Settings) Validate() error {
	var errs []error
	for name, p := range s.Profiles {
		if p == nil || p.Name != name {
			errs = append(errs, fmt.Errorf("daemon: profile %q is nil or misnamed", name))
			continue
		}
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
		}
		if p.ReaderIdentity != "" && s.Identities[p.ReaderIdentity] == nil {
			errs = append(errs, fmt.Errorf("daemon: profile %q: unknown reader identity %q", name, p.ReaderIdentity))
		}
	}
	for rd, p := range s.ReaderProfiles {
		if s.Profiles[p] == nil {
			errs = append(errs, fmt.Errorf("daemon: reader %q: %w %q", rd, ErrUnknownProfile, p))
		}
	}
	for rd, id := range s.ReaderIdentities {
		if id != "" && s.Identities[id] == nil {
			errs = append(errs, fmt.Errorf("daemon: reader %q: unknown reader identity %q", rd, id))
		}
	}
	return errors.Join(errs...)
}

// ReaderSpec is one reader the daemon runs a loop for.
type ReaderSpec struct {
	// Name labels the reader in events, checks and audit records.
	Name string
	// Open opens the reader; the loop calls it again with backoff when it
	// fails or the reader is closed. For PC/SC it is Provider.Open with
	// the configured reader name ("" for the first reader).
	Open func(ctx context.Context) (reader.Reader, error)
	// OpenQR, set instead of Open, makes the reader a QR reader (ISO/IEC
	// 18013-5 clause 8.2.2.3): its loop waits for a scanned mdoc: code
	// (terminal.QRScanner.NextScan) instead of an NFC target and runs terminal.TapQR, whose
	// data retrieval goes over BLE, so BLE must be set too. Scanner lines
	// without the mdoc: scheme are ignored; a code that does not decode is
	// a rejected tap (reason malformed). When the scanner fails or reaches
	// the end of its input the reader is reported down and the loop opens
	// it again with backoff.
	OpenQR func(ctx context.Context) (*terminal.QRScanner, error)
	// Transports is the reader's preference order of data retrieval
	// methods (terminal.Config.Transports); nil means terminal.DefaultTransports(). A BLE
	// transport is used only when BLE gives its GATT role.
	Transports []terminal.Transport
	// BLE, if set, returns the reader's Bluetooth LE radio. The loop asks
	// for it when the reader opens and at the start of every tap, so the
	// function should be cheap after its first success (cmd/idreaderd
	// opens the BlueZ adapter once and retries a failed open at most every
	// few seconds). An error means the radio is unavailable now: an NFC tap
	// then offers NFC only, and a QR reader is down until it comes back.
	// The reason is logged once and shown in ReaderStatus.BLE.
	BLE func(ctx context.Context) (terminal.BLEConfig, error)
	// Probe, if set, reports whether the reader is reachable now (for
	// PC/SC: pcscd answers and lists the reader). The loop polls it while
	// idle, so a pcscd restart shows as reader_down and reader_up.
	Probe func(ctx context.Context) error
	// Outputs show the reader's signals.
	Outputs []hardware.Output
	// Timeouts bound every step; zero fields take the defaults.
	Timeouts Timeouts
}

// Timeouts bound the steps of the reader loop.
type Timeouts struct {
	// Engagement bounds the handover and the session set-up, Exchange the
	// request and response (terminal.Config.EngagementTimeout, ExchangeTimeout);
	// defaults 5 s and 30 s.
	Engagement, Exchange time.Duration
	// Tap bounds the whole tap; default Engagement*3 + Exchange.
	Tap time.Duration
	// Removal bounds the wait for the phone to leave after the decision;
	// then the loop goes idle anyway (a target still in the field is not
	// served twice). Default 10 s.
	Removal time.Duration
	// Hold is the least time a decision stays on the outputs before they
	// show ready again; default 1.5 s.
	Hold time.Duration
	// Output bounds each Output.Show; default 1 s.
	Output time.Duration
	// Open bounds each attempt to open the reader; default 10 s.
	Open time.Duration
	// BackoffMax caps the delay between attempts to (re)open a reader or
	// recover from a failed Wait; default 5 s.
	BackoffMax time.Duration
	// Probe is the interval of ReaderSpec.Probe; default 2 s.
	Probe time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Engagement, 5*time.Second)
	def(&t.Exchange, 30*time.Second)
	def(&t.Tap, 3*t.Engagement+t.Exchange)
	def(&t.Removal, 10*time.Second)
	def(&t.Hold, 1500*time.Millisecond)
	def(&t.Output, time.Second)
	def(&t.Open, 10*time.Second)
	def(&t.BackoffMax, 5*time.Second)
	def(&t.Probe, 2*time.Second)
	return t
}

// Config configures a Daemon.
type Config struct {
	Readers  []ReaderSpec
	Settings *Settings
	// Log receives operational logs; it never gets personal data.
	Log zerolog.Logger
	// Audit, if set, receives one JSON line per tap (AuditRecord).
	Audit io.Writer
	// Rand, Now and Sleep are passed to every tap (see terminal.Config); nil means
	// crypto/rand, time.Now and nfc.Sleep.
	Rand  io.Reader
	Now   func() time.Time
	Sleep nfc.SleepFunc
	// CheckTimeout is the timeout of a check that names none; default 60 s.
	CheckTimeout time.Duration
	// ResultRetention is how long LastResult keeps the last check's result,
	// which holds the disclosed personal data; default 2 minutes. After it
	// the result is dropped from memory.
	ResultRetention time.Duration
	// Clock times the loops' backoff and holds, check timeouts and the
	// result retention; nil means hardware.SystemClock(). Tests pass a
	// fake (hardwaretest.Clock) so that no test waits for real time to
	// pass. The taps' verification time is Now, not Clock.
	Clock hardware.Clock
}

// Daemon runs one loop per reader and implements Service.
type Daemon struct {
	cfg      Config
	settings atomic.Pointer[Settings]
	loops    []*loop
	seq      atomic.Uint64

	mu     sync.Mutex
	subs   map[int]chan Event
	nextID int
	last   *CheckResult
	lastAt time.Time

	auditMu sync.Mutex
}

var _ Service = (*Daemon)(nil)

// New checks cfg and returns a daemon ready to Run.
func New(cfg Config) (*Daemon, error) {
	if len(cfg.Readers) == 0 {
		return nil, errors.New("daemon: no readers configured")
	}
	if cfg.Settings == nil {
		return nil, errors.New("daemon: no settings")
	}
	if err := cfg.Settings.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Clock == nil {
		cfg.Clock = hardware.SystemClock()
	}
	if cfg.ResultRetention <= 0 {
		cfg.ResultRetention = 2 * time.Minute
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 60 * time.Second
	}
	d := &Daemon{cfg: cfg, subs: map[int]chan Event{}}
	d.settings.Store(cfg.Settings)
	seen := map[string]bool{}
	for _, spec := range cfg.Readers {
		if spec.Name == "" || seen[spec.Name] {
			return nil, fmt.Errorf("daemon: reader name %q empty or used twice", spec.Name)
		}
		if (spec.Open == nil) == (spec.OpenQR == nil) {
			return nil, fmt.Errorf("daemon: reader %q: set one of Open and OpenQR", spec.Name)
		}
		if spec.OpenQR != nil && spec.BLE == nil {
			return nil, fmt.Errorf("daemon: QR reader %q: no BLE radio (QR engagement retrieves over BLE)", spec.Name)
		}
		for _, t := range spec.Transports {
			if _, err := terminal.ParseTransport(string(t)); err != nil {
				return nil, fmt.Errorf("daemon: reader %q: %w", spec.Name, err)
			}
		}
		if cfg.Settings.ReaderProfiles[spec.Name] == "" {
			return nil, fmt.Errorf("daemon: reader %q: no default profile", spec.Name)
		}
		seen[spec.Name] = true
		spec.Timeouts = spec.Timeouts.withDefaults()
		d.loops = append(d.loops, &loop{d: d, spec: spec, log: cfg.Log.With().Str("reader", spec.Name).Logger()})
	}
	return d, nil
}

// Run runs every reader loop until ctx ends, then shows SignalOff on every
// output, closes the outputs and the readers, and returns nil. A tap in
// progress when ctx ends is cut short.
func (d *Daemon) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, l := range d.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.spec.OpenQR != nil {
				l.runQR(ctx)
				return
			}
			l.run(ctx)
		}()
	}
	wg.Wait()
	var errs []error
	for _, l := range d.loops {
		errs = append(errs, l.shutdown())
	}
	d.mu.Lock()
	for id, ch := range d.subs {
		close(ch)
		delete(d.subs, id)
	}
	d.mu.Unlock()
	return errors.Join(errs...)
}

// Reload replaces the settings after validating them; the next tap of every
// reader uses them, a tap in progress finishes with the old ones. On error
// the old settings stay.
func (d *Daemon) Reload(s *Settings) error {
	if s == nil {
		return errors.New("daemon: no settings")
	}
	if err := s.Validate(); err != nil {
		return err
	}
	for _, l := range d.loops {
		if s.ReaderProfiles[l.spec.Name] == "" {
			return fmt.Errorf("daemon: reader %q: no default profile", l.spec.Name)
		}
	}
	d.settings.Store(s)
	return nil
}

// Settings returns the settings in force.
func (d *Daemon) Settings() *Settings { return d.settings.Load() }

// emit stamps and fans out an event; a subscriber whose buffer is full
// misses it.
func (d *Daemon) emit(e Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Numbered under the lock that orders the sends, so that subscribers
	// see seq strictly increasing.
	e.Seq = d.seq.Add(1)
	e.Time = d.cfg.Now()
	for _, ch := range d.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Subscribe implements Service.
func (d *Daemon) Subscribe(buffer int) (<-chan Event, func()) {
	if buffer < 1 {
		buffer = 1
	}
	ch := make(chan Event, buffer)
	d.mu.Lock()
	id := d.nextID
	d.nextID++
	d.subs[id] = ch
	d.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if _, ok := d.subs[id]; ok {
				delete(d.subs, id)
				close(ch)
			}
		})
	}
}

// Readers implements Service.
func (d *Daemon) Readers() []ReaderStatus {
	out := make([]ReaderStatus, 0, len(d.loops))
	for _, l := range d.loops {
		out = append(out, l.status())
	}
	return out
}

// LastResult implements Service: the result of the last completed check
// (a tap that answered no check is not kept: its data went to nobody).
func (d *Daemon) LastResult() (*CheckResult, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last != nil && d.cfg.Clock.Now().Sub(d.lastAt) > d.cfg.ResultRetention {
		d.last = nil
	}
	return d.last, d.last != nil
}

// check is one armed check.
type check struct {
	id      string
	profile string
	result  chan *CheckResult // capacity 1
	cancel  chan struct{}
	once    sync.Once
}

func (c *check) abort() { c.once.Do(func() { close(c.cancel) }) }

func (d *Daemon) loopFor(name string) *loop {
	if name == "" {
		return d.loops[0]
	}
	for _, l := range d.loops {
		if l.spec.Name == name {
			return l
		}
	}
	return nil
}

func newCheckID(r io.Reader) string {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fmt.Sprintf("%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// Check implements Service: it arms the reader with the profile for its
// next tap and waits for that tap's result. The timeout (req.Timeout, or
// Config.CheckTimeout) covers the wait for the tap and the tap; on
// timeout the error wraps terminal.ErrTimeout, on CancelCurrent ErrCancelled.
func (d *Daemon) Check(ctx context.Context, req CheckRequest) (*CheckResult, error) {
	if d.settings.Load().Profiles[req.Profile] == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownProfile, req.Profile)
	}
	l := d.loopFor(req.Reader)
	if l == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownReader, req.Reader)
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = d.cfg.CheckTimeout
	}
	c := &check{id: newCheckID(d.cfg.Rand), profile: req.Profile, result: make(chan *CheckResult, 1), cancel: make(chan struct{})}
	if err := l.arm(c); err != nil {
		return nil, err
	}
	expired := make(chan struct{})
	timer := d.cfg.Clock.AfterFunc(timeout, func() { close(expired) })
	defer timer.Stop()
	// A caller that stops waiting (timeout, ctx, cancel) abandons the
	// check: a tap already answering it is cut short like CancelCurrent
	// does, so the holder's data is not read, shown or kept for nobody.
	select {
	case r := <-c.result:
		return r, nil
	case <-c.cancel:
		l.abandon(c)
		return nil, ErrCancelled
	case <-expired:
		l.abandon(c)
		return nil, fmt.Errorf("%w: no result within %s", terminal.ErrTimeout, timeout)
	case <-ctx.Done():
		l.abandon(c)
		return nil, ctx.Err()
	}
}

// CancelCurrent implements Service: every armed check returns ErrCancelled,
// and a tap in progress for a check is cut short.
func (d *Daemon) CancelCurrent() bool {
	any := false
	for _, l := range d.loops {
		if l.cancelChecks() {
			any = true
		}
	}
	return any
}

// Armed reports whether a check is armed on the reader (empty: the first
// reader) or being answered by a tap in progress.
func (d *Daemon) Armed(reader string) bool {
	l := d.loopFor(reader)
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending != nil || l.current != nil
}

// finish records a completed check, and drops it (and the personal data it
// holds) once ResultRetention has passed.
func (d *Daemon) finish(r *CheckResult) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = r
	d.lastAt = d.cfg.Clock.Now()
	// The timer is set under the lock so that whoever sees r as the last
	// result also sees its expiry scheduled.
	d.cfg.Clock.AfterFunc(d.cfg.ResultRetention, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.last == r {
			d.last = nil
		}
	})
}

// sleep waits dur on the daemon's clock or until ctx ends; it reports
// whether ctx is still alive.
func (d *Daemon) sleep(ctx context.Context, dur time.Duration) bool {
	done := make(chan struct{})
	t := d.cfg.Clock.AfterFunc(dur, func() { close(done) })
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-done:
		return true
	}
}
