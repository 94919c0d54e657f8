package fetch

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/verify"
)

// DefaultMaxBody bounds a fetched body.
const DefaultMaxBody = 32 << 20

// maxDiscovered bounds the sources taps may add.
const maxDiscovered = 256

// Discover says whether and how URLs revealed by taps are fetched.
type Discover struct {
	Enabled         bool
	Refresh, MaxAge time.Duration
}

// Options configure a [Manager].
type Options struct {
	// CacheDir holds the last good copy of every fetched source. It is
	// created when missing.
	CacheDir string
	// Client fetches; nil means a client with a 30 s timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sources are the configured sources.
	Sources []Source
	// Extra anchors are trusted besides the sources (the demo issuers).
	Extra []*x509.Certificate
	// VICAL verifies VICAL sources; nil means VerifyVICAL.
	VICAL VICALFunc
	// CRLDistributionPoints and MSOStatusLists add the CRL URLs of DS
	// certificates and the status list URIs of MSOs that taps reveal
	// (see [Manager.Observe]).
	CRLDistributionPoints, MSOStatusLists Discover
	// OnSwap, when set, is called with every new snapshot, from the
	// goroutine that built it.
	OnSwap func(*Snapshot)
	// MaxBody bounds a fetched body; zero means DefaultMaxBody.
	MaxBody int64
}

// Manager owns the sources, their cache and the current snapshot. Its
// methods are safe for concurrent use.
type Manager struct {
	opts Options

	mu      sync.Mutex
	states  map[string]*state
	order   []string // source names in configured order, discovered last
	wake    chan struct{}
	snap    atomic.Pointer[Snapshot]
	fetchMu sync.Mutex // one refresh at a time
}

// state is what the manager knows of one source.
type state struct {
	src       Source
	data      []byte // last good copy
	fetchedAt time.Time
	// issued orders copies of one source: thisUpdate of a CRL, iat of a
	// token, the VICAL's fetch time. A fetch that is older is refused.
	issued      time.Time
	nextAttempt time.Time
	consecutive int
	failures    uint64
	lastErr     string
	anchors     int
	// nextUpdate is the nextUpdate of the VICAL in force, zero when none.
	nextUpdate time.Time
}

// staleAfter is when the copy in force goes stale: max_age after its
// fetch, or a VICAL's own nextUpdate when that is earlier.
func (st *state) staleAfter() time.Time {
	t := st.fetchedAt.Add(st.src.maxAge())
	if !st.nextUpdate.IsZero() && st.nextUpdate.Before(t) {
		return st.nextUpdate
	}
	return t
}

// New returns a manager for opts; call [Manager.Start] before use.
func New(opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.VICAL == nil {
		opts.VICAL = VerifyVICAL
	}
	m := &Manager{opts: opts, states: map[string]*state{}, wake: make(chan struct{}, 1)}
	for _, s := range opts.Sources {
		m.addLocked(s)
	}
	return m
}

func (m *Manager) addLocked(s Source) *state {
	n := s.Name()
	if st := m.states[n]; st != nil {
		return st
	}
	st := &state{src: s}
	m.states[n] = st
	m.order = append(m.order, n)
	return st
}

// Start reads the folders and the cache, with no network, and builds the
// first snapshot. Sources without a cached copy are fetched at the first
// refresh. An unreadable folder is an error; a bad cache file is ignored
// (recorded in the source status) and the source fetched again.
func (m *Manager) Start() error {
	snap, err := m.start()
	m.notify(snap)
	return err
}

func (m *Manager) start() (*Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	for _, d := range m.discoveredInCache() {
		if len(m.order) < len(m.opts.Sources)+maxDiscovered {
			m.addLocked(d)
		}
	}
	for _, n := range m.order {
		st := m.states[n]
		if st.src.Kind == KindFolder {
			if _, err := loadFolder(st.src.Path); err != nil {
				return nil, fmt.Errorf("trust source %s: %w", n, err)
			}
			st.fetchedAt = now
			continue
		}
		c, err := readCache(m.opts.CacheDir, n)
		if err != nil {
			if !errors.Is(err, errNoCache) {
				st.lastErr = err.Error()
			}
			continue
		}
		st.data, st.fetchedAt = c.Data, c.FetchedAt
	}
	return m.rebuildLocked(now)
}

// Snapshot returns the snapshot in force (nil before Start).
func (m *Manager) Snapshot() *Snapshot { return m.snap.Load() }

// Reload replaces the configured sources (SIGHUP): sources that stay keep
// their state and cached copy, new ones are read from the cache, removed
// ones are dropped. Folders are read again. The new snapshot is swapped
// in; on error (an unreadable folder) nothing changes.
func (m *Manager) Reload(sources []Source, extra []*x509.Certificate) error {
	snap, err := m.reload(sources, extra)
	m.notify(snap)
	return err
}

func (m *Manager) reload(sources []Source, extra []*x509.Certificate) (*Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	for _, s := range sources {
		if s.Kind == KindFolder {
			if _, err := loadFolder(s.Path); err != nil {
				return nil, fmt.Errorf("trust source %s: %w", s.Name(), err)
			}
		}
	}
	old, oldOrder := m.states, m.order
	m.states, m.order = map[string]*state{}, nil
	m.opts.Sources, m.opts.Extra = sources, extra
	for _, s := range sources {
		st := m.addLocked(s)
		if prev := old[s.Name()]; prev != nil {
			prev.src = s
			*st = *prev
		} else if s.Kind != KindFolder {
			if c, err := readCache(m.opts.CacheDir, s.Name()); err == nil {
				st.data, st.fetchedAt = c.Data, c.FetchedAt
			}
		}
		if s.Kind == KindFolder {
			st.fetchedAt = now
		}
	}
	for _, n := range oldOrder {
		if st := old[n]; st.src.Discovered && m.states[n] == nil {
			m.states[n] = st
			m.order = append(m.order, n)
		}
	}
	return m.rebuildLocked(now)
}

// Observe looks at a revocation query (a tap's DS certificate and MSO
// status) and, when discovery is on, adds the CRL distribution points and
// status list URIs it has not seen, to be fetched at once. It is cheap
// when nothing is new and safe to call from every tap.
func (m *Manager) Observe(q verify.RevocationQuery) {
	var add []Source
	if d := m.opts.CRLDistributionPoints; d.Enabled && q.DS != nil {
		for _, u := range q.DS.CRLDistributionPoints {
			add = append(add, Source{Kind: KindCRL, URL: u, Refresh: d.Refresh, MaxAge: d.MaxAge, Discovered: true})
		}
	}
	if d := m.opts.MSOStatusLists; d.Enabled && q.MSOStatus != nil {
		if ref, err := revocation.ParseReference(q.MSOStatus); err == nil {
			var uris []string
			if ref.StatusList != nil {
				uris = append(uris, ref.StatusList.URI)
			}
			if ref.IdentifierList != nil {
				uris = append(uris, ref.IdentifierList.URI)
			}
			for _, u := range uris {
				add = append(add, Source{Kind: KindStatusList, URL: u, Refresh: d.Refresh, MaxAge: d.MaxAge, Discovered: true})
			}
		}
	}
	if len(add) == 0 {
		return
	}
	m.mu.Lock()
	added := false
	for _, s := range add {
		if !fetchable(s.URL) || m.states[s.Name()] != nil || len(m.order) >= len(m.opts.Sources)+maxDiscovered {
			continue
		}
		m.addLocked(s)
		added = true
	}
	m.mu.Unlock()
	if added {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

func fetchable(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// Run refreshes the sources as they fall due, and at once when Observe
// adds one, until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	for {
		m.Refresh(ctx)
		wait := m.nextDue().Sub(m.opts.Now())
		if wait < time.Second {
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-m.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (m *Manager) nextDue() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.opts.Now().Add(time.Hour)
	for _, st := range m.states {
		if st.src.Kind != KindFolder && st.nextAttempt.Before(next) {
			next = st.nextAttempt
		}
	}
	return next
}

// RefreshAll makes every fetched source due and refreshes them now (an
// operator's request, a test); it returns the number that failed.
func (m *Manager) RefreshAll(ctx context.Context) int {
	m.mu.Lock()
	for _, st := range m.states {
		st.nextAttempt = time.Time{}
	}
	m.mu.Unlock()
	return m.Refresh(ctx)
}

// Refresh fetches every source that is due (never fetched, or its refresh
// interval passed since the last attempt; after a failure sooner, with
// backoff), verifies and caches what it got, and swaps in a new snapshot
// when anything changed. It returns the number of sources that failed.
func (m *Manager) Refresh(ctx context.Context) int {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	now := m.opts.Now()
	m.mu.Lock()
	var due []Source
	for _, n := range m.order {
		st := m.states[n]
		if st.src.Kind != KindFolder && !now.Before(st.nextAttempt) {
			due = append(due, st.src)
		}
	}
	m.mu.Unlock()
	failed, changed := 0, false
	for _, s := range due {
		data, err := m.get(ctx, s.URL)
		m.mu.Lock()
		st := m.states[s.Name()]
		if st == nil { // removed by a reload meanwhile
			m.mu.Unlock()
			continue
		}
		now = m.opts.Now()
		if err == nil {
			err = m.acceptLocked(st, data, now)
		}
		if err != nil {
			failed++
			st.failures++
			st.consecutive++
			st.lastErr = err.Error()
			st.nextAttempt = now.Add(backoff(st.consecutive, st.src.refresh()))
		} else {
			st.consecutive, st.lastErr = 0, ""
			st.nextAttempt = now.Add(st.src.refresh())
			changed = true
		}
		m.mu.Unlock()
	}
	if changed {
		m.mu.Lock()
		snap, err := m.rebuildLocked(m.opts.Now())
		m.mu.Unlock()
		if err != nil {
			failed++
		}
		m.notify(snap)
	}
	return failed
}

// backoff is the wait before retrying a source that failed n times in a
// row: 1 min, doubling, at most the refresh interval.
func backoff(n int, max time.Duration) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// get fetches u with the body bounded.
func (m *Manager) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	resp, err := m.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: HTTP status %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, m.opts.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	if int64(len(data)) > m.opts.MaxBody {
		return nil, fmt.Errorf("fetching %s: body larger than %d bytes", u, m.opts.MaxBody)
	}
	return data, nil
}

// acceptLocked verifies fetched data against the anchors in force, refuses
// a copy older than the one held, writes it to the cache and makes it the
// source's good copy.
func (m *Manager) acceptLocked(st *state, data []byte, now time.Time) error {
	var trust []*x509.Certificate
	if s := m.snap.Load(); s != nil {
		trust = s.Trust.Certificates()
	}
	issued, err := m.check(st.src, data, trust, now)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", st.src.URL, err)
	}
	if st.data != nil && !st.issued.IsZero() && issued.Before(st.issued) {
		return fmt.Errorf("verifying %s: the copy served (%s) is older than the one held (%s)",
			st.src.URL, issued.UTC().Format(time.RFC3339), st.issued.UTC().Format(time.RFC3339))
	}
	if err := writeCache(m.opts.CacheDir, st.src, data, now); err != nil {
		return err
	}
	st.data, st.fetchedAt, st.issued = data, now, issued
	return nil
}

// check verifies data as the source's kind and returns its issue time.
func (m *Manager) check(s Source, data []byte, trust []*x509.Certificate, now time.Time) (time.Time, error) {
	switch s.Kind {
	case KindCRL:
		c, err := revocation.LoadCRL(data, trust)
		if err != nil {
			return time.Time{}, err
		}
		return c.ThisUpdate, nil
	case KindStatusList:
		t, err := revocation.ParseToken(data)
		if err != nil {
			return time.Time{}, err
		}
		if t.Subject != s.URL {
			return time.Time{}, fmt.Errorf("fetch: token sub %q is not its URL", t.Subject)
		}
		if !chainsToAny(t, trust, now) {
			return time.Time{}, fmt.Errorf("fetch: token x5chain chains to no trusted IACA")
		}
		return t.IssuedAt, nil
	case KindVICAL:
		res, err := m.opts.VICAL(data, s.Anchors, now)
		if err != nil {
			return time.Time{}, err
		}
		issued := res.Issued
		if issued.IsZero() {
			issued = now
		}
		return issued, nil
	}
	return time.Time{}, fmt.Errorf("fetch: source kind %q is not fetched", s.Kind)
}

// chainsToAny reports whether the token's chain tops out at one of the
// anchors. (A token trusted through an MSO's own certificate element is
// checked per document by the revocation checker; here it must at least
// come from a known IACA to be worth keeping.)
func chainsToAny(t *revocation.Token, trust []*x509.Certificate, now time.Time) bool {
	for _, c := range trust {
		if t.SignedBy(c, now) == nil {
			return true
		}
	}
	return false
}

// loadFolder reads a folder source. A directory that is still empty (no
// files but hidden ones) gives no anchor and is no error: a freshly
// installed terminal starts and rejects every document as
// issuer_untrusted until certificates are put there and it is reloaded.
func loadFolder(path string) (*verify.TrustStore, error) {
	ts, err := verify.LoadTrustStore(path)
	if err == nil {
		return ts, nil
	}
	entries, rerr := os.ReadDir(path)
	if rerr != nil {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			return nil, err
		}
	}
	return verify.NewTrustStore(), nil
}

// Snapshot is one consistent view of the trust: the anchors and the
// revocation data in force, and the sources they came from.
type Snapshot struct {
	// Trust holds every anchor with its metadata (AnchorInfo.Source names
	// the source).
	Trust *verify.TrustStore
	// Revocation holds the verified CRLs and list tokens, and when the
	// VICAL copies that gave anchors go stale; nil when no CRL, status
	// list or VICAL source is configured.
	Revocation *revocation.Set
	// Built is when the snapshot was made.
	Built time.Time
	// Anchors lists every anchor with the name of its source, in order.
	Anchors []SourcedAnchor
}

// SourcedAnchor is an anchor and the source that gave it.
type SourcedAnchor struct {
	Anchor
	Source string
}

// rebuildLocked builds a snapshot from the good copies: anchors first
// (extra, folders, VICALs), then the CRLs and tokens verified against them.
func (m *Manager) rebuildLocked(now time.Time) (*Snapshot, error) {
	snap := &Snapshot{Trust: verify.NewTrustStore(), Built: now}
	add := func(src string, a Anchor) {
		if _, ok := snap.Trust.Anchor(a.Cert); ok {
			return
		}
		snap.Trust.AddAnchors(a.Info, a.Cert)
		snap.Anchors = append(snap.Anchors, SourcedAnchor{Anchor: a, Source: src})
	}
	for _, c := range m.opts.Extra {
		add("extra", Anchor{Cert: c, Info: verify.AnchorInfo{Source: "extra"}})
	}
	hasRevocation := false
	staleAnchors := map[string]time.Time{} // VICAL anchor sources
	for _, n := range m.order {
		st := m.states[n]
		st.anchors = 0
		switch st.src.Kind {
		case KindFolder:
			ts, err := loadFolder(st.src.Path)
			if err != nil {
				return nil, fmt.Errorf("trust source %s: %w", n, err)
			}
			for _, c := range ts.Certificates() {
				info, _ := ts.Anchor(c)
				if fi, err := os.Stat(st.src.Path); err == nil && fi.IsDir() {
					info.Source = filepath.Join(st.src.Path, info.Source)
				} else {
					info.Source = st.src.Path
				}
				add(n, Anchor{Cert: c, Info: info})
				st.anchors++
			}
		case KindVICAL:
			if st.data == nil {
				continue
			}
			res, err := m.opts.VICAL(st.data, st.src.Anchors, now)
			if err != nil {
				st.lastErr = "cached copy: " + err.Error()
				continue
			}
			hasRevocation = true
			st.issued, st.nextUpdate = res.Issued, res.NextUpdate
			for _, a := range res.Anchors {
				if a.Info.Source == "" {
					a.Info.Source = n
				}
				add(n, a)
				staleAnchors[a.Info.Source] = st.staleAfter()
				st.anchors++
			}
		case KindCRL, KindStatusList:
			hasRevocation = true
		}
	}
	if hasRevocation {
		snap.Revocation = revocation.NewSet()
		for src, t := range staleAnchors {
			snap.Revocation.AddAnchorSource(src, t)
		}
		trust := snap.Trust.Certificates()
		for _, n := range m.order {
			st := m.states[n]
			if st.data == nil {
				continue
			}
			staleAfter := st.fetchedAt.Add(st.src.maxAge())
			switch st.src.Kind {
			case KindCRL:
				c, err := revocation.LoadCRL(st.data, trust)
				if err != nil {
					st.lastErr = "cached copy: " + err.Error()
					continue
				}
				st.issued = c.ThisUpdate
				snap.Revocation.AddCRL(c, staleAfter)
			case KindStatusList:
				t, err := revocation.ParseToken(st.data)
				if err != nil {
					st.lastErr = "cached copy: " + err.Error()
					continue
				}
				st.issued = t.IssuedAt
				snap.Revocation.AddToken(t, staleAfter)
			}
		}
	}
	m.snap.Store(snap)
	return snap, nil
}

// notify hands a new snapshot to OnSwap; called without m.mu held.
func (m *Manager) notify(s *Snapshot) {
	if s != nil && m.opts.OnSwap != nil {
		m.opts.OnSwap(s)
	}
}

// Status reports every source at the manager's current time, configured
// sources first in order, then discovered ones.
func (m *Manager) Status() []SourceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	out := make([]SourceStatus, 0, len(m.order))
	for _, n := range m.order {
		st := m.states[n]
		s := SourceStatus{Name: n, Kind: st.src.Kind, Location: st.src.URL, Discovered: st.src.Discovered,
			FetchedAt: st.fetchedAt, MaxAge: st.src.maxAge(), Anchors: st.anchors,
			Failures: st.failures, LastError: st.lastErr}
		if st.src.Kind == KindFolder {
			s.Location, s.Loaded = st.src.Path, true
		} else {
			s.Loaded = st.data != nil
		}
		if !st.fetchedAt.IsZero() {
			s.Age = now.Sub(st.fetchedAt)
			secs := s.Age.Seconds()
			s.AgeSecs = &secs
		}
		s.Stale = st.src.Kind != KindFolder && (!s.Loaded || s.Age > s.MaxAge ||
			(!st.nextUpdate.IsZero() && !now.Before(st.nextUpdate)))
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return !out[i].Discovered && out[j].Discovered })
	return out
}

// Stale returns the names of the stale sources.
func (m *Manager) Stale() []string {
	var out []string
	for _, s := range m.Status() {
		if s.Stale {
			out = append(out, s.Name)
		}
	}
	return out
}
