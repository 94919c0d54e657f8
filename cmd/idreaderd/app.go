package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/host/v3"

	"github.com/idreader/idreader/api"
	"github.com/idreader/idreader/api/display"
	"github.com/idreader/idreader/config"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/daemon/simulated"
	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/hardware/console"
	"github.com/idreader/idreader/hardware/gpio"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pcsc"
	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532host"
	"github.com/idreader/idreader/reader/simreader"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/trust/fetch"
)

// stopTimeout bounds a graceful stop: taps are cut short, outputs turned
// off, the HTTP server given what is left to finish.
const stopTimeout = 5 * time.Second

// app is the wired daemon.
type app struct {
	opts   options
	stdout io.Writer
	log    zerolog.Logger
	cfg    *config.Config
	world  *simulated.World // the simulated issuers, when a reader is simulated
	sims   map[string]*simreader.Reader
	// radios are the BlueZ adapters by name, simRadios the in-memory BLE
	// links of simulated readers by reader name.
	radios    map[string]*radio
	simRadios map[string]*simRadio
	audit     *os.File
	d         *daemon.Daemon
	// trust refreshes the trust sources; trustMu orders its snapshot
	// swaps with configuration reloads.
	trust   *fetch.Manager
	trustMu sync.Mutex

	// readerRadios are the BlueZ radios by reader name, qrReaders the
	// readers of driver qr (radiowatch.go).
	readerRadios map[string]*radio
	qrReaders    map[string]bool
}

func loadConfig(o options) (*config.Config, error) {
	if o.configPath == "" {
		return config.Demo(), nil
	}
	return config.Load(o.configPath)
}

func newApp(o options, stdout, stderr io.Writer) (*app, error) {
	cfg, err := loadConfig(o)
	if err != nil {
		return nil, err
	}
	if o.demo {
		cfg.Demo = true
		if len(cfg.Readers) == 0 {
			cfg = config.Demo()
		}
	}
	if o.listen != "" {
		cfg.HTTP.Listen = o.listen
	}
	level, err := zerolog.ParseLevel(cfg.Logging.Level)
	if err != nil {
		return nil, cfg.Errorf("logging.level", "%v", err)
	}
	a := &app{opts: o, stdout: stdout, cfg: cfg, sims: map[string]*simreader.Reader{},
		radios: map[string]*radio{}, simRadios: map[string]*simRadio{},
		readerRadios: map[string]*radio{}, qrReaders: map[string]bool{},
		log: zerolog.New(stderr).Level(level).With().Timestamp().Logger()}
	if err := a.build(); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *app) close() {
	if a.audit != nil {
		a.audit.Close()
	}
	if err := closeRadios(a.radios); err != nil {
		a.log.Warn().Err(err).Msg("closing bluetooth adapters")
	}
}

// needsWorld reports whether the configuration uses the simulated world.
func needsWorld(c *config.Config) bool {
	return c.Demo || slices.ContainsFunc(c.Readers, func(r config.Reader) bool { return r.Driver == config.DriverSimulated })
}

// extraTrust is the simulated issuers' IACAs when the world is in use.
func (a *app) extraTrust() []*x509.Certificate {
	if a.world == nil {
		return nil
	}
	return a.world.Trust.Certificates()
}

// build wires readers, outputs, settings and the audit file into a daemon.
func (a *app) build() error {
	c := a.cfg
	if needsWorld(c) {
		w, err := simulated.New(time.Now())
		if err != nil {
			return err
		}
		a.world = w
		a.log.Warn().Msg("simulated issuers trusted (demo or simulated reader configured); never use this configuration in production")
	}
	settings, err := c.Settings(a.extraTrust()...)
	if err != nil {
		return err
	}
	topts, err := c.TrustOptions(a.extraTrust()...)
	if err != nil {
		return err
	}
	topts.OnSwap = a.swapTrust
	a.trust = fetch.New(topts)
	// The first snapshot comes from the folders and the cache alone: the
	// daemon decides from what it had, with no network.
	if err := a.trust.Start(); err != nil {
		return err
	}
	a.applyTrust(settings, a.trust.Snapshot())
	a.warnNoTrust(settings)
	if a.world != nil {
		// Readers without an identity authenticate with the demo one.
		settings.Identities[simulated.IdentityName] = a.world.Identity
		for _, r := range c.Readers {
			if r.Driver == config.DriverSimulated && settings.ReaderIdentities[r.Name] == "" {
				settings.ReaderIdentities[r.Name] = simulated.IdentityName
			}
		}
	}
	if p := c.Logging.Audit; p != "" {
		f, err := os.OpenFile(c.AuditPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return c.Errorf("logging.audit", "%v", err)
		}
		a.audit = f
	}
	specs, err := a.readerSpecs()
	if err != nil {
		return err
	}
	dc := daemon.Config{Readers: specs, Settings: settings, Log: a.log,
		ResultRetention: a.cfg.HTTP.ResultRetention.D()}
	if a.audit != nil {
		dc.Audit = a.audit
	}
	a.d, err = daemon.New(dc)
	return err
}

// applyTrust puts a trust snapshot into settings.
func (a *app) applyTrust(s *daemon.Settings, snap *fetch.Snapshot) {
	s.Trust, s.Revocation, s.ObserveRevocation = snap.Trust, snap.Revocation, a.trust.Observe
}

// swapTrust makes the latest snapshot (the one just built, or a newer one)
// the trust of the next taps; a tap in progress finishes with the settings
// it started with.
func (a *app) swapTrust(*fetch.Snapshot) {
	a.trustMu.Lock()
	defer a.trustMu.Unlock()
	if a.d == nil {
		return // the first snapshot, applied by build
	}
	snap := a.trust.Snapshot()
	s := *a.d.Settings()
	a.applyTrust(&s, snap)
	if err := a.d.Reload(&s); err != nil {
		a.log.Error().Err(err).Msg("refreshed trust not applied")
		return
	}
	a.log.Info().Int("anchors", snap.Trust.Len()).Msg("trust refreshed")
}

// warnNoTrust says once per (re)load that no IACA is trusted yet (the
// trust directory of a fresh install is empty): every document is then
// rejected as issuer_untrusted.
func (a *app) warnNoTrust(s *daemon.Settings) {
	if s.Trust.Len() == 0 {
		a.log.Warn().Strs("trust", a.cfg.Trust.Folders).Msg("no IACA trust anchors yet: every document is rejected (issuer_untrusted) until certificates are added and the configuration reloaded")
	}
}

// readerSpecs builds one ReaderSpec per configured reader.
func (a *app) readerSpecs() ([]daemon.ReaderSpec, error) {
	c := a.cfg
	var prov *pcsc.Provider
	var specs []daemon.ReaderSpec
	for i, r := range c.Readers {
		path := fmt.Sprintf("readers[%d]", i)
		limits := reader.ExtendedLimits(0, 0)
		if r.Limits == config.LimitsShort {
			limits = reader.ShortLimits()
		}
		spec := daemon.ReaderSpec{
			Name:       r.Name,
			Transports: r.TransportList(),
			Timeouts: daemon.Timeouts{
				Engagement: r.Timeouts.Engagement.D(), Exchange: r.Timeouts.Exchange.D(), Tap: r.Timeouts.Tap.D(),
				Removal: r.Timeouts.Removal.D(), Hold: r.Timeouts.Hold.D(),
			},
		}
		if r.UsesBLE() {
			ct := r.BLE.ConnectTimeout.D()
			if r.BLE.Adapter == config.AdapterSimulated {
				sr, err := newSimRadio()
				if err != nil {
					return nil, c.Errorf(path+".ble", "%v", err)
				}
				a.simRadios[r.Name] = sr
				spec.BLE = func(ctx context.Context) (terminal.BLEConfig, error) { return sr.get(ctx, ct) }
			} else {
				rad := a.radios[r.BLE.Adapter]
				if rad == nil {
					rad = newRadio(r.BLE.Adapter)
					a.radios[r.BLE.Adapter] = rad
				}
				a.readerRadios[r.Name] = rad
				spec.BLE = func(ctx context.Context) (terminal.BLEConfig, error) { return rad.get(ctx, ct) }
			}
		}
		switch r.Driver {
		case config.DriverSimulated:
			sim := simreader.New(r.Name, limits)
			a.sims[r.Name] = sim
			spec.Open = func(context.Context) (reader.Reader, error) { return sim, nil }
		case config.DriverQR:
			a.qrReaders[r.Name] = true
			dev := r.Device
			spec.OpenQR = func(context.Context) (*terminal.QRScanner, error) { return terminal.OpenQRScanner(dev) }
		case config.DriverPN532:
			bus, err := pn532.ParseBus(r.Bus)
			if err != nil {
				return nil, c.Errorf(path+".bus", "%v", err)
			}
			opts := pn532host.Options{Reset: r.Reset, IRQ: r.IRQ, Reader: pn532.Options{Name: r.Name, Extended: r.Limits == config.LimitsExtended}}
			spec.Open = func(ctx context.Context) (reader.Reader, error) {
				if _, err := host.Init(); err != nil {
					return nil, fmt.Errorf("initialising periph host drivers: %w", err)
				}
				return pn532host.OpenReader(ctx, bus, opts)
			}
		default:
			if prov == nil {
				var err error
				opts := pcsc.Options{Limits: map[string]reader.Limits{}}
				for _, rr := range c.Readers {
					if rr.Driver == config.DriverPCSC && rr.Device != config.DeviceFirst && rr.Limits == config.LimitsShort {
						opts.Limits[rr.Device] = reader.ShortLimits()
					}
					if rr.Driver == config.DriverPCSC && rr.Device == config.DeviceFirst && rr.Limits == config.LimitsShort {
						opts.DefaultLimits = reader.ShortLimits()
					}
				}
				if prov, err = pcsc.New(opts); err != nil {
					return nil, c.Errorf(path+".driver", "%v", err)
				}
			}
			name := r.Device
			if name == config.DeviceFirst {
				name = ""
			}
			p := prov
			// No Probe: a PC/SC reader reports pcscd going away and being
			// unplugged itself while it waits (reader.AvailabilityReporter),
			// at once rather than at the next poll.
			spec.Open = func(ctx context.Context) (reader.Reader, error) { return p.Open(ctx, name) }
		}
		outs, err := a.buildOutputs(i, r)
		if err != nil {
			for _, o := range outs {
				o.Close()
			}
			for _, s := range specs {
				for _, o := range s.Outputs {
					o.Close()
				}
			}
			return nil, err
		}
		spec.Outputs = outs
		specs = append(specs, spec)
	}
	return specs, nil
}

// buildOutputs makes the outputs reader i lists: GPIO outputs through
// hardware/gpio (periph.io's host drivers, pins by name) and console outputs
// writing to standard output.
func (a *app) buildOutputs(i int, r config.Reader) ([]hardware.Output, error) {
	var outs []hardware.Output
	for j, name := range r.Outputs {
		oc := a.cfg.Outputs[name]
		path := "outputs." + name
		switch oc.Type {
		case config.OutputConsole:
			outs = append(outs, console.New(a.stdout, console.Options{Reader: r.Name, Timestamps: oc.Timestamps}))
		case config.OutputGPIO:
			for k, other := range a.cfg.Readers {
				if k < i && slices.Contains(other.Outputs, name) {
					return outs, a.cfg.Errorf(fmt.Sprintf("readers[%d].outputs[%d]", i, j), "GPIO output %q is already used by reader %q", name, other.Name)
				}
			}
			g, err := gpio.Open(gpioConfig(oc), gpio.Options{
				OnError: func(err error) { a.log.Warn().Err(err).Str("output", name).Msg("gpio pattern") },
			})
			if err != nil {
				return outs, a.cfg.Errorf(path, "%v", err)
			}
			outs = append(outs, g)
		}
	}
	return outs, nil
}

// gpioConfig maps a configured GPIO output onto hardware/gpio's Config.
func gpioConfig(o config.Output) gpio.Config {
	pattern := func(p []config.Duration) []time.Duration {
		if p == nil {
			return nil
		}
		out := make([]time.Duration, len(p))
		for i, d := range p {
			out[i] = d.D()
		}
		return out
	}
	t := o.Timings
	return gpio.Config{
		Green: o.Pins.Green, Red: o.Pins.Red, Buzzer: o.Pins.Buzzer, Relay: o.Pins.Relay,
		GreenActiveLow:  slices.Contains(o.ActiveLow, "green"),
		RedActiveLow:    slices.Contains(o.ActiveLow, "red"),
		BuzzerActiveLow: slices.Contains(o.ActiveLow, "buzzer"),
		RelayActiveLow:  slices.Contains(o.ActiveLow, "relay"),
		Ready:           gpio.ReadyMode(t.Ready),
		ReadyBlink:      pattern(t.ReadyBlink),
		ReadingBlink:    pattern(t.ReadingBlink),
		AcceptHold:      t.AcceptHold.D(),
		RejectHold:      t.RejectHold.D(),
		AcceptBeep:      pattern(t.AcceptBeep),
		RejectBeep:      pattern(t.RejectBeep),
		RelayPulse:      t.RelayPulse.D(),
		FaultBlink:      pattern(t.FaultBlink),
		FaultBeep:       pattern(t.FaultBeep),
	}
}

// listeners opens the HTTP listeners of the configuration.
func (a *app) listeners(ctx context.Context, token string) ([]net.Listener, error) {
	var ls []net.Listener
	if l := a.cfg.HTTP.Listen; l != "off" {
		ln, err := api.ListenTCP(ctx, l, token)
		if err != nil {
			return nil, a.cfg.Errorf("http.listen", "%v", err)
		}
		ls = append(ls, ln)
	}
	if p := a.cfg.HTTP.Unix; p != "" {
		ln, err := api.ListenUnix(p, 0o660)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, a.cfg.Errorf("http.unix", "%v", err)
		}
		ls = append(ls, ln)
	}
	return ls, nil
}

// serveHTTP serves the point-of-sale API, /metrics, /healthz and the kiosk
// display (api/display) until ctx ends.
func (a *app) serveHTTP(ctx context.Context, ls []net.Listener, token string) error {
	m := api.NewMetrics(a.d)
	m.Registry().MustRegister(a.trust.Collector())
	m.Start()
	defer m.Stop()
	h := api.New(api.Options{
		Service: radioService{Service: a.d, radios: a.readerRadios, qr: a.qrReaders},
		Token:   token,
		Metrics: m,
		Trust:   a.trust.Status,
		Display: display.New(display.Options{Service: a.d, ClearAfter: a.cfg.HTTP.DisplayClearAfter.D()}),
		// With a token the kiosk page needs its own key (it shows names
		// and portraits).
		DisplayKey: a.cfg.HTTP.DisplayKey,
	})
	return api.Serve(ctx, h, 2*time.Second, ls...)
}

// run runs the daemon until ctx ends; hup delivers reload requests.
func (a *app) run(ctx context.Context, hup <-chan os.Signal) error {
	defer a.close()
	token, err := a.cfg.Token()
	if err != nil {
		return err
	}
	ls, err := a.listeners(ctx, token)
	if err != nil {
		return err
	}
	a.openRadios(ctx)
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	var wg sync.WaitGroup
	for _, r := range a.radios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.watch(runCtx, a.log)
		}()
	}
	errs := make(chan error, 3)
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs <- a.d.Run(runCtx)
	}()
	if a.cfg.Trust.Fetches() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.trust.Run(runCtx)
		}()
	}
	httpCtx, stopHTTP := context.WithCancel(runCtx)
	defer stopHTTP()
	if len(ls) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.serveHTTP(httpCtx, ls, token); err != nil {
				errs <- fmt.Errorf("http: %w", err)
			}
		}()
	}
	for name, sim := range a.sims {
		sr := a.simRadios[name]
		demo := a.world.DemoWallets
		if sr != nil {
			demo = a.world.DemoBLEWallets
		}
		wallets, err := demo()
		if err != nil {
			stopRun()
			wg.Wait()
			return err
		}
		cards := make([]simreader.Card, len(wallets))
		for i, w := range wallets {
			cards[i] = w
			defer w.Close()
			if sr != nil {
				// The wallet's BLE side: each engagement that selects BLE
				// is served over the reader's in-memory link.
				wg.Add(1)
				go func() {
					defer wg.Done()
					for runCtx.Err() == nil {
						w.ServeBLE(runCtx, sr.link.Central(), sr.link.Peripheral())
					}
				}()
			}
		}
		interval := time.Duration(0)
		for _, r := range a.cfg.Readers {
			if r.Name == name {
				interval = r.Interval.D()
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sim.Cycle(runCtx, simreader.CycleOptions{Interval: interval, Linger: time.Second}, cards...)
		}()
	}
	a.log.Info().Int("readers", len(a.cfg.Readers)).Str("http", a.cfg.HTTP.Listen).Str("config", a.cfg.Path).Msg("idreaderd started")
	if err := sdNotify("READY=1\nSTATUS=reading"); err != nil {
		a.log.Warn().Err(err).Msg("sd_notify")
	}
	var watchdog <-chan time.Time
	if iv := watchdogInterval(); iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		watchdog = t.C
	}
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			if err := a.reload(); err != nil {
				a.log.Error().Err(err).Msg("reload refused; the old configuration stays")
			}
		case <-watchdog:
			// The ping shows that this goroutine and the daemon's state
			// (Readers takes its lock) still answer. It does not prove that
			// every reader loop moves: those are bounded by their own step
			// timeouts instead.
			a.d.Readers()
			sdNotify("WATCHDOG=1")
		case runErr = <-errs:
			break loop
		}
	}
	a.log.Info().Msg("stopping")
	sdNotify("STOPPING=1")
	stopRun()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		return errors.New("stop timed out")
	}
	close(errs)
	for err := range errs {
		runErr = errors.Join(runErr, err)
	}
	a.log.Info().Msg("stopped")
	return runErr
}

// openRadios opens the configured BlueZ adapters once at start, so that a
// missing adapter or D-Bus is a clear error in the log from the first
// second; the readers go on without BLE (qr readers are down) and the
// adapter is tried again on later taps.
func (a *app) openRadios(ctx context.Context) {
	for name, r := range a.radios {
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := r.get(octx, 0)
		cancel()
		if err != nil {
			a.log.Error().Err(err).Str("adapter", name).
				Msg("bluetooth LE unavailable: NFC readers read over NFC only and qr readers are down until the adapter answers (retried every 10 s)")
			continue
		}
		a.log.Info().Str("adapter", name).Msg("bluetooth LE adapter ready")
	}
}

// reload re-reads the configuration file and applies its profiles, trust
// anchors, identities and reader profiles from the next tap on. A file with
// errors is refused and the running configuration kept. Changes to readers,
// outputs, HTTP or logging are logged and wait for a restart.
func (a *app) reload() error {
	if a.opts.configPath == "" {
		return errors.New("no configuration file to reload (demo)")
	}
	c, err := config.Load(a.opts.configPath)
	if err != nil {
		return err
	}
	if needsWorld(c) && a.world == nil {
		return errors.New("simulated readers cannot be added by a reload; restart")
	}
	s, err := c.Settings(a.extraTrust()...)
	if err != nil {
		return err
	}
	srcs, err := c.TrustSources()
	if err != nil {
		return err
	}
	if err := a.trust.Reload(srcs, a.extraTrust()); err != nil {
		return err
	}
	a.trustMu.Lock()
	defer a.trustMu.Unlock()
	a.applyTrust(s, a.trust.Snapshot())
	a.warnNoTrust(s)
	if a.world != nil {
		s.Identities[simulated.IdentityName] = a.world.Identity
		for _, r := range c.Readers {
			if r.Driver == config.DriverSimulated && s.ReaderIdentities[r.Name] == "" {
				s.ReaderIdentities[r.Name] = simulated.IdentityName
			}
		}
	}
	if err := a.d.Reload(s); err != nil {
		return err
	}
	if !sameReaders(a.cfg, c) || a.cfg.HTTP != c.HTTP || a.cfg.Logging != c.Logging {
		a.log.Warn().Msg("reader, output, HTTP or logging changes take effect at the next restart")
	}
	a.log.Info().Str("config", c.Path).Msg("configuration reloaded")
	return nil
}

func sameReaders(a, b *config.Config) bool {
	if len(a.Readers) != len(b.Readers) {
		return false
	}
	for i := range a.Readers {
		x, y := a.Readers[i], b.Readers[i]
		if x.Name != y.Name || x.Driver != y.Driver || x.Device != y.Device || x.Limits != y.Limits ||
			!slices.Equal(x.Outputs, y.Outputs) || x.Timeouts != y.Timeouts ||
			!slices.Equal(x.Transports, y.Transports) || x.BLE != y.BLE {
			return false
		}
	}
	return true
}
