package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cacheFile is one cached copy: JSON, so a copy carries its source and
// fetch time and one rename replaces all of it.
type cacheFile struct {
	Name       string    `json:"name"`
	Kind       Kind      `json:"kind"`
	URL        string    `json:"url"`
	Discovered bool      `json:"discovered,omitempty"`
	Refresh    float64   `json:"refreshSeconds,omitempty"`
	MaxAge     float64   `json:"maxAgeSeconds,omitempty"`
	FetchedAt  time.Time `json:"fetchedAt"`
	Data       []byte    `json:"data"`
}

var errNoCache = errors.New("fetch: no cached copy")

// cachePath names the cache file of a source by a hash of its name, so any
// URL makes a safe file name.
func cachePath(dir, name string) string {
	h := sha256.Sum256([]byte(name))
	return filepath.Join(dir, "trust-"+hex.EncodeToString(h[:12])+".json")
}

func readCache(dir, name string) (*cacheFile, error) {
	if dir == "" {
		return nil, errNoCache
	}
	b, err := os.ReadFile(cachePath(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoCache
	}
	if err != nil {
		return nil, fmt.Errorf("reading cache: %w", err)
	}
	var c cacheFile
	if err := json.Unmarshal(b, &c); err != nil || c.Name != name || len(c.Data) == 0 {
		return nil, fmt.Errorf("reading cache of %s: not a cache file", name)
	}
	return &c, nil
}

// writeCache writes the copy atomically: a temporary file in the same
// directory, synced, then renamed over the old one.
func writeCache(dir string, s Source, data []byte, now time.Time) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	b, err := json.Marshal(cacheFile{Name: s.Name(), Kind: s.Kind, URL: s.URL, Discovered: s.Discovered,
		Refresh: s.Refresh.Seconds(), MaxAge: s.MaxAge.Seconds(), FetchedAt: now.UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".trust-*.tmp")
	if err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, cachePath(dir, s.Name()))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing cache: %w", err)
	}
	return nil
}

// discoveredInCache returns the discovered sources that have a cached copy,
// so they are in force after a restart with no network.
func (m *Manager) discoveredInCache() []Source {
	dir := m.opts.CacheDir
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []Source
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "trust-") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var c cacheFile
		if json.Unmarshal(b, &c) != nil || !c.Discovered {
			continue
		}
		var d Discover
		switch c.Kind {
		case KindCRL:
			d = m.opts.CRLDistributionPoints
		case KindStatusList:
			d = m.opts.MSOStatusLists
		}
		if !d.Enabled || !fetchable(c.URL) {
			continue
		}
		s := Source{Kind: c.Kind, URL: c.URL, Refresh: d.Refresh, MaxAge: d.MaxAge, Discovered: true}
		if s.Name() == c.Name {
			out = append(out, s)
		}
	}
	return out
}
