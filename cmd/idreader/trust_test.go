package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/config"
	"github.com/idreader/idreader/trust/fetch"
)

func TestTrustList(t *testing.T) {
	f := newRevocationFixture(t)
	crl := f.crl(t, "iaca.crl", f.pki, revNow.Add(-time.Hour), revNow.Add(24*time.Hour))
	der, err := os.ReadFile(crl)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(der) }))
	defer srv.Close()
	cfgPath := filepath.Join(f.dir, "idreaderd.yaml")
	write(t, cfgPath, []byte("demo: true\nhttp: {listen: \"off\"}\ntrust:\n  folders: [iaca.pem]\n  cache: cache\n"+
		"  crls: [{url: "+srv.URL+"/iaca.crl, refresh: 1m, max_age: 1h}]\n"))

	// Fill the cache as the daemon would, 10 minutes before "now".
	c, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := c.TrustOptions()
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = func() time.Time { return revNow.Add(-10 * time.Minute) }
	m := fetch.New(opts)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if n := m.Refresh(context.Background()); n != 0 {
		t.Fatal(m.Status())
	}
	srv.Close() // trust list never fetches

	code, out, errs := runCmd(t, "trust", "list", "--config", cfgPath, "--now", revNow.Format(time.RFC3339), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Anchors []trustAnchorJSON    `json:"anchors"`
		Sources []fetch.SourceStatus `json:"sources"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Anchors) != 1 || got.Anchors[0].Subject != f.pki.IACA.Subject.String() || got.Anchors[0].SourceKind != "folder" ||
		got.Anchors[0].Country != "US" || !strings.HasSuffix(got.Anchors[0].Origin, "iaca.pem") || got.Anchors[0].Stale {
		t.Errorf("anchors: %+v", got.Anchors)
	}
	if len(got.Sources) != 2 || !got.Sources[1].Loaded || got.Sources[1].AgeSecs == nil || *got.Sources[1].AgeSecs != 600 || got.Sources[1].Stale {
		t.Errorf("sources: %+v", got.Sources)
	}

	code, out, _ = runCmd(t, "trust", "list", "--config", cfgPath, "--now", revNow.Add(2*time.Hour).Format(time.RFC3339))
	if code != 0 || !strings.Contains(out, "SOURCE AGE") || !strings.Contains(out, "2h10m0s") || !strings.Contains(out, "true") {
		t.Errorf("text: %s", out)
	}
	if code, _, errs := runCmd(t, "trust", "list"); code != 2 || !strings.Contains(errs, "--config is required") {
		t.Errorf("no config: %d %s", code, errs)
	}
	if code, _, _ := runCmd(t, "trust", "show"); code != 2 {
		t.Errorf("unknown subcommand: %d", code)
	}
}

// TestTrustListTrustOnly: trust list reads only the trust section; a
// configuration without readers, or with identities whose files are
// absent, still lists its anchors.
func TestTrustListTrustOnly(t *testing.T) {
	f := newRevocationFixture(t)
	cfgPath := filepath.Join(f.dir, "idreaderd.yaml")
	write(t, cfgPath, []byte("identities: {shop: {cert: absent.pem, key: absent_key.pem}}\nfuture_section: {x: 1}\n"+
		"trust: {folders: [iaca.pem], cache: cache}\n"))
	code, out, errs := runCmd(t, "trust", "list", "--config", cfgPath, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Anchors []trustAnchorJSON    `json:"anchors"`
		Sources []fetch.SourceStatus `json:"sources"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Anchors) != 1 || got.Anchors[0].Subject != f.pki.IACA.Subject.String() || len(got.Sources) != 1 {
		t.Errorf("json: %+v", got)
	}
	code, out, errs = runCmd(t, "trust", "list", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, f.pki.IACA.Subject.String()) || !strings.Contains(out, "iaca.pem") {
		t.Errorf("text: exit %d: %s %s", code, out, errs)
	}
	// An error in the trust section is still reported with its line.
	write(t, cfgPath, []byte("readers: []\ntrust:\n  folders: [absent.pem]\n"))
	if code, _, errs := runCmd(t, "trust", "list", "--config", cfgPath); code != 2 || !strings.Contains(errs, "idreaderd.yaml:3: trust.folders[0]") {
		t.Errorf("bad trust: exit %d: %s", code, errs)
	}
}

// TestTrustListNeverLoaded: a fetched source with no cached copy has a
// null age in JSON (not 0, which would read as fresh) and "-" in text.
func TestTrustListNeverLoaded(t *testing.T) {
	f := newRevocationFixture(t)
	cfgPath := filepath.Join(f.dir, "idreaderd.yaml")
	write(t, cfgPath, []byte("trust:\n  folders: [iaca.pem]\n  cache: cache\n  crls: [{url: \"http://crl.invalid/iaca.crl\"}]\n"))
	code, out, errs := runCmd(t, "trust", "list", "--config", cfgPath, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Sources []map[string]any `json:"sources"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Sources) != 2 {
		t.Fatalf("sources: %s", out)
	}
	crl := got.Sources[1]
	if v, ok := crl["ageSeconds"]; !ok || v != nil || crl["stale"] != true || crl["loaded"] != false {
		t.Errorf("never-loaded source: %v", crl)
	}
	if _, ok := crl["fetchedAt"]; ok {
		t.Errorf("fetchedAt of a never-loaded source: %v", crl)
	}
	if v, ok := got.Sources[0]["ageSeconds"].(float64); !ok || v < 0 {
		t.Errorf("folder age: %v", got.Sources[0])
	}
	code, out, _ = runCmd(t, "trust", "list", "--config", cfgPath)
	if code != 0 || !regexp.MustCompile(`http://crl.invalid/iaca.crl +crl +false +- +168h0m0s +true`).MatchString(out) {
		t.Errorf("text: %s", out)
	}
}
