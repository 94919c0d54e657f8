package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/idreader/idreader/trust/fetch"
	"github.com/idreader/idreader/verify"
)

// DefaultCacheDir is where the daemon keeps the last good copy of every
// fetched trust source.
const DefaultCacheDir = "/var/lib/idreaderd"

// Defaults of the refreshed sources (fetch.DefaultRefresh, fetch.DefaultMaxAge).
const (
	DefaultRefresh = fetch.DefaultRefresh
	DefaultMaxAge  = fetch.DefaultMaxAge
)

// Trust is the trust section:
//
//	trust:
//	  folders: [pki/iaca.pem, /etc/idreader/iaca]   # IACA files and directories
//	  cache: /var/lib/idreaderd                     # last good copies (default)
//	  vicals:                                       # ISO/IEC 18013-5 Annex C
//	    - {url: https://..., anchor: vical-root.pem, refresh: 24h, max_age: 720h}
//	  crls:                                         # CRLs at fixed URLs
//	    - {url: http://crl.example/iaca.crl, refresh: 6h, max_age: 168h}
//	  crl_distribution_points: {enabled: true, refresh: 6h, max_age: 168h}
//	  status_lists:                                 # MSO status lists at fixed URLs
//	    - {url: https://status.example/1, refresh: 1h, max_age: 24h}
//	  mso_status_lists: {enabled: true, refresh: 1h, max_age: 24h}
//
// crl_distribution_points fetches the CRL of every document signer
// certificate's distribution point as taps show them; mso_status_lists
// the status lists MSOs point at. The list form `trust: [a, b]` means
// folders only.
type Trust struct {
	Folders               []string   `yaml:"folders"`
	Cache                 string     `yaml:"cache"`
	VICALs                []VICAL    `yaml:"vicals"`
	CRLs                  []Fetched  `yaml:"crls"`
	CRLDistributionPoints Discovered `yaml:"crl_distribution_points"`
	StatusLists           []Fetched  `yaml:"status_lists"`
	MSOStatusLists        Discovered `yaml:"mso_status_lists"`
	listForm              bool
}

var trustType = reflect.TypeOf(Trust{})

// VICAL is a VICAL fetched from URL and verified against the anchor file
// (a PEM or DER certificate).
type VICAL struct {
	URL     string   `yaml:"url"`
	Anchor  string   `yaml:"anchor"`
	Refresh Duration `yaml:"refresh"`
	MaxAge  Duration `yaml:"max_age"`
}

// Fetched is a CRL or status list at a fixed URL.
type Fetched struct {
	URL     string   `yaml:"url"`
	Refresh Duration `yaml:"refresh"`
	MaxAge  Duration `yaml:"max_age"`
}

// Discovered turns on fetching of the URLs taps reveal.
type Discovered struct {
	Enabled bool     `yaml:"enabled"`
	Refresh Duration `yaml:"refresh"`
	MaxAge  Duration `yaml:"max_age"`
}

// CacheDir returns the cache directory, resolved against the configuration
// file's directory; DefaultCacheDir when unset.
func (c *Config) CacheDir() string {
	if c.Trust.Cache == "" {
		return DefaultCacheDir
	}
	return c.resolve(c.Trust.Cache)
}

// Fetches reports whether any source is fetched over the network.
func (t *Trust) Fetches() bool {
	return len(t.VICALs) > 0 || len(t.CRLs) > 0 || len(t.StatusLists) > 0 ||
		t.CRLDistributionPoints.Enabled || t.MSOStatusLists.Enabled
}

// RefreshOr returns d, or def when d is zero.
func RefreshOr(d Duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d.D()
}

// ResolvePath resolves a path of the configuration against its file's
// directory.
func (c *Config) ResolvePath(p string) string { return c.resolve(p) }

func (t *Trust) folderPath(i int) string {
	if t.listForm {
		return fmt.Sprintf("trust[%d]", i)
	}
	return fmt.Sprintf("trust.folders[%d]", i)
}

func (c *Config) validateTrust(e *errList) {
	t := &c.Trust
	for i, f := range t.Folders {
		if _, err := os.Stat(c.resolve(f)); err != nil {
			e.add(t.folderPath(i), "%v", err)
		}
	}
	if len(t.Folders) == 0 && len(t.VICALs) == 0 && !c.Demo {
		e.add("trust", "no IACA trust anchors: list certificate files or directories, or a VICAL")
	}
	checkURL := func(path, u string) {
		p, err := url.Parse(u)
		if u == "" || err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			e.add(path+".url", "want an http or https URL, got %q", u)
		}
	}
	checkTimes := func(path string, refresh, maxAge Duration) {
		if refresh != 0 && refresh.D() < time.Minute {
			e.add(path+".refresh", "refresh every %s is too often (at least 1m)", refresh.D())
		}
		if maxAge != 0 && maxAge.D() < RefreshOr(refresh, DefaultRefresh) {
			e.add(path+".max_age", "max_age %s is shorter than the refresh interval", maxAge.D())
		}
	}
	for i, v := range t.VICALs {
		p := fmt.Sprintf("trust.vicals[%d]", i)
		checkURL(p, v.URL)
		checkTimes(p, v.Refresh, v.MaxAge)
		if v.Anchor == "" {
			e.add(p, "anchor missing: the certificate the VICAL signer chains to")
		} else if _, err := os.Stat(c.resolve(v.Anchor)); err != nil {
			e.add(p+".anchor", "%v", err)
		}
	}
	for i, f := range t.CRLs {
		p := fmt.Sprintf("trust.crls[%d]", i)
		checkURL(p, f.URL)
		checkTimes(p, f.Refresh, f.MaxAge)
	}
	for i, f := range t.StatusLists {
		p := fmt.Sprintf("trust.status_lists[%d]", i)
		checkURL(p, f.URL)
		checkTimes(p, f.Refresh, f.MaxAge)
	}
	checkTimes("trust.crl_distribution_points", t.CRLDistributionPoints.Refresh, t.CRLDistributionPoints.MaxAge)
	checkTimes("trust.mso_status_lists", t.MSOStatusLists.Refresh, t.MSOStatusLists.MaxAge)
}

// TrustSources returns the sources of the trust section for the refresh
// (package trust/fetch): the folders, then the VICALs (with their anchor
// certificates read), CRLs and status lists, paths resolved against the
// configuration file.
func (c *Config) TrustSources() ([]fetch.Source, error) {
	t := &c.Trust
	var out []fetch.Source
	for _, f := range t.Folders {
		out = append(out, fetch.Source{Kind: fetch.KindFolder, Path: c.resolve(f)})
	}
	e := &errList{c: c}
	for i, v := range t.VICALs {
		p := c.resolve(v.Anchor)
		b, err := os.ReadFile(p)
		var anchors []*x509.Certificate
		if err == nil {
			anchors, err = verify.ParseCertificates(b)
		}
		if err != nil {
			e.add(fmt.Sprintf("trust.vicals[%d].anchor", i), "%v", err)
			continue
		}
		out = append(out, fetch.Source{Kind: fetch.KindVICAL, URL: v.URL, Anchors: anchors, Refresh: v.Refresh.D(), MaxAge: v.MaxAge.D()})
	}
	for _, f := range t.CRLs {
		out = append(out, fetch.Source{Kind: fetch.KindCRL, URL: f.URL, Refresh: f.Refresh.D(), MaxAge: f.MaxAge.D()})
	}
	for _, f := range t.StatusLists {
		out = append(out, fetch.Source{Kind: fetch.KindStatusList, URL: f.URL, Refresh: f.Refresh.D(), MaxAge: f.MaxAge.D()})
	}
	if len(e.errs) > 0 {
		return nil, errors.Join(e.errs...)
	}
	return out, nil
}

// TrustOptions returns the refresh options of the trust section (cache
// directory, sources, discovery); the caller adds the clock, the HTTP
// client, the VICAL verifier and OnSwap.
func (c *Config) TrustOptions(extra ...*x509.Certificate) (fetch.Options, error) {
	srcs, err := c.TrustSources()
	if err != nil {
		return fetch.Options{}, err
	}
	t := &c.Trust
	return fetch.Options{
		CacheDir: c.CacheDir(), Sources: srcs, Extra: extra,
		CRLDistributionPoints: fetch.Discover{Enabled: t.CRLDistributionPoints.Enabled,
			Refresh: t.CRLDistributionPoints.Refresh.D(), MaxAge: t.CRLDistributionPoints.MaxAge.D()},
		MSOStatusLists: fetch.Discover{Enabled: t.MSOStatusLists.Enabled,
			Refresh: t.MSOStatusLists.Refresh.D(), MaxAge: t.MSOStatusLists.MaxAge.D()},
	}, nil
}

// LoadTrust reads the configuration file at path for its trust section
// only: the `trust:` key (and `demo:`, which adds the simulated issuers)
// is decoded and validated, with file:line errors as Load gives; every
// other section is ignored, neither checked nor opened. It serves
// `idreader trust list`, which needs no readers, outputs or identities.
func LoadTrust(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseTrust(path, data)
}

// ParseTrust is LoadTrust over data already read; name is the file name
// used in errors and to resolve relative paths.
func ParseTrust(name string, data []byte) (*Config, error) {
	c := &Config{Path: name}
	d := &decoder{file: name, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// The syntax error, with its line, as Parse reports it.
		d.parseYAML(data, c)
		return nil, errors.Join(d.errs...)
	}
	n := &root
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.MappingNode {
		v := reflect.ValueOf(c).Elem()
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			var field reflect.Value
			switch k.Value {
			case "trust":
				field = v.FieldByName("Trust")
			case "demo":
				field = v.FieldByName("Demo")
			default:
				continue
			}
			d.lines[k.Value] = k.Line
			d.decode(val, k.Value, field)
		}
	} else if len(root.Content) > 0 {
		d.errorf(n.Line, "", "want a mapping, got %s", kindName(n))
	}
	c.lines = d.lines
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	e := &errList{c: c}
	c.validateTrust(e)
	if len(e.errs) > 0 {
		return nil, errors.Join(e.errs...)
	}
	return c, nil
}
