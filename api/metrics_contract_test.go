package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/internal/buildinfo"
	"github.com/idreader/idreader/terminal"
)

// reference is /metrics as the Prometheus client library served it before
// the daemon wrote the exposition itself: the same families, options and
// handler, fed the same events.
type reference struct {
	reg                     *prometheus.Registry
	taps, decisions, events *prometheus.CounterVec
	duration, phase         *prometheus.HistogramVec
	readerUp                *prometheus.GaugeVec
	handler                 http.Handler
}

func newReference(build buildinfo.Info) *reference {
	r := &reference{reg: prometheus.NewRegistry()}
	r.taps = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idreader_taps_total", Help: "Taps that ended with a decision, by reader."}, []string{"reader"})
	r.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idreader_decisions_total", Help: "Decisions by outcome and reason code (one count per reason; reason=\"none\" without one)."}, []string{"decision", "reason"})
	r.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "idreader_tap_duration_seconds", Help: "Duration of each tap step, and step=\"total\" from tap to decision.", Buckets: tapBuckets}, []string{"step"})
	r.phase = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "idreader_tap_phase_seconds", Help: "Duration of each phase of a tap: detection, engagement, session, request, transfer, verification, decision, output.", Buckets: phaseBuckets}, []string{"phase"})
	r.readerUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idreader_reader_up", Help: "1 when the reader is present and watched, 0 when it is down."}, []string{"reader"})
	r.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idreader_events_total", Help: "Reader events seen, by kind."}, []string{"kind"})
	bi := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idreader_build_info", Help: "Always 1; the labels tell the version, source commit and Go version of the running daemon."}, []string{"version", "commit", "goversion"})
	bi.WithLabelValues(build.Version, build.Commit, build.GoVersion).Set(1)
	r.reg.MustRegister(r.taps, r.decisions, r.duration, r.phase, r.readerUp, r.events, bi,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.handler = promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
	return r
}

// observe is Metrics.Observe as it was written against the library.
func (r *reference) observe(ev daemon.Event) {
	r.events.WithLabelValues(string(ev.Kind)).Inc()
	r.readerUp.WithLabelValues(ev.Reader).Set(b2f(ev.Kind != daemon.EventReaderDown))
	if ev.Kind != daemon.EventDecision {
		return
	}
	r.taps.WithLabelValues(ev.Reader).Inc()
	if len(ev.Reasons) == 0 {
		r.decisions.WithLabelValues(ev.Decision, "none").Inc()
	}
	for _, reason := range ev.Reasons {
		r.decisions.WithLabelValues(ev.Decision, reason).Inc()
	}
	for _, s := range ev.Steps {
		r.duration.WithLabelValues(s.Step).Observe(s.Duration.Seconds())
	}
	for _, p := range ev.Timing.Phases() {
		r.phase.WithLabelValues(string(p.Phase)).Observe(p.Duration.Seconds())
	}
	r.duration.WithLabelValues("total").Observe(ev.Total.Seconds())
}

func scrape(t *testing.T, h http.Handler, accept, encoding string) (http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics (Accept %q): %d", accept, w.Code)
	}
	body := w.Body.Bytes()
	if w.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return w.Header(), body
}

// deterministic tells the families whose values do not depend on the
// process's state at the instant of the scrape.
func deterministic(name string) bool {
	return strings.HasPrefix(name, "idreader_") || strings.HasPrefix(name, "promhttp_")
}

// splitText returns, per family, the HELP and TYPE lines and the sample
// lines (or only the sample names and label names for families whose
// values change between two scrapes).
func splitText(body []byte) (meta []string, samples map[string][]string) {
	samples = map[string][]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(body)), "\n") {
		if strings.HasPrefix(line, "#") {
			meta = append(meta, line)
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		if deterministic(name) {
			samples[name] = append(samples[name], line)
			continue
		}
		labels := ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			for _, kv := range strings.Split(line[i+1:strings.IndexByte(line, '}')], ",") {
				k, v, _ := strings.Cut(kv, "=")
				if k == "version" || k == "quantile" { // go_info's value is the Go version; quantiles are fixed
					k += "=" + v
				}
				labels += k + ","
			}
		}
		samples[name] = append(samples[name], name+"{"+labels+"}")
	}
	return meta, samples
}

// TestMetricsMatchPrometheusClient: /metrics serves what the Prometheus
// client library served: the same families, HELP and TYPE lines, labels,
// buckets and values (for the daemon's own metrics, byte for byte), the same
// content types for the Accept headers scrapers send, gzip when asked for,
// and a protocol-buffer encoding the library decodes to the same families.
func TestMetricsMatchPrometheusClient(t *testing.T) {
	build := buildinfo.Info{Version: "1.2.3", Commit: "0123abcd", GoVersion: "go1.26.0"}
	m := newMetrics(newFake(), build)
	ref := newReference(build)
	var tm terminal.Timing
	tm.Set(terminal.PhaseEngagement, 4*time.Millisecond)
	tm.Set(terminal.PhaseTransfer, 300*time.Millisecond)
	tm.Set(terminal.PhaseOutput, 200*time.Microsecond)
	steps := []terminal.StepTime{{Step: "engagement", Duration: 20 * time.Millisecond}, {Step: "verify", Duration: 5 * time.Millisecond}}
	for _, ev := range []daemon.Event{
		{Reader: "counter-1", Kind: daemon.EventReading},
		{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept", Steps: steps, Timing: tm, Total: 300 * time.Millisecond},
		{Reader: `odd "name"\`, Kind: daemon.EventDecision, Decision: "reject", Reasons: []string{"age_not_met", "document_expired"},
			Steps: steps, Timing: tm, Total: 2*time.Second + 7*time.Microsecond},
		{Reader: "counter-2", Kind: daemon.EventReaderDown},
		{Reader: "counter-0", Kind: daemon.EventDecision, Decision: "accept", Total: 45 * time.Second},
	} {
		m.Observe(ev)
		ref.observe(ev)
	}

	for _, tc := range []struct{ accept, encoding string }{
		{"", ""},
		{"*/*", "gzip"},
		{"text/plain;version=0.0.4;q=1,*/*;q=0.1", ""},
		{"text/plain; version=1.0.0; escaping=allow-utf-8", "gzip, deflate"},
		{"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", "gzip"},
		{"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3", "gzip, identity"},
		{"text/plain; escaping=values", "identity"},
		{"text/html", "*"},
	} {
		gotH, got := scrape(t, m.Handler(), tc.accept, tc.encoding)
		wantH, want := scrape(t, ref.handler, tc.accept, tc.encoding)
		for _, h := range []string{"Content-Type", "Content-Encoding"} {
			if gotH.Get(h) != wantH.Get(h) {
				t.Errorf("Accept %q, Accept-Encoding %q: %s %q, want %q", tc.accept, tc.encoding, h, gotH.Get(h), wantH.Get(h))
			}
		}
		if !slices.Equal(gotH.Values("Vary"), wantH.Values("Vary")) {
			t.Errorf("Vary %q, want %q", gotH.Values("Vary"), wantH.Values("Vary"))
		}
		if strings.HasPrefix(wantH.Get("Content-Type"), "application/vnd.google.protobuf") {
			gotText, wantText := protoToText(t, got), protoToText(t, want)
			got, want = gotText, wantText
		}
		gotMeta, gotSamples := splitText(got)
		wantMeta, wantSamples := splitText(want)
		if !slices.Equal(gotMeta, wantMeta) {
			t.Errorf("Accept %q: HELP/TYPE lines\n%s\nwant\n%s", tc.accept, strings.Join(gotMeta, "\n"), strings.Join(wantMeta, "\n"))
		}
		for name, w := range wantSamples {
			if g := gotSamples[name]; !slices.Equal(g, w) {
				t.Errorf("Accept %q: %s\n%s\nwant\n%s", tc.accept, name, strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
		}
		for name := range gotSamples {
			if _, ok := wantSamples[name]; !ok {
				t.Errorf("Accept %q: %s served, not by the library", tc.accept, name)
			}
		}
	}
}

// protoToText decodes a delimited protocol-buffer body with the library
// and writes it in the text format; it also checks that the counters and
// histograms carry a created timestamp, as the library's own do.
func protoToText(t *testing.T, body []byte) []byte {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	var out bytes.Buffer
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err == io.EOF {
			return out.Bytes()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(mf.GetName(), "idreader_") {
			for _, m := range mf.Metric {
				if (m.Counter != nil && m.Counter.CreatedTimestamp == nil) || (m.Histogram != nil && m.Histogram.CreatedTimestamp == nil) {
					t.Errorf("%s: no created timestamp", mf.GetName())
				}
			}
		}
		if _, err := expfmt.MetricFamilyToText(&out, mf); err != nil {
			t.Fatal(err)
		}
	}
}
