package fetch

import "github.com/prometheus/client_golang/prometheus"

var (
	descAge = prometheus.NewDesc("idreader_trust_source_age_seconds",
		"Time since the source's copy in force was fetched (or the folder read); absent until first loaded.",
		[]string{"source", "kind"}, nil)
	descStale = prometheus.NewDesc("idreader_trust_source_stale",
		"1 when the source is past its maximum age or was never loaded, else 0.",
		[]string{"source", "kind"}, nil)
	descFailures = prometheus.NewDesc("idreader_trust_fetch_failures_total",
		"Failed fetches of the source (network, HTTP status, invalid or older data) since start.",
		[]string{"source", "kind"}, nil)
	descAnchors = prometheus.NewDesc("idreader_trust_anchors",
		"Trust anchors in force, by the source that gave them.",
		[]string{"source", "kind"}, nil)
)

// collector exposes the sources' state as Prometheus metrics.
type collector struct{ m *Manager }

// Collector returns a prometheus.Collector of the sources: age, staleness,
// fetch failures and anchors loaded, labelled with the source name (a URL
// or path, never personal data).
func (m *Manager) Collector() prometheus.Collector { return collector{m} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAge
	ch <- descStale
	ch <- descFailures
	ch <- descAnchors
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.m.Status() {
		k := string(s.Kind)
		if s.AgeSecs != nil {
			ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, *s.AgeSecs, s.Name, k)
		}
		stale := 0.0
		if s.Stale {
			stale = 1
		}
		ch <- prometheus.MustNewConstMetric(descStale, prometheus.GaugeValue, stale, s.Name, k)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(s.Failures), s.Name, k)
		ch <- prometheus.MustNewConstMetric(descAnchors, prometheus.GaugeValue, float64(s.Anchors), s.Name, k)
	}
}
