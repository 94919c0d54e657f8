package api

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/internal/promexpo/promexpotest"
	"github.com/idreader/idreader/terminal"
)

func TestMetrics(t *testing.T) {
	f := newFake()
	m := NewMetrics(f)
	m.Start()
	m.Start() // idempotent
	waitFor(t, "subscription", func() bool { return f.Subscribers() == 1 })
	if v := m.readerUp.WithLabelValues("counter-1").Get(); v != 1 {
		t.Errorf("reader_up before events = %v", v)
	}
	steps := []terminal.StepTime{{Step: "engagement", Duration: 20 * time.Millisecond}, {Step: "verify", Duration: 5 * time.Millisecond}}
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReading})
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept", Steps: steps, Total: 300 * time.Millisecond})
	f.Emit(daemon.Event{Reader: "counter-2", Kind: daemon.EventDecision, Decision: "reject",
		Reasons: []string{"age_not_met", "document_expired"}, Steps: steps, Total: 2 * time.Second,
		Personal: &daemon.Personal{Name: "YAMADA Hanako"}})
	f.Emit(daemon.Event{Reader: "counter-2", Kind: daemon.EventReaderDown})
	waitFor(t, "events counted", func() bool {
		return m.events.WithLabelValues("reader_down").Get() == 1
	})
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"taps counter-1", m.taps.WithLabelValues("counter-1").Get(), 1},
		{"taps counter-2", m.taps.WithLabelValues("counter-2").Get(), 1},
		{"accept none", m.decisions.WithLabelValues("accept", "none").Get(), 1},
		{"reject age", m.decisions.WithLabelValues("reject", "age_not_met").Get(), 1},
		{"reject expired", m.decisions.WithLabelValues("reject", "document_expired").Get(), 1},
		{"up counter-1", m.readerUp.WithLabelValues("counter-1").Get(), 1},
		{"up counter-2", m.readerUp.WithLabelValues("counter-2").Get(), 0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if n, err := testutil.GatherAndCount(promexpotest.Gatherer(m.duration)); err != nil || n != 3 {
		t.Errorf("duration series = %d (%v), want 3 (engagement, verify, total)", n, err)
	}
	const want = `
# HELP idreader_tap_duration_seconds Duration of each tap step, and step="total" from tap to decision.
# TYPE idreader_tap_duration_seconds histogram
idreader_tap_duration_seconds_bucket{step="engagement",le="0.01"} 0
idreader_tap_duration_seconds_bucket{step="engagement",le="0.025"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="0.05"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="0.1"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="0.25"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="0.5"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="1"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="2"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="5"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="10"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="30"} 2
idreader_tap_duration_seconds_bucket{step="engagement",le="+Inf"} 2
idreader_tap_duration_seconds_sum{step="engagement"} 0.04
idreader_tap_duration_seconds_count{step="engagement"} 2
idreader_tap_duration_seconds_bucket{step="total",le="0.01"} 0
idreader_tap_duration_seconds_bucket{step="total",le="0.025"} 0
idreader_tap_duration_seconds_bucket{step="total",le="0.05"} 0
idreader_tap_duration_seconds_bucket{step="total",le="0.1"} 0
idreader_tap_duration_seconds_bucket{step="total",le="0.25"} 0
idreader_tap_duration_seconds_bucket{step="total",le="0.5"} 1
idreader_tap_duration_seconds_bucket{step="total",le="1"} 1
idreader_tap_duration_seconds_bucket{step="total",le="2"} 2
idreader_tap_duration_seconds_bucket{step="total",le="5"} 2
idreader_tap_duration_seconds_bucket{step="total",le="10"} 2
idreader_tap_duration_seconds_bucket{step="total",le="30"} 2
idreader_tap_duration_seconds_bucket{step="total",le="+Inf"} 2
idreader_tap_duration_seconds_sum{step="total"} 2.3
idreader_tap_duration_seconds_count{step="total"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="0.01"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="0.025"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="0.05"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="0.1"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="0.25"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="0.5"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="1"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="2"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="5"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="10"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="30"} 2
idreader_tap_duration_seconds_bucket{step="verify",le="+Inf"} 2
idreader_tap_duration_seconds_sum{step="verify"} 0.01
idreader_tap_duration_seconds_count{step="verify"} 2
`
	if err := testutil.GatherAndCompare(promexpotest.Gatherer(m.duration), strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	// The /metrics route serves the private registry, with no personal data.
	h := New(Options{Service: f, Metrics: m})
	w := do(t, h, "GET", "/metrics", "")
	body := w.Body.String()
	for _, s := range []string{"idreader_taps_total", "idreader_decisions_total", "idreader_tap_duration_seconds_bucket", "idreader_reader_up", "go_goroutines"} {
		if !strings.Contains(body, s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	if strings.Contains(body, "Hanako") {
		t.Error("/metrics leaks a name")
	}
	if w := do(t, h, "POST", "/metrics", ""); w.Code != 405 {
		t.Errorf("POST /metrics: %d", w.Code)
	}

	m.Stop()
	m.Stop()
	if n := f.Subscribers(); n != 0 {
		t.Errorf("subscribers after Stop = %d", n)
	}
}

// TestMetricsPhases: each phase of Event.Timing is one series of
// idreader_tap_phase_seconds; phases that did not happen are not observed.
func TestMetricsPhases(t *testing.T) {
	f := newFake()
	m := NewMetrics(f)
	m.Start()
	defer m.Stop()
	waitFor(t, "subscription", func() bool { return f.Subscribers() == 1 })
	var tm terminal.Timing
	tm.Set(terminal.PhaseEngagement, 4*time.Millisecond)
	tm.Set(terminal.PhaseTransfer, 300*time.Millisecond)
	tm.Set(terminal.PhaseOutput, 200*time.Microsecond)
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept", Timing: tm})
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "reject", Timing: tm})
	want := `
# HELP idreader_tap_phase_seconds Duration of each phase of a tap: detection, engagement, session, request, transfer, verification, decision, output.
# TYPE idreader_tap_phase_seconds histogram
`
	for _, p := range []struct {
		name string
		d    float64
	}{{"engagement", 0.004}, {"output", 0.0002}, {"transfer", 0.3}} {
		for _, le := range phaseBuckets {
			n := 0
			if p.d <= le {
				n = 2
			}
			want += fmt.Sprintf("idreader_tap_phase_seconds_bucket{phase=%q,le=%q} %d\n", p.name, strconv.FormatFloat(le, 'g', -1, 64), n)
		}
		want += fmt.Sprintf("idreader_tap_phase_seconds_bucket{phase=%q,le=\"+Inf\"} 2\n", p.name)
		want += fmt.Sprintf("idreader_tap_phase_seconds_sum{phase=%q} %s\n", p.name, strconv.FormatFloat(2*p.d, 'g', -1, 64))
		want += fmt.Sprintf("idreader_tap_phase_seconds_count{phase=%q} 2\n", p.name)
	}
	// The metrics read events on their own goroutine: wait until both
	// decisions were observed, then compare once more to report a diff.
	waitFor(t, "both taps' phases observed", func() bool {
		return testutil.GatherAndCompare(promexpotest.Gatherer(m.phase), strings.NewReader(want)) == nil
	})
	if err := testutil.GatherAndCompare(promexpotest.Gatherer(m.phase), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
