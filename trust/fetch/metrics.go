package fetch

import (
	"slices"

	"github.com/idreader/idreader/internal/promexpo"
)

// Collector returns a collector of the sources' state: age, staleness,
// fetch failures and anchors loaded, labelled with the source name (a URL
// or path, never personal data) and kind.
func (m *Manager) Collector() promexpo.Collector {
	return promexpo.CollectorFunc(func() []promexpo.Family {
		age := promexpo.Family{Name: "idreader_trust_source_age_seconds", Type: promexpo.Gauge,
			Help: "Time since the source's copy in force was fetched (or the folder read); absent until first loaded."}
		stale := promexpo.Family{Name: "idreader_trust_source_stale", Type: promexpo.Gauge,
			Help: "1 when the source is past its maximum age or was never loaded, else 0."}
		failures := promexpo.Family{Name: "idreader_trust_fetch_failures_total", Type: promexpo.Counter,
			Help: "Failed fetches of the source (network, HTTP status, invalid or older data) since start."}
		anchors := promexpo.Family{Name: "idreader_trust_anchors", Type: promexpo.Gauge,
			Help: "Trust anchors in force, by the source that gave them."}
		for _, s := range m.Status() {
			labels := []promexpo.Label{{Name: "source", Value: s.Name}, {Name: "kind", Value: string(s.Kind)}}
			if s.AgeSecs != nil {
				age.Metrics = append(age.Metrics, promexpo.Metric{Labels: labels, Value: *s.AgeSecs})
			}
			v := 0.0
			if s.Stale {
				v = 1
			}
			stale.Metrics = append(stale.Metrics, promexpo.Metric{Labels: slices.Clone(labels), Value: v})
			failures.Metrics = append(failures.Metrics, promexpo.Metric{Labels: slices.Clone(labels), Value: float64(s.Failures)})
			anchors.Metrics = append(anchors.Metrics, promexpo.Metric{Labels: slices.Clone(labels), Value: float64(s.Anchors)})
		}
		return []promexpo.Family{age, stale, failures, anchors}
	})
}
