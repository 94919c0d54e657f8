// Package promexpotest reads what promexpo writes with the Prometheus
// client library (test code only: the daemon does not link it), so tests
// can use prometheus/testutil and the library's own parser checks the
// protocol-buffer encoding.
package promexpotest

import (
	"bytes"
	"errors"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/idreader/idreader/internal/promexpo"
)

// Gatherer gathers collectors through promexpo's protocol-buffer encoding
// and decodes the result with the Prometheus library.
func Gatherer(cs ...promexpo.Collector) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		r := promexpo.NewRegistry()
		r.MustRegister(cs...)
		return Decode(r.Gather())
	})
}

// Decode encodes families in the delimited protocol-buffer format and
// decodes them with the Prometheus library.
func Decode(fams []promexpo.Family) ([]*dto.MetricFamily, error) {
	var buf bytes.Buffer
	if err := promexpo.WriteProtobuf(&buf, fams); err != nil {
		return nil, err
	}
	dec := expfmt.NewDecoder(&buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		out = append(out, mf)
	}
}
