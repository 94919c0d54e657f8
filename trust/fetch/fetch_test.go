package fetch

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/internal/promexpo/promexpotest"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/revocation/revocationtest"
	"github.com/idreader/idreader/verify"
	"github.com/idreader/idreader/vical/vicaltest"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func seeded(seed uint64) io.Reader { return rand.NewChaCha8([32]byte{byte(seed), 0x46}) }

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// server serves whatever body is set, or a status.
type server struct {
	*httptest.Server
	body   atomic.Pointer[[]byte]
	status atomic.Int32
	hits   atomic.Int32
}

func newServer(t *testing.T) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if st := s.status.Load(); st != 0 {
			w.WriteHeader(int(st))
			return
		}
		if b := s.body.Load(); b != nil {
			w.Write(*b)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(b []byte) { s.body.Store(&b); s.status.Store(0) }

type fixture struct {
	pki    *pki.PKI
	folder string
	cache  string
	clock  *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p, err := pki.New(pki.Options{Rand: seeded(1), Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	folder := filepath.Join(dir, "iaca")
	os.Mkdir(folder, 0o755)
	if err := os.WriteFile(filepath.Join(folder, "iaca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.IACA.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fixture{pki: p, folder: folder, cache: filepath.Join(dir, "cache"), clock: &clock{now: t0}}
}

func (f *fixture) crl(t *testing.T, this time.Time, serials ...*big.Int) []byte {
	t.Helper()
	der, err := revocationtest.CRL(seeded(2), f.pki.IACA, f.pki.IACAKey, serials, this, this.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (f *fixture) manager(client *http.Client, sources ...Source) *Manager {
	all := append([]Source{{Kind: KindFolder, Path: f.folder}}, sources...)
	return New(Options{CacheDir: f.cache, Client: client, Now: f.clock.Now, Sources: all})
}

// check asks the snapshot's revocation set about the fixture's DS.
func (f *fixture) check(s *Snapshot, mode revocation.Mode) verify.RevocationResult {
	return revocation.Checker{Set: s.Revocation, Mode: mode}.CheckRevocation(verify.RevocationQuery{
		DS: f.pki.DS, IACA: f.pki.IACA, Now: f.clock.Now()})
}

// deadClient fails every request, as with no network.
var deadClient = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
	return nil, io.ErrUnexpectedEOF
})}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A CRL is fetched, verified, cached and swapped in; a refresh that serves
// garbage, a CRL of another IACA, an older CRL or an HTTP error keeps the
// last good copy in force, in memory and in the cache.
func TestRefreshKeepsLastGoodCopy(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t)
	srv.serve(f.crl(t, t0.Add(-time.Hour), f.pki.DS.SerialNumber))
	var swaps atomic.Int32
	m := f.manager(srv.Client(), Source{Kind: KindCRL, URL: srv.URL + "/iaca.crl", Refresh: time.Hour, MaxAge: 24 * time.Hour})
	m.opts.OnSwap = func(*Snapshot) { swaps.Add(1) }
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if r := f.check(m.Snapshot(), revocation.Hard); r.Status != verify.RevocationUnknown {
		t.Fatalf("before the first fetch: %+v", r)
	}
	if n := m.Refresh(context.Background()); n != 0 {
		t.Fatalf("first refresh: %d failures: %+v", n, m.Status())
	}
	if r := f.check(m.Snapshot(), revocation.Hard); r.Status != verify.RevocationRevoked {
		t.Fatalf("after the fetch: %+v", r)
	}
	cached, err := os.ReadFile(cachePath(f.cache, "crl:"+srv.URL+"/iaca.crl"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.New(pki.Options{Rand: seeded(9), Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := revocationtest.CRL(seeded(3), other.IACA, other.IACAKey, nil, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		serve  func()
		errHas string
	}{
		{"garbage", func() { srv.serve([]byte("<html>maintenance</html>")) }, "malformed"},
		{"another IACA", func() { srv.serve(foreign) }, "signature not verified"},
		{"older", func() { srv.serve(f.crl(t, t0.Add(-2*time.Hour))) }, "older than the one held"},
		{"HTTP 500", func() { srv.status.Store(500) }, "HTTP status 500"},
	} {
		tc.serve()
		f.clock.Add(time.Hour)
		before := swaps.Load()
		if n := m.Refresh(context.Background()); n != 1 {
			t.Errorf("%s: %d failures", tc.name, n)
		}
		if swaps.Load() != before {
			t.Errorf("%s: snapshot swapped", tc.name)
		}
		if r := f.check(m.Snapshot(), revocation.Hard); r.Status != verify.RevocationRevoked {
			t.Errorf("%s: last good copy lost: %+v", tc.name, r)
		}
		st := m.Status()[1]
		if !strings.Contains(st.LastError, tc.errHas) || !st.Loaded {
			t.Errorf("%s: status %+v", tc.name, st)
		}
		if now, _ := os.ReadFile(cachePath(f.cache, st.Name)); string(now) != string(cached) {
			t.Errorf("%s: cache changed", tc.name)
		}
		// The retry comes before the refresh interval (backoff from 1 min).
		f.clock.Add(2 * time.Minute)
	}
	if st := m.Status()[1]; st.Failures != 4 {
		t.Errorf("failures: %+v", st)
	}
	// A newer good CRL replaces it.
	srv.serve(f.crl(t, f.clock.Now().Add(-time.Minute)))
	f.clock.Add(time.Hour)
	if n := m.Refresh(context.Background()); n != 0 {
		t.Fatalf("good again: %+v", m.Status())
	}
	if r := f.check(m.Snapshot(), revocation.Hard); r.Status != verify.RevocationGood {
		t.Errorf("newer CRL: %+v", r)
	}
	if st := m.Status()[1]; st.LastError != "" || st.Stale {
		t.Errorf("status after success: %+v", st)
	}
}

// A daemon started with no network decides from the cache; past the
// source's maximum age the source is stale and hard rejects.
func TestStartWithoutNetworkUsesCache(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t)
	srv.serve(f.crl(t, t0.Add(-time.Hour)))
	src := Source{Kind: KindCRL, URL: srv.URL + "/iaca.crl", Refresh: time.Hour, MaxAge: 24 * time.Hour}
	m := f.manager(srv.Client(), src)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if n := m.Refresh(context.Background()); n != 0 {
		t.Fatal(m.Status())
	}
	srv.Close()

	f.clock.Add(10 * time.Minute)
	offline := f.manager(deadClient, src)
	if err := offline.Start(); err != nil {
		t.Fatal(err)
	}
	if r := f.check(offline.Snapshot(), revocation.Hard); r.Status != verify.RevocationGood {
		t.Fatalf("from the cache: %+v", r)
	}
	if n := offline.Refresh(context.Background()); n != 1 {
		t.Errorf("offline refresh: %d failures", n)
	}
	if r := f.check(offline.Snapshot(), revocation.Hard); r.Status != verify.RevocationGood {
		t.Fatalf("after a failed refresh: %+v", r)
	}
	st := offline.Status()[1]
	if !st.Loaded || st.Stale || st.Age != 10*time.Minute || st.Failures != 1 {
		t.Errorf("status: %+v", st)
	}
	if offline.Snapshot().Trust.Len() != 1 {
		t.Errorf("anchors: %d", offline.Snapshot().Trust.Len())
	}

	f.clock.Add(24 * time.Hour)
	if st := offline.Status()[1]; !st.Stale {
		t.Errorf("past max age: %+v", st)
	}
	if got := offline.Stale(); len(got) != 1 || got[0] != src.Name() {
		t.Errorf("stale: %v", got)
	}
	if r := f.check(offline.Snapshot(), revocation.Hard); r.Status != verify.RevocationUnknown {
		t.Errorf("stale, hard: %+v", r)
	}
	if r := f.check(offline.Snapshot(), revocation.Soft); r.Status != verify.RevocationGood || !r.NotProven {
		t.Errorf("stale, soft: %+v", r)
	}
}

// A cache file that was tampered with is not used.
func TestCorruptCacheIgnored(t *testing.T) {
	f := newFixture(t)
	src := Source{Kind: KindCRL, URL: "http://crl.invalid/iaca.crl"}
	if err := writeCache(f.cache, src, []byte("not a CRL"), t0); err != nil {
		t.Fatal(err)
	}
	m := f.manager(deadClient, src)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if set := m.Snapshot().Revocation; set == nil {
		t.Fatal("no revocation set")
	} else if crls, _ := set.Len(); crls != 0 {
		t.Errorf("%d CRLs from a bad cache", crls)
	}
	if st := m.Status()[1]; !strings.Contains(st.LastError, "cached copy") {
		t.Errorf("status: %+v", st)
	}
}

// Taps reveal the DS's CRL distribution point and the MSO's status list;
// with discovery on they are fetched, cached and in force after a restart
// with no network.
func TestDiscovery(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t)
	signer, err := revocationtest.NewSigner(seeded(4), f.pki.IACA, f.pki.IACAKey, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	listURL := srv.URL + "/status/1"
	tok, err := signer.StatusListToken(seeded(5), revocationtest.TokenOptions{URI: listURL, IssuedAt: t0.Add(-time.Minute)}, 1, 16, map[int]byte{3: 1})
	if err != nil {
		t.Fatal(err)
	}
	crl := f.crl(t, t0.Add(-time.Hour))
	mux := http.NewServeMux()
	mux.HandleFunc("/status/1", func(w http.ResponseWriter, _ *http.Request) { w.Write(tok) })
	mux.HandleFunc("/crl", func(w http.ResponseWriter, _ *http.Request) { w.Write(crl) })
	srv.Config.Handler = mux

	ds := *f.pki.DS
	ds.CRLDistributionPoints = []string{srv.URL + "/crl", "ldap://not.fetched/"}
	disc := Discover{Enabled: true, Refresh: time.Hour, MaxAge: 24 * time.Hour}
	opts := func(c *http.Client) Options {
		return Options{CacheDir: f.cache, Client: c, Now: f.clock.Now, Sources: []Source{{Kind: KindFolder, Path: f.folder}},
			CRLDistributionPoints: disc, MSOStatusLists: disc}
	}
	m := New(opts(srv.Client()))
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	q := verify.RevocationQuery{DS: &ds, IACA: f.pki.IACA, Now: t0, MSOStatus: revocationtest.StatusListReference(3, listURL)}
	m.Observe(q)
	m.Observe(q) // a second tap adds nothing
	if st := m.Status(); len(st) != 3 || !st[1].Discovered || !st[2].Discovered {
		t.Fatalf("sources: %+v", st)
	}
	if n := m.Refresh(context.Background()); n != 0 {
		t.Fatalf("%+v", m.Status())
	}
	chk := revocation.Checker{Set: m.Snapshot().Revocation, Mode: revocation.Hard}
	if r := chk.CheckRevocation(q); r.Status != verify.RevocationRevoked || !strings.Contains(r.Detail, "index 3: invalid") {
		t.Errorf("discovered list: %+v", r)
	}
	q.MSOStatus = revocationtest.StatusListReference(2, listURL)
	if r := chk.CheckRevocation(q); r.Status != verify.RevocationGood {
		t.Errorf("discovered CRL and list, valid entry: %+v", r)
	}

	offline := New(opts(deadClient))
	if err := offline.Start(); err != nil {
		t.Fatal(err)
	}
	if r := (revocation.Checker{Set: offline.Snapshot().Revocation, Mode: revocation.Hard}).CheckRevocation(q); r.Status != verify.RevocationGood {
		t.Errorf("restart offline: %+v %+v", r, offline.Status())
	}
	// Discovery off: nothing is added.
	quiet := New(Options{CacheDir: t.TempDir(), Now: f.clock.Now, Sources: []Source{{Kind: KindFolder, Path: f.folder}}})
	quiet.Observe(q)
	if len(quiet.Status()) != 1 {
		t.Errorf("discovery off: %+v", quiet.Status())
	}
}

// A status list token must be published at its sub and come from a
// trusted IACA.
func TestStatusListSource(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t)
	signer, err := revocationtest.NewSigner(seeded(6), f.pki.IACA, f.pki.IACAKey, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/list"
	wrongSub, _ := signer.StatusListToken(seeded(7), revocationtest.TokenOptions{URI: url + "/elsewhere", IssuedAt: t0}, 1, 8, nil)
	good, _ := signer.StatusListToken(seeded(8), revocationtest.TokenOptions{URI: url, IssuedAt: t0}, 1, 8, nil)
	m := f.manager(srv.Client(), Source{Kind: KindStatusList, URL: url})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	srv.serve(wrongSub)
	if m.Refresh(context.Background()) != 1 || !strings.Contains(m.Status()[1].LastError, "is not its URL") {
		t.Errorf("wrong sub: %+v", m.Status()[1])
	}
	f.clock.Add(time.Hour)
	srv.serve(good)
	if m.Refresh(context.Background()) != 0 {
		t.Errorf("good: %+v", m.Status()[1])
	}
	if _, toks := m.Snapshot().Revocation.Len(); toks != 1 {
		t.Errorf("tokens: %d", toks)
	}
}

// Reload keeps the state of sources that stay and drops removed ones.
func TestReload(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t)
	srv.serve(f.crl(t, t0.Add(-time.Hour)))
	src := Source{Kind: KindCRL, URL: srv.URL + "/a.crl"}
	m := f.manager(srv.Client(), src)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	m.Refresh(context.Background())
	if err := m.Reload([]Source{{Kind: KindFolder, Path: f.folder}, src}, nil); err != nil {
		t.Fatal(err)
	}
	if crls, _ := m.Snapshot().Revocation.Len(); crls != 1 {
		t.Errorf("after reload: %d CRLs", crls)
	}
	if err := m.Reload([]Source{{Kind: KindFolder, Path: filepath.Join(f.folder, "missing")}}, nil); err == nil {
		t.Error("missing folder accepted")
	}
	if crls, _ := m.Snapshot().Revocation.Len(); crls != 1 {
		t.Errorf("after a failed reload: %d CRLs", crls)
	}
	if err := m.Reload([]Source{{Kind: KindFolder, Path: f.folder}}, nil); err != nil {
		t.Fatal(err)
	}
	if m.Snapshot().Revocation != nil || len(m.Status()) != 1 {
		t.Errorf("CRL source removed: %+v", m.Status())
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	m := f.manager(deadClient, Source{Kind: KindCRL, URL: "http://crl.invalid/x.crl"})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	m.Refresh(context.Background())
	mfs, err := promexpotest.Gatherer(m.Collector()).Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.Metric {
			v := mt.GetGauge().GetValue() + mt.GetCounter().GetValue()
			got[mf.GetName()+"/"+mt.Label[1].GetValue()] = v // labels sorted: kind, source
		}
	}
	want := map[string]float64{
		"idreader_trust_source_stale/crl:http://crl.invalid/x.crl":         1,
		"idreader_trust_fetch_failures_total/crl:http://crl.invalid/x.crl": 1,
		"idreader_trust_anchors/folder:" + f.folder:                        1,
		"idreader_trust_source_age_seconds/folder:" + f.folder:             0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (%v), want %v", k, g, ok, v)
		}
	}
}

// fakeVICAL stands in for a VICAL verifier: "VICAL\n" then PEM IACAs,
// signed by nobody; anything else is refused.
func fakeVICAL(data []byte, anchors []*x509.Certificate, _ time.Time) (VICALResult, error) {
	rest, ok := bytes.CutPrefix(data, []byte("VICAL\n"))
	if !ok || len(anchors) == 0 {
		return VICALResult{}, errors.New("fake vical: not a VICAL")
	}
	certs, err := verify.ParseCertificates(rest)
	if err != nil {
		return VICALResult{}, err
	}
	var out []Anchor
	for _, c := range certs {
		out = append(out, Anchor{Cert: c, Info: verify.AnchorInfo{Source: "fake VICAL", DocTypes: []string{"org.iso.18013.5.1.mDL"}}})
	}
	return VICALResult{Anchors: out}, nil
}

// A VICAL source is one more generic source: fetched, verified by the
// injected verifier, cached, its anchors installed with their metadata,
// the last good copy kept, and past max_age its anchors' documents are of
// unknown revocation state.
func TestVICALSource(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t)
	other, err := pki.New(pki.Options{Rand: seeded(11), Now: t0, Country: "JP"})
	if err != nil {
		t.Fatal(err)
	}
	srv.serve(append([]byte("VICAL\n"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.IACA.Raw})...))
	src := Source{Kind: KindVICAL, URL: srv.URL + "/vical", Anchors: []*x509.Certificate{f.pki.IACA}, Refresh: time.Hour, MaxAge: 48 * time.Hour}
	m := New(Options{CacheDir: f.cache, Client: srv.Client(), Now: f.clock.Now, VICAL: fakeVICAL,
		Sources: []Source{{Kind: KindFolder, Path: f.folder}, src}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if m.Refresh(context.Background()) != 0 {
		t.Fatal(m.Status())
	}
	snap := m.Snapshot()
	info, ok := snap.Trust.Anchor(other.IACA)
	if !ok || info.Source != "fake VICAL" || len(info.DocTypes) != 1 || snap.Trust.Len() != 2 {
		t.Fatalf("VICAL anchor: %+v %v", info, ok)
	}
	if st := m.Status()[1]; st.Anchors != 1 || !st.Loaded {
		t.Errorf("status: %+v", st)
	}
	srv.serve([]byte("garbage"))
	f.clock.Add(time.Hour)
	if m.Refresh(context.Background()) != 1 {
		t.Error("garbage accepted")
	}
	if _, ok := m.Snapshot().Trust.Anchor(other.IACA); !ok {
		t.Error("last good VICAL lost")
	}
	// Offline restart: the cached VICAL is in force.
	off := New(Options{CacheDir: f.cache, Client: deadClient, Now: f.clock.Now, VICAL: fakeVICAL,
		Sources: []Source{{Kind: KindFolder, Path: f.folder}, src}})
	if err := off.Start(); err != nil {
		t.Fatal(err)
	}
	if _, ok := off.Snapshot().Trust.Anchor(other.IACA); !ok {
		t.Error("cached VICAL not in force")
	}
	q := verify.RevocationQuery{DS: other.DS, IACA: other.IACA, Anchor: info, Now: f.clock.Now()}
	chk := revocation.Checker{Set: off.Snapshot().Revocation, Mode: revocation.Hard}
	if r := chk.CheckRevocation(q); strings.Contains(r.Detail, "anchor source") {
		t.Errorf("fresh VICAL reported stale: %+v", r)
	}
	f.clock.Add(48 * time.Hour)
	q.Now = f.clock.Now()
	if r := chk.CheckRevocation(q); r.Status != verify.RevocationUnknown || !strings.Contains(r.Detail, "anchor source fake VICAL stale") {
		t.Errorf("stale VICAL: %+v", r)
	}
}

// A freshly installed terminal's empty trust directory is no error; a
// directory with something that is not a certificate is.
func TestEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".keep"), nil, 0o644)
	m := New(Options{Now: func() time.Time { return t0 }, Sources: []Source{{Kind: KindFolder, Path: dir}}})
	if err := m.Start(); err != nil || m.Snapshot().Trust.Len() != 0 {
		t.Fatalf("empty folder: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("junk"), 0o644)
	if err := m.Reload([]Source{{Kind: KindFolder, Path: dir}}, nil); err == nil {
		t.Error("junk accepted")
	}
}

// A real VICAL (package vical, the default verifier): its IACAs are
// trusted with their doc types and country; a newer one replaces it, an
// older one or one signed by a signer without the VICAL EKU is refused and
// the last good copy stays.
func TestRealVICAL(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t)
	provider, err := vicaltest.NewPKI(seeded(20), vicaltest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	noEKU, err := vicaltest.NewPKI(seeded(21), vicaltest.Options{NoEKU: true})
	if err != nil {
		t.Fatal(err)
	}
	jp, err := pki.New(pki.Options{Rand: seeded(22), Now: t0, Country: "JP"})
	if err != nil {
		t.Fatal(err)
	}
	list := func(date time.Time, id uint64) vicaltest.List {
		return vicaltest.List{Provider: "Test", Date: date, IssueID: id, Entries: []vicaltest.Entry{
			{Certificate: jp.IACA, DocTypes: []string{"org.iso.23220.photoid.1"}, Country: "JP"}}}
	}
	sign := func(p *vicaltest.PKI, l vicaltest.List) []byte {
		b, err := p.Sign(seeded(23), l)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	src := Source{Kind: KindVICAL, URL: srv.URL + "/vical", Anchors: []*x509.Certificate{provider.Root}, Refresh: time.Hour, MaxAge: 720 * time.Hour}
	m := f.manager(srv.Client(), src)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	srv.serve(sign(provider, list(t0.Add(-24*time.Hour), 2)))
	if m.Refresh(context.Background()) != 0 {
		t.Fatal(m.Status())
	}
	info, ok := m.Snapshot().Trust.Anchor(jp.IACA)
	if !ok || info.Country != "JP" || len(info.DocTypes) != 1 || !strings.HasPrefix(info.Source, "VICAL Test ") {
		t.Fatalf("anchor: %+v %v", info, ok)
	}
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"older", sign(provider, list(t0.Add(-48*time.Hour), 1)), "older than the one held"},
		{"signer without the EKU", sign(noEKU, list(t0, 3)), "vical"},
	} {
		srv.serve(tc.body)
		f.clock.Add(2 * time.Hour)
		if m.Refresh(context.Background()) != 1 || !strings.Contains(m.Status()[1].LastError, tc.want) {
			t.Errorf("%s: %+v", tc.name, m.Status()[1])
		}
		if _, ok := m.Snapshot().Trust.Anchor(jp.IACA); !ok {
			t.Errorf("%s: last good VICAL lost", tc.name)
		}
	}
}
