package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"math/big"

	"github.com/idreader/idreader/revocation/revocationtest"
)

// The daemon fetches the US issuer's CRL; once it lists the document
// signer, taps are rejected as revoked from the next tap on, and a refresh
// that serves garbage keeps the CRL in force.
func TestDaemonRevocationRefresh(t *testing.T) {
	dir := t.TempDir()
	var a *app
	var revoke, garbage atomic.Bool
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if garbage.Load() {
			w.Write([]byte("garbage"))
			return
		}
		us := a.world.US
		var serials []*big.Int
		if revoke.Load() {
			serials = append(serials, us.DS.SerialNumber)
		}
		now := time.Now()
		der, err := revocationtest.CRL(rand.Reader, us.IACA, us.IACAKey, serials, now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(der)
	}))
	defer srv.Close()
	cfg := strings.Replace(simConfig, "PROFILE", "age-21", 1) +
		"trust:\n  cache: cache\n  crls:\n    - {url: " + srv.URL + "/us.crl, refresh: 1m, max_age: 1h}\n" +
		"profiles:\n  strict:\n    documents: [{doctype: mdl, elements: {org.iso.18013.5.1: [age_over_21, portrait]}}]\n    revocation: hard\n"
	cfg = strings.Replace(cfg, "profile: age-21", "profile: strict", 1)
	cfgPath := filepath.Join(dir, "idreaderd.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	o, err := parseFlags([]string{"--config", cfgPath}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	a, err = newApp(o, stdout, stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, nil) }()
	audit := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
		return string(b)
	}
	waitFor(t, "an accepted tap with the CRL fetched", func() bool {
		return hits.Load() > 0 && strings.Contains(audit(), `"decision":"accept"`)
	})
	if st := a.trust.Status(); len(st) != 1 || !st[0].Loaded || st[0].Stale {
		t.Errorf("status: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "cache")); err != nil {
		t.Errorf("cache: %v", err)
	}

	revoke.Store(true)
	a.trust.RefreshAll(ctx)
	waitFor(t, "a tap rejected as revoked", func() bool { return strings.Contains(audit(), `"reasons":["revoked"]`) })

	garbage.Store(true)
	failed := a.trust.Status()[0].Failures
	a.trust.RefreshAll(ctx)
	if st := a.trust.Status()[0]; st.Failures <= failed || !st.Loaded {
		t.Errorf("after garbage: %+v", st)
	}
	n := strings.Count(audit(), `"reasons":["revoked"]`)
	waitFor(t, "still revoked after garbage", func() bool { return strings.Count(audit(), `"reasons":["revoked"]`) > n })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
