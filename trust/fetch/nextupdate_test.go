package fetch

import (
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/verify"
	"github.com/idreader/idreader/vical/vicaltest"
)

// TestVICALPastNextUpdate: a VICAL past its own nextUpdate is stale in the
// daemon as `idreader vical` says (vical_stale), however recently fetched
// and however long max_age is; its anchors stay in force (last good copy)
// and the profile's revocation rule decides their documents.
func TestVICALPastNextUpdate(t *testing.T) {
	f := newFixture(t)
	other, err := pki.New(pki.Options{Rand: seeded(21), Now: t0, Country: "JP"})
	if err != nil {
		t.Fatal(err)
	}
	vp, err := vicaltest.NewPKI(seeded(22), vicaltest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(date, next time.Time) []byte {
		data, err := vp.Sign(seeded(23), vicaltest.List{Provider: "Test", Date: date, NextUpdate: next, IssueID: 1,
			Entries: []vicaltest.Entry{{Certificate: other.IACA, DocTypes: []string{"org.iso.18013.5.1.mDL"}, Country: "JP"}}})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	srv := newServer(t)
	srv.serve(sign(t0.Add(-24*time.Hour), t0.Add(time.Hour)))
	src := Source{Kind: KindVICAL, URL: srv.URL + "/vical", Anchors: []*x509.Certificate{vp.Root}, Refresh: time.Hour, MaxAge: 720 * time.Hour}
	m := New(Options{CacheDir: f.cache, Client: srv.Client(), Now: f.clock.Now,
		Sources: []Source{{Kind: KindFolder, Path: f.folder}, src}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if n := m.Refresh(context.Background()); n != 0 {
		t.Fatal(m.Status())
	}
	info, ok := m.Snapshot().Trust.Anchor(other.IACA)
	if !ok {
		t.Fatal("VICAL anchor not installed")
	}
	if st := m.Status()[1]; st.Stale || !st.Loaded || len(m.Stale()) != 0 {
		t.Fatalf("fresh VICAL: %+v", st)
	}
	q := verify.RevocationQuery{DS: other.DS, IACA: other.IACA, Anchor: info, Now: f.clock.Now()}
	chk := revocation.Checker{Set: m.Snapshot().Revocation, Mode: revocation.Hard}
	if r := chk.CheckRevocation(q); strings.Contains(r.Detail, "anchor source") {
		t.Errorf("fresh VICAL reported stale: %+v", r)
	}

	// Two hours on, well within max_age but past nextUpdate; the server
	// is down, so the copy in force stays.
	srv.serve([]byte("garbage"))
	f.clock.Add(2 * time.Hour)
	m.Refresh(context.Background())
	st := m.Status()[1]
	if !st.Stale || !st.Loaded || st.Age > st.MaxAge {
		t.Errorf("VICAL past nextUpdate: %+v", st)
	}
	if !slices.Contains(m.Stale(), st.Name) {
		t.Errorf("Stale() = %v", m.Stale())
	}
	if _, ok := m.Snapshot().Trust.Anchor(other.IACA); !ok {
		t.Error("anchors of the stale VICAL dropped")
	}
	q.Now = f.clock.Now()
	chk.Set = m.Snapshot().Revocation
	if r := chk.CheckRevocation(q); r.Status != verify.RevocationUnknown || !strings.Contains(r.Detail, "anchor source") {
		t.Errorf("hard profile, stale VICAL: %+v", r)
	}
	if r := (revocation.Checker{Set: m.Snapshot().Revocation, Mode: revocation.Soft}).CheckRevocation(q); r.Status == verify.RevocationRevoked {
		t.Errorf("soft profile, stale VICAL: %+v", r)
	}

	// Restart offline on the cached copy: still stale, still in force.
	off := New(Options{CacheDir: f.cache, Client: deadClient, Now: f.clock.Now,
		Sources: []Source{{Kind: KindFolder, Path: f.folder}, src}})
	if err := off.Start(); err != nil {
		t.Fatal(err)
	}
	if st := off.Status()[1]; !st.Stale || !st.Loaded {
		t.Errorf("cached VICAL past nextUpdate: %+v", st)
	}
	if _, ok := off.Snapshot().Trust.Anchor(other.IACA); !ok {
		t.Error("cached VICAL not in force")
	}

	// A newer VICAL with a nextUpdate ahead makes the source fresh again.
	srv.serve(sign(t0.Add(time.Hour), t0.Add(48*time.Hour)))
	f.clock.Add(time.Hour)
	if n := m.Refresh(context.Background()); n != 0 {
		t.Fatal(m.Status())
	}
	if st := m.Status()[1]; st.Stale {
		t.Errorf("renewed VICAL: %+v", st)
	}
}
