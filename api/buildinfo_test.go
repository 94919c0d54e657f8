package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idreader/idreader/internal/buildinfo"
	"github.com/idreader/idreader/internal/promexpo/promexpotest"
)

func TestHealthzBuild(t *testing.T) {
	want := buildinfo.Info{Version: "1.2.3", Commit: "0123abcd", GoVersion: "go1.26.0"}
	h := New(Options{Service: newFake(), Build: want})
	w := do(t, h, "GET", "/healthz", "")
	var body struct {
		Status string          `json:"status"`
		Build  *buildinfo.Info `json:"build"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("healthz body %s: %v", w.Body, err)
	}
	if body.Build == nil || *body.Build != want {
		t.Errorf("healthz build = %+v, want %+v", body.Build, want)
	}
	// /v1/readers shares the body type but not the build.
	if w := do(t, h, "GET", "/v1/readers", ""); strings.Contains(w.Body.String(), `"build"`) {
		t.Errorf("/v1/readers carries the build: %s", w.Body)
	}
	// Without Options.Build the running binary's provenance is reported.
	w = do(t, New(Options{Service: newFake()}), "GET", "/healthz", "")
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Build == nil || *body.Build != buildinfo.Read() {
		t.Errorf("default build = %+v, want %+v", body.Build, buildinfo.Read())
	}
}

func TestBuildInfoMetric(t *testing.T) {
	m := newMetrics(newFake(), buildinfo.Info{Version: "1.2.3", Commit: "0123abcd", GoVersion: "go1.26.0"})
	const want = `
# HELP idreader_build_info Always 1; the labels tell the version, source commit and Go version of the running daemon.
# TYPE idreader_build_info gauge
idreader_build_info{commit="0123abcd",goversion="go1.26.0",version="1.2.3"} 1
`
	if err := testutil.GatherAndCompare(promexpotest.Gatherer(m.Registry()), strings.NewReader(want), "idreader_build_info"); err != nil {
		t.Error(err)
	}
	// NewMetrics labels the series with this binary's build.
	b := buildinfo.Read()
	own := `
# HELP idreader_build_info Always 1; the labels tell the version, source commit and Go version of the running daemon.
# TYPE idreader_build_info gauge
idreader_build_info{commit="` + b.Commit + `",goversion="` + b.GoVersion + `",version="` + b.Version + `"} 1
`
	if err := testutil.GatherAndCompare(promexpotest.Gatherer(NewMetrics(newFake()).Registry()), strings.NewReader(own), "idreader_build_info"); err != nil {
		t.Error(err)
	}
}
