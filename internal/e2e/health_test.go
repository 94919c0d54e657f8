package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/session"
)

// healthBudget is how soon /healthz and idreader_reader_up must follow
// pcscd going away or coming back.
const healthBudget = time.Second

// readerHealth is the reader "counter" as /healthz and /metrics show it.
type readerHealth struct {
	status  string // /healthz "status"
	up      bool   // the reader's "up"
	reason  string // the reader's "reason"
	metric  string // idreader_reader_up{reader="counter"}
	healthz string // the body, for messages
}

func getHealth(t *testing.T, addr string) readerHealth {
	t.Helper()
	var h readerHealth
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h.healthz = string(b)
	var body struct {
		Status  string
		Readers []struct {
			Name   string
			Up     bool
			Reason string
		}
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("/healthz %s: %v", b, err)
	}
	h.status = body.Status
	for _, r := range body.Readers {
		if r.Name == "counter" {
			h.up, h.reason = r.Up, r.Reason
		}
	}
	resp, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, `idreader_reader_up{reader="counter"} `); ok {
			h.metric = v
		}
	}
	return h
}

// waitHealth polls until ok holds and returns how long it took, failing
// after budget.
func waitHealth(t *testing.T, addr string, budget time.Duration, what string, ok func(readerHealth) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		h := getHealth(t, addr)
		if ok(h) {
			return time.Since(start)
		}
		if time.Since(start) > budget {
			t.Fatalf("%s: not within %v: /healthz %s, idreader_reader_up %q", what, budget, h.healthz, h.metric)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHealthFollowsPCSCD: with idreaderd on a PC/SC reader, stopping pcscd
// turns the reader's /healthz entry and idreader_reader_up down within 1 s,
// with the reason; starting pcscd again turns them back up, and a tap is
// then served.
func TestHealthFollowsPCSCD(t *testing.T) {
	info := rig.Require(t)
	d := startIdreaderd(t, info)
	if h := getHealth(t, d.addr); !h.up || h.metric != "1" || h.status != "ok" {
		t.Fatalf("not up at the start: %s / %q", h.healthz, h.metric)
	}
	for round := range 2 {
		rig.StopPCSCD(t)
		took := waitHealth(t, d.addr, healthBudget, "down after pcscd stopped", func(h readerHealth) bool {
			return !h.up && h.metric == "0" && h.status == "down"
		})
		h := getHealth(t, d.addr)
		if !strings.Contains(h.reason, "pcscd is not running") {
			t.Errorf("reason %q does not say pcscd is not running", h.reason)
		}
		t.Logf("round %d: down %v after pcscd stopped: %s", round, took.Round(time.Millisecond), h.reason)

		rig.StartPCSCD(t)
		took = waitHealth(t, d.addr, healthBudget, "up after pcscd started", func(h readerHealth) bool {
			return h.up && h.metric == "1" && h.status == "ok" && h.reason == ""
		})
		t.Logf("round %d: up %v after pcscd started", round, took.Round(time.Millisecond))
	}

	// The next tap is served.
	f := getFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cardCtx, leave := context.WithCancel(ctx)
	defer leave()
	w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl},
		OnDone: func(wallet.Report) { leave() }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := vpcd.Tap(cardCtx, info.VPCD[0], w); err != nil && !errors.Is(err, vpcd.ErrDisconnected) && cardCtx.Err() == nil {
		t.Fatalf("card: %v", err)
	}
	if r := w.Report(); r.Responses != 1 || !r.Terminated || !slices.Equal(r.Received, []session.Status{session.StatusTermination}) {
		t.Errorf("tap after pcscd came back: %d responses, terminated %v, received %v, err %v", r.Responses, r.Terminated, r.Received, r.Err)
	}
}
