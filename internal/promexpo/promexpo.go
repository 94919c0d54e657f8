// Package promexpo writes metrics in the Prometheus text exposition format
// (version 0.0.4) and the delimited protocol-buffer format (MetricFamily
// messages of io.prometheus.client), with the counters, gauges and
// histograms the daemon needs. It replaces the Prometheus client library in
// the daemon, whose code and data made up a sixth of the mapped binary
// and so of its resident memory: the metric names, HELP and TYPE lines,
// labels, buckets and content types stay those of that library.
//
// A family with no metric is left out of the output, families are sorted by
// name and, within a family, metrics by their label values, as the
// Prometheus client does.
package promexpo

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Type is the TYPE of a metric family.
type Type int

// The metric types, numbered as in io.prometheus.client.MetricType.
const (
	Counter   Type = 0
	Gauge     Type = 1
	Summary   Type = 2
	Histogram Type = 4
)

func (t Type) String() string {
	switch t {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Summary:
		return "summary"
	case Histogram:
		return "histogram"
	}
	return "untyped"
}

// Label is one label pair of a metric.
type Label struct{ Name, Value string }

// Bucket is one bucket of a histogram: observations <= UpperBound, counted
// cumulatively.
type Bucket struct {
	UpperBound      float64
	CumulativeCount uint64
}

// Quantile is one quantile of a summary.
type Quantile struct{ Quantile, Value float64 }

// Metric is one sample set of a family: Value for a counter or a gauge,
// Buckets, Count and Sum for a histogram, Quantiles, Count and Sum for a
// summary. Created is when a counter or histogram started counting (the
// zero time for none); only the protocol-buffer format carries it.
type Metric struct {
	Labels    []Label
	Value     float64
	Buckets   []Bucket
	Quantiles []Quantile
	Count     uint64
	Sum       float64
	Created   time.Time
}

// Family is a metric family: every metric of one name.
type Family struct {
	Name, Help string
	Type       Type
	Metrics    []Metric
}

// Collector gives metric families when the registry is gathered.
type Collector interface {
	Collect() []Family
}

// CollectorFunc is a Collector as a function.
type CollectorFunc func() []Family

// Collect calls f.
func (f CollectorFunc) Collect() []Family { return f() }

// Registry holds collectors.
type Registry struct {
	mu         sync.Mutex
	collectors []Collector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// MustRegister adds collectors.
func (r *Registry) MustRegister(cs ...Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, cs...)
}

// Gather returns the families of every collector, without the empty ones,
// sorted by name, each family's metrics sorted by label values (labels
// sorted by name). Families of one name from several collectors are merged.
func (r *Registry) Gather() []Family {
	r.mu.Lock()
	cs := slices.Clone(r.collectors)
	r.mu.Unlock()
	byName := map[string]int{}
	var out []Family
	for _, c := range cs {
		for _, f := range c.Collect() {
			if i, ok := byName[f.Name]; ok {
				out[i].Metrics = append(out[i].Metrics, f.Metrics...)
				continue
			}
			byName[f.Name] = len(out)
			out = append(out, f)
		}
	}
	out = slices.DeleteFunc(out, func(f Family) bool { return len(f.Metrics) == 0 })
	for i := range out {
		for j := range out[i].Metrics {
			slices.SortFunc(out[i].Metrics[j].Labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		}
		slices.SortStableFunc(out[i].Metrics, compareLabelValues)
	}
	slices.SortFunc(out, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Collect gathers r, so a registry is a Collector too.
func (r *Registry) Collect() []Family { return r.Gather() }

func compareLabelValues(a, b Metric) int {
	for i := range min(len(a.Labels), len(b.Labels)) {
		if c := strings.Compare(a.Labels[i].Value, b.Labels[i].Value); c != 0 {
			return c
		}
	}
	return len(a.Labels) - len(b.Labels)
}

// vec is the part of CounterVec, GaugeVec and HistogramVec that maps label
// values to children, in the order they were created.
type vec[T any] struct {
	name, help string
	labels     []string
	newChild   func() *T

	mu       sync.Mutex
	children map[string]*child[T]
}

type child[T any] struct {
	values  []string
	created time.Time
	v       *T
}

func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.labels) {
		panic("promexpo: " + v.name + ": wrong number of label values")
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.children[key]; ok {
		return c.v
	}
	if v.children == nil {
		v.children = map[string]*child[T]{}
	}
	c := &child[T]{values: slices.Clone(values), created: time.Now(), v: v.newChild()}
	v.children[key] = c
	return c.v
}

func (v *vec[T]) family(t Type, metric func(*T, *Metric)) []Family {
	v.mu.Lock()
	children := make([]*child[T], 0, len(v.children))
	for _, c := range v.children {
		children = append(children, c)
	}
	v.mu.Unlock()
	f := Family{Name: v.name, Help: v.help, Type: t, Metrics: make([]Metric, 0, len(children))}
	for _, c := range children {
		m := Metric{Labels: make([]Label, len(v.labels))}
		for i, n := range v.labels {
			m.Labels[i] = Label{n, c.values[i]}
		}
		metric(c.v, &m)
		if t != Gauge {
			m.Created = c.created
		}
		f.Metrics = append(f.Metrics, m)
	}
	return []Family{f}
}

// Value is a float64 that is set or added to atomically: a counter or a
// gauge.
type Value struct{ bits atomic.Uint64 }

// Get returns the value.
func (v *Value) Get() float64 { return math.Float64frombits(v.bits.Load()) }

// Set sets the value.
func (v *Value) Set(f float64) { v.bits.Store(math.Float64bits(f)) }

// Add adds d to the value.
func (v *Value) Add(d float64) {
	for {
		old := v.bits.Load()
		if v.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Inc adds 1 to the value.
func (v *Value) Inc() { v.Add(1) }

// CounterVec is a counter family partitioned by labels.
type CounterVec struct{ v vec[Value] }

// NewCounterVec returns a counter family with the given label names.
func NewCounterVec(name, help string, labels ...string) *CounterVec {
	return &CounterVec{vec[Value]{name: name, help: help, labels: labels, newChild: func() *Value { return new(Value) }}}
}

// WithLabelValues returns the counter of these label values, creating it at
// 0.
func (c *CounterVec) WithLabelValues(values ...string) *Value { return c.v.with(values) }

// Collect gives the family.
func (c *CounterVec) Collect() []Family {
	return c.v.family(Counter, func(v *Value, m *Metric) { m.Value = v.Get() })
}

// GaugeVec is a gauge family partitioned by labels.
type GaugeVec struct{ v vec[Value] }

// NewGaugeVec returns a gauge family with the given label names.
func NewGaugeVec(name, help string, labels ...string) *GaugeVec {
	return &GaugeVec{vec[Value]{name: name, help: help, labels: labels, newChild: func() *Value { return new(Value) }}}
}

// WithLabelValues returns the gauge of these label values, creating it at 0.
func (g *GaugeVec) WithLabelValues(values ...string) *Value { return g.v.with(values) }

// Collect gives the family.
func (g *GaugeVec) Collect() []Family {
	return g.v.family(Gauge, func(v *Value, m *Metric) { m.Value = v.Get() })
}

// HistogramValue is one histogram: counts of observations per bucket.
type HistogramValue struct {
	upper []float64

	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	count  uint64
	sum    float64
}

// Observe counts one observation.
func (h *HistogramValue) Observe(v float64) {
	i, _ := slices.BinarySearch(h.upper, v) // the first bucket with v <= upper bound
	h.mu.Lock()
	h.counts[i]++
	h.count++
	h.sum += v
	h.mu.Unlock()
}

// HistogramVec is a histogram family partitioned by labels.
type HistogramVec struct{ v vec[HistogramValue] }

// NewHistogramVec returns a histogram family with the given upper bounds
// (sorted, without +Inf) and label names.
func NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	upper := slices.Clone(buckets)
	if !slices.IsSorted(upper) {
		panic("promexpo: " + name + ": buckets not sorted")
	}
	return &HistogramVec{vec[HistogramValue]{name: name, help: help, labels: labels, newChild: func() *HistogramValue {
		return &HistogramValue{upper: upper, counts: make([]uint64, len(upper)+1)}
	}}}
}

// WithLabelValues returns the histogram of these label values.
func (h *HistogramVec) WithLabelValues(values ...string) *HistogramValue { return h.v.with(values) }

// Collect gives the family.
func (h *HistogramVec) Collect() []Family {
	return h.v.family(Histogram, func(v *HistogramValue, m *Metric) {
		v.mu.Lock()
		defer v.mu.Unlock()
		m.Buckets = make([]Bucket, len(v.upper))
		var cum uint64
		for i, u := range v.upper {
			cum += v.counts[i]
			m.Buckets[i] = Bucket{UpperBound: u, CumulativeCount: cum}
		}
		m.Count, m.Sum = v.count, v.sum
	})
}
