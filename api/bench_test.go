package api

import (
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/terminal"
)

func BenchmarkDecodeCheckRequest(b *testing.B) {
	const body = `{"profile":"identity","timeout":"30s","reader":"counter-1"}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeCheckRequest(strings.NewReader(body), defaultTimeout, defaultMaxWait); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSSEEvent(b *testing.B) {
	ev := daemon.Event{Seq: 42, Time: time.Now(), Reader: "counter-1", Kind: daemon.EventDecision,
		Profile: "age-20", CheckID: "chk-1", Decision: "reject", Reasons: []string{"age_not_met"},
		DocType: mdoc.DocTypeMDL, IssuerCountry: "JP"}
	b.ReportAllocs()
	for b.Loop() {
		sseEvent(ev)
	}
}

func BenchmarkMetricsObserve(b *testing.B) {
	m := NewMetrics(newFake())
	ev := daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "reject",
		Reasons: []string{"age_not_met"}, Total: 300 * time.Millisecond,
		Steps: []terminal.StepTime{{Step: "engagement", Duration: time.Millisecond}, {Step: "session", Duration: time.Millisecond},
			{Step: "request", Duration: time.Millisecond}, {Step: "verify", Duration: time.Millisecond}, {Step: "decide", Duration: time.Millisecond}}}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(ev)
	}
}
