package config_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/config"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/trust/fetch"
)

const trustMapping = `readers:
  - name: a
    profile: strict
profiles:
  strict:
    documents: [{doctype: mdl, elements: {org.iso.18013.5.1: [age_over_21]}}]
    require_true: [age_over_21]
    revocation: hard
trust:
  folders: [pki/iaca.pem]
  cache: cache
  crls:
    - {url: "http://crl.example/iaca.crl", refresh: 1h, max_age: 48h}
  status_lists:
    - {url: "https://status.example/1"}
  crl_distribution_points: {enabled: true, refresh: 2h, max_age: 24h}
  mso_status_lists: {enabled: true}
`

func TestTrustMapping(t *testing.T) {
	dir := setup(t)
	c, err := config.Load(write(t, dir, trustMapping))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Profile("strict"); p.RevocationMode() != revocation.Hard {
		t.Errorf("strict: %q", p.Revocation)
	}
	if p, _ := c.Profile("age-21"); p.RevocationMode() != revocation.Soft {
		t.Errorf("built-in profile: %q", p.Revocation)
	}
	opts, err := c.TrustOptions()
	if err != nil {
		t.Fatal(err)
	}
	if opts.CacheDir != filepath.Join(dir, "cache") || len(opts.Sources) != 3 {
		t.Fatalf("%+v", opts)
	}
	want := []fetch.Source{
		{Kind: fetch.KindFolder, Path: filepath.Join(dir, "pki/iaca.pem")},
		{Kind: fetch.KindCRL, URL: "http://crl.example/iaca.crl", Refresh: time.Hour, MaxAge: 48 * time.Hour},
		{Kind: fetch.KindStatusList, URL: "https://status.example/1"},
	}
	for i, w := range want {
		g := opts.Sources[i]
		if g.Kind != w.Kind || g.Path != w.Path || g.URL != w.URL || g.Refresh != w.Refresh || g.MaxAge != w.MaxAge {
			t.Errorf("source %d: %+v, want %+v", i, g, w)
		}
	}
	if d := opts.CRLDistributionPoints; !d.Enabled || d.Refresh != 2*time.Hour || d.MaxAge != 24*time.Hour {
		t.Errorf("crl_distribution_points: %+v", d)
	}
	if !opts.MSOStatusLists.Enabled || !c.Trust.Fetches() {
		t.Error("mso_status_lists")
	}
	s, err := c.Settings()
	if err != nil || s.Trust.Len() != 1 {
		t.Fatalf("settings: %v", err)
	}
	// Without cache: the default directory.
	c2, err := config.Load(write(t, dir, minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c2.CacheDir() != config.DefaultCacheDir || c2.Trust.Fetches() {
		t.Errorf("list form: %q %v", c2.CacheDir(), c2.Trust.Fetches())
	}
}

func TestTrustErrors(t *testing.T) {
	dir := setup(t)
	text := `readers:
  - name: a
    profile: p
profiles:
  p:
    documents: [{doctype: mdl, elements: {org.iso.18013.5.1: [age_over_21]}}]
    revocation: strict
trust:
  folders: [pki/absent.pem]
  crls:
    - {url: "ftp://crl.example/x"}
    - {url: "http://crl.example/y", refresh: 10s}
    - {url: "http://crl.example/z", refresh: 2h, max_age: 1h}
  vicals:
    - {url: "https://vical.example/v"}
`
	_, err := config.Load(write(t, dir, text))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{
		`idreaderd.yaml:7: profiles.p.revocation: want hard or soft, got "strict"`,
		`idreaderd.yaml:9: trust.folders[0]: stat `,
		`idreaderd.yaml:11: trust.crls[0].url: want an http or https URL, got "ftp://crl.example/x"`,
		`idreaderd.yaml:12: trust.crls[1].refresh: refresh every 10s is too often`,
		`idreaderd.yaml:13: trust.crls[2].max_age: max_age 1h0m0s is shorter than the refresh interval`,
		`idreaderd.yaml:15: trust.vicals[0]: anchor missing`,
	} {
		found := false
		for _, line := range strings.Split(err.Error(), "\n") {
			found = found || strings.HasPrefix(strings.TrimPrefix(line, dir+string(filepath.Separator)), w)
		}
		if !found {
			t.Errorf("want %q in:\n%v", w, err)
		}
	}
}

func TestLoadTrustOnly(t *testing.T) {
	dir := setup(t)
	// Only a trust section, plus other sections that Load would reject
	// (no readers, an identity whose files are absent, an unknown key).
	text := `identities:
  shop: {cert: absent/cert.pem, key: absent/key.pem}
whatever: 1
trust:
  folders: [pki/iaca.pem]
  cache: cache
`
	path := write(t, dir, text)
	if _, err := config.Load(path); err == nil {
		t.Fatal("Load accepted a configuration without readers")
	}
	c, err := config.LoadTrust(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Trust.Folders) != 1 || c.CacheDir() != filepath.Join(dir, "cache") {
		t.Errorf("trust: %+v, cache %s", c.Trust, c.CacheDir())
	}
	if _, err := c.TrustOptions(); err != nil {
		t.Error(err)
	}

	// Errors of the trust section keep their file:line.
	bad := `readers: 7
trust:
  folders: [pki/absent.pem]
  crls: [{url: "ftp://x/y"}]
  bogus: 1
`
	_, err = config.LoadTrust(write(t, dir, bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"idreaderd.yaml:5: trust.bogus: unknown key"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in %v", w, err)
		}
	}
	_, err = config.LoadTrust(write(t, dir, "trust:\n  folders: [pki/absent.pem]\n  crls: [{url: \"ftp://x/y\"}]\n"))
	for _, w := range []string{"idreaderd.yaml:2: trust.folders[0]: stat ", `idreaderd.yaml:3: trust.crls[0].url: want an http or https URL`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in %v", w, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "readers") {
		t.Errorf("other sections checked: %v", err)
	}
	if _, err := config.LoadTrust(write(t, dir, "trust: [\n")); err == nil {
		t.Error("syntax error accepted")
	}
	if _, err := config.LoadTrust(write(t, dir, "readers: []\n")); err == nil || !strings.Contains(err.Error(), "no IACA trust anchors") {
		t.Errorf("no trust: %v", err)
	}
	if _, err := config.LoadTrust(filepath.Join(dir, "absent.yaml")); err == nil {
		t.Error("absent file accepted")
	}
}
