package api

import (
	"net/http"
	"sync"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/internal/buildinfo"
	"github.com/idreader/idreader/internal/promexpo"
)

// Metrics counts taps and decisions from the Service's events into a
// private registry, served in the Prometheus exposition formats
// (internal/promexpo):
//
//	idreader_taps_total{reader}                 taps that ended (decision events)
//	idreader_decisions_total{decision,reason}   one per reason code of each decision;
//	                                            reason="none" for a decision without one
//	idreader_tap_duration_seconds{step}         histogram of Event.Steps, and step="total"
//	                                            for Event.Total
//	idreader_tap_phase_seconds{phase}           histogram of Event.Timing: detection, engagement,
//	                                            session, request, transfer, verification,
//	                                            decision, output (tells a slow phone from a
//	                                            slow reader)
//	idreader_reader_up{reader}                  1 while the reader is up, 0 when down
//	idreader_events_total{kind}                 events seen, by kind
//	idreader_build_info{version,commit,goversion}  always 1: which build runs
//
// plus the Go runtime and process collectors. Because a decision with two
// reasons counts twice in idreader_decisions_total, count decisions with
// idreader_taps_total. Only codes and reader names become labels, never
// personal data.
type Metrics struct {
	svc      daemon.Service
	registry *promexpo.Registry
	handler  http.Handler

	taps      *promexpo.CounterVec
	decisions *promexpo.CounterVec
	duration  *promexpo.HistogramVec
	phase     *promexpo.HistogramVec
	readerUp  *promexpo.GaugeVec
	events    *promexpo.CounterVec

	mu      sync.Mutex
	cancel  func()
	stopped chan struct{}
}

// tapBuckets span a fast tap (tens of milliseconds per step) to a wallet
// that waits for the holder's consent.
var tapBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30}

// phaseBuckets span a phase of a fraction of a millisecond (session keys,
// decision) to a wallet that waits for the holder's consent (transfer).
var phaseBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewMetrics returns the metrics of svc in a new private registry. Call
// Start to feed them and Stop to end the feeding.
func NewMetrics(svc daemon.Service) *Metrics {
	return newMetrics(svc, buildinfo.Read())
}

func newMetrics(svc daemon.Service, build buildinfo.Info) *Metrics {
	m := &Metrics{
		svc:      svc,
		registry: promexpo.NewRegistry(),
		taps: promexpo.NewCounterVec("idreader_taps_total",
			"Taps that ended with a decision, by reader.", "reader"),
		decisions: promexpo.NewCounterVec("idreader_decisions_total",
			"Decisions by outcome and reason code (one count per reason; reason=\"none\" without one).", "decision", "reason"),
		duration: promexpo.NewHistogramVec("idreader_tap_duration_seconds",
			"Duration of each tap step, and step=\"total\" from tap to decision.", tapBuckets, "step"),
		phase: promexpo.NewHistogramVec("idreader_tap_phase_seconds",
			"Duration of each phase of a tap: detection, engagement, session, request, transfer, verification, decision, output.", phaseBuckets, "phase"),
		readerUp: promexpo.NewGaugeVec("idreader_reader_up",
			"1 when the reader is present and watched, 0 when it is down.", "reader"),
		events: promexpo.NewCounterVec("idreader_events_total",
			"Reader events seen, by kind.", "kind"),
	}
	buildInfo := promexpo.NewGaugeVec("idreader_build_info",
		"Always 1; the labels tell the version, source commit and Go version of the running daemon.", "version", "commit", "goversion")
	buildInfo.WithLabelValues(build.Version, build.Commit, build.GoVersion).Set(1)
	m.registry.MustRegister(m.taps, m.decisions, m.duration, m.phase, m.readerUp, m.events, buildInfo,
		promexpo.GoCollector(), promexpo.ProcessCollector())
	m.handler = promexpo.Handler(m.registry)
	return m
}

// Registry returns the private registry, so the daemon can add its own
// collectors.
func (m *Metrics) Registry() *promexpo.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Start sets idreader_reader_up from the Service's readers and subscribes
// to its events in a goroutine that runs until Stop. Starting twice does
// nothing.
func (m *Metrics) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		return
	}
	events, cancel := m.svc.Subscribe(256)
	for _, r := range m.svc.Readers() {
		m.readerUp.WithLabelValues(r.Name).Set(b2f(r.Up))
	}
	m.cancel = cancel
	m.stopped = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		for ev := range events {
			m.Observe(ev)
		}
	}(m.stopped)
}

// Stop cancels the subscription and waits for the collector goroutine to
// end.
func (m *Metrics) Stop() {
	m.mu.Lock()
	cancel, done := m.cancel, m.stopped
	m.cancel, m.stopped = nil, nil
	m.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Observe counts one event. Start calls it for every event; it is exported
// for a daemon that fans events out itself.
func (m *Metrics) Observe(ev daemon.Event) {
	if ev.Kind != "" {
		m.events.WithLabelValues(string(ev.Kind)).Inc()
	}
	if ev.Reader != "" {
		m.readerUp.WithLabelValues(ev.Reader).Set(b2f(ev.Kind != daemon.EventReaderDown))
	}
	if ev.Kind != daemon.EventDecision {
		return
	}
	m.taps.WithLabelValues(ev.Reader).Inc()
	decision := ev.Decision
	if decision == "" {
		decision = "unknown"
	}
	if len(ev.Reasons) == 0 {
		m.decisions.WithLabelValues(decision, "none").Inc()
	}
	for _, r := range ev.Reasons {
		m.decisions.WithLabelValues(decision, r).Inc()
	}
	for _, s := range ev.Steps {
		m.duration.WithLabelValues(s.Step).Observe(s.Duration.Seconds())
	}
	for _, p := range ev.Timing.Phases() {
		m.phase.WithLabelValues(string(p.Phase)).Observe(p.Duration.Seconds())
	}
	if ev.Total > 0 {
		m.duration.WithLabelValues("total").Observe(ev.Total.Seconds())
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
