package promexpo

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The content types, as the Prometheus client sends them (before the
// escaping parameter).
const (
	ContentTypeText     = "text/plain; version=0.0.4; charset=utf-8"
	ContentTypeProtobuf = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
)

// WriteText writes families in the text exposition format 0.0.4.
func WriteText(w io.Writer, fams []Family) error {
	b := bufio.NewWriter(w)
	for _, f := range fams {
		b.WriteString("# HELP ")
		b.WriteString(f.Name)
		b.WriteByte(' ')
		b.WriteString(escapeHelp.Replace(f.Help))
		b.WriteString("\n# TYPE ")
		b.WriteString(f.Name)
		b.WriteByte(' ')
		b.WriteString(f.Type.String())
		b.WriteByte('\n')
		for _, m := range f.Metrics {
			switch f.Type {
			case Histogram:
				inf := false
				for _, bk := range m.Buckets {
					inf = inf || math.IsInf(bk.UpperBound, 1)
					sample(b, f.Name+"_bucket", m.Labels, "le", bk.UpperBound, uintText(bk.CumulativeCount))
				}
				if !inf {
					sample(b, f.Name+"_bucket", m.Labels, "le", math.Inf(1), uintText(m.Count))
				}
				sample(b, f.Name+"_sum", m.Labels, "", 0, floatText(m.Sum))
				sample(b, f.Name+"_count", m.Labels, "", 0, uintText(m.Count))
			case Summary:
				for _, q := range m.Quantiles {
					sample(b, f.Name, m.Labels, "quantile", q.Quantile, floatText(q.Value))
				}
				sample(b, f.Name+"_sum", m.Labels, "", 0, floatText(m.Sum))
				sample(b, f.Name+"_count", m.Labels, "", 0, uintText(m.Count))
			default:
				sample(b, f.Name, m.Labels, "", 0, floatText(m.Value))
			}
		}
	}
	return b.Flush()
}

var (
	escapeHelp  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	escapeValue = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// sample writes one line; extra names a label (le, quantile) with value
// extraValue after the metric's own labels.
func sample(b *bufio.Writer, name string, labels []Label, extra string, extraValue float64, value string) {
	b.WriteString(name)
	if len(labels) > 0 || extra != "" {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l.Name)
			b.WriteString(`="`)
			b.WriteString(escapeValue.Replace(l.Value))
			b.WriteByte('"')
		}
		if extra != "" {
			if len(labels) > 0 {
				b.WriteByte(',')
			}
			b.WriteString(extra)
			b.WriteString(`="`)
			b.WriteString(floatText(extraValue))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(value)
	b.WriteByte('\n')
}

func floatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func uintText(u uint64) string { return strconv.FormatUint(u, 10) }

// WriteProtobuf writes families as varint-length-delimited
// io.prometheus.client.MetricFamily messages (proto2: every field that is
// set is written, zero or not).
func WriteProtobuf(w io.Writer, fams []Family) error {
	var msg, lenbuf []byte
	for _, f := range fams {
		msg = msg[:0]
		msg = pbString(msg, 1, f.Name)
		msg = pbString(msg, 2, f.Help)
		msg = pbVarint(msg, 3, uint64(f.Type))
		for _, m := range f.Metrics {
			msg = pbBytes(msg, 4, metricProto(f.Type, m))
		}
		lenbuf = binary.AppendUvarint(lenbuf[:0], uint64(len(msg)))
		if _, err := w.Write(lenbuf); err != nil {
			return err
		}
		if _, err := w.Write(msg); err != nil {
			return err
		}
	}
	return nil
}

func metricProto(t Type, m Metric) []byte {
	var b []byte
	for _, l := range m.Labels {
		b = pbBytes(b, 1, pbString(pbString(nil, 1, l.Name), 2, l.Value))
	}
	var created []byte
	if !m.Created.IsZero() {
		created = pbVarint(pbVarint(nil, 1, uint64(m.Created.Unix())), 2, uint64(m.Created.Nanosecond()))
	}
	switch t {
	case Gauge:
		b = pbBytes(b, 2, pbDouble(nil, 1, m.Value))
	case Counter:
		c := pbDouble(nil, 1, m.Value)
		if created != nil {
			c = pbBytes(c, 3, created)
		}
		b = pbBytes(b, 3, c)
	case Summary:
		s := pbVarint(nil, 1, m.Count)
		s = pbDouble(s, 2, m.Sum)
		for _, q := range m.Quantiles {
			s = pbBytes(s, 3, pbDouble(pbDouble(nil, 1, q.Quantile), 2, q.Value))
		}
		if created != nil {
			s = pbBytes(s, 4, created)
		}
		b = pbBytes(b, 4, s)
	case Histogram:
		h := pbVarint(nil, 1, m.Count)
		h = pbDouble(h, 2, m.Sum)
		for _, bk := range m.Buckets {
			h = pbBytes(h, 3, pbDouble(pbVarint(nil, 1, bk.CumulativeCount), 2, bk.UpperBound))
		}
		if created != nil {
			h = pbBytes(h, 15, created)
		}
		b = pbBytes(b, 7, h)
	}
	return b
}

func pbTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

func pbVarint(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(pbTag(b, field, 0), v)
}

func pbDouble(b []byte, field int, f float64) []byte {
	return binary.LittleEndian.AppendUint64(pbTag(b, field, 1), math.Float64bits(f))
}

func pbBytes(b []byte, field int, v []byte) []byte {
	return append(binary.AppendUvarint(pbTag(b, field, 2), uint64(len(v))), v...)
}

func pbString(b []byte, field int, s string) []byte {
	return append(binary.AppendUvarint(pbTag(b, field, 2), uint64(len(s))), s...)
}

// Handler serves the registry at each request: the protocol-buffer format
// when the Accept header prefers it, else the text format; gzip when
// Accept-Encoding allows it. The content negotiation is that of the
// Prometheus client (OpenMetrics not offered), including the escaping
// parameter of the content type (escaping=underscores unless the scraper
// asks for another scheme; the names served need no escaping).
//
// Handler registers promhttp_metric_handler_errors_total{cause} in r (as the
// Prometheus client's handler does), counting responses that could not be
// written ("encoding"; gathering cannot fail): call it once per registry.
func Handler(r *Registry) http.Handler {
	errs := NewCounterVec("promhttp_metric_handler_errors_total",
		"Total number of internal errors encountered by the promhttp metric handler.", "cause")
	errs.WithLabelValues("gathering")
	encoding := errs.WithLabelValues("encoding")
	r.MustRegister(errs)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		proto, escaping := negotiate(req.Header.Get("Accept"))
		ct := ContentTypeText
		if proto {
			ct = ContentTypeProtobuf
		}
		h := w.Header()
		h.Set("Content-Type", ct+"; escaping="+escaping)
		h.Add("Vary", "Accept")
		h.Add("Vary", "Accept-Encoding")
		var out io.Writer = w
		if acceptsGzip(req.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			defer gz.Close()
			out = gz
		}
		fams := r.Gather()
		write := WriteText
		if proto {
			write = WriteProtobuf
		}
		if err := write(out, fams); err != nil {
			encoding.Inc()
		}
	})
}

// accept is one media range of an Accept header.
type accept struct {
	typ, sub string
	q        float64
	params   map[string]string
}

// parseAccept splits an Accept header into media ranges, sorted by
// quality, then by specificity (type/sub before type/* before */*), then
// in header order.
func parseAccept(header string) []accept {
	var out []accept
	for part := range strings.SplitSeq(header, ",") {
		fields := strings.Split(part, ";")
		mt := strings.TrimSpace(fields[0])
		typ, sub, ok := strings.Cut(mt, "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		a := accept{typ: typ, sub: sub, q: 1, params: map[string]string{}}
		for _, p := range fields[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				continue
			}
			if k == "q" {
				a.q, _ = strconv.ParseFloat(v, 64)
				continue
			}
			a.params[k] = v
		}
		out = append(out, a)
	}
	specificity := func(a accept) int {
		switch {
		case a.typ == "*":
			return 0
		case a.sub == "*":
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].q != out[j].q {
			return out[i].q > out[j].q
		}
		return specificity(out[i]) > specificity(out[j])
	})
	return out
}

// negotiate picks the format (protocol buffer or text) and the escaping
// scheme of the content type from an Accept header, as the Prometheus
// client's negotiation over its default formats would, save that the
// protocol buffer's text encodings (debugging aids) are answered in the
// text format.
func negotiate(header string) (proto bool, escaping string) {
	escaping = "underscores"
	for _, a := range parseAccept(header) {
		switch e := a.params["escaping"]; e {
		case "allow-utf-8", "underscores", "dots", "values":
			escaping = e
		}
		if matches(a, "application", "vnd.google.protobuf") && a.params["proto"] == "io.prometheus.client.MetricFamily" && a.params["encoding"] == "delimited" {
			return true, escaping
		}
		version := a.params["version"]
		if version == "" && a.typ == "text" && a.sub == "plain" {
			version = "0.0.4"
		}
		if matches(a, "text", "plain") && version == "0.0.4" {
			return false, escaping
		}
	}
	return false, escaping
}

func matches(a accept, typ, sub string) bool {
	return (a.typ == "*" || a.typ == typ) && (a.sub == "*" || a.sub == sub)
}

// acceptsGzip tells whether an Accept-Encoding header selects gzip over
// identity, the two encodings offered (in that order of preference at equal
// quality, as by the Prometheus client).
func acceptsGzip(header string) bool {
	best, bestQ := "identity", -1.0
	for _, offer := range []string{"identity", "gzip"} {
		for part := range strings.SplitSeq(header, ",") {
			fields := strings.Split(part, ";")
			name := strings.ToLower(strings.TrimSpace(fields[0]))
			if name == "" {
				continue
			}
			q := 1.0
			for _, p := range fields[1:] {
				if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
					q, _ = strconv.ParseFloat(v, 64)
				}
			}
			if q > bestQ && (name == "*" || name == offer) {
				best, bestQ = offer, q
			}
		}
	}
	return best == "gzip" && bestQ > 0
}
