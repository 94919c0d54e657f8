package e2e

import (
	"bufio"
	"context"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idreader/idreader/api"
	"github.com/idreader/idreader/api/display"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
)

// soakWarmup is how many taps run before the soak takes its baseline.
const soakWarmup = 200

// drainStream reads an event stream (SSE) until ctx ends, counting its data
// lines and keeping nothing.
func drainStream(tb testing.TB, ctx context.Context, url string, lines *atomic.Int64) <-chan struct{} {
	tb.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data:") {
				lines.Add(1)
			}
		}
	}()
	return done
}

// TestSoak runs -soak.taps taps (make soak: 10,000) through pcscd + vpcd in
// the daemon, with its HTTP side as cmd/idreaderd serves it, the POS event
// stream and the kiosk display stream attached, and a point-of-sale check
// armed before every tenth tap. After soakWarmup taps it takes the
// baseline; at the end it reports RSS, heap, goroutines and open fds, and
// fails when RSS grew more than 2 MB or goroutines or fds grew at all
// (beyond a small slack for lazily started runtime goroutines).
func TestSoak(t *testing.T) {
	if *soakTaps <= 0 {
		t.Skip("soak: run with -soak.taps N (make soak)")
	}
	n := *soakTaps
	f := getFixture(t)
	ln, err := api.ListenTCP(context.Background(), "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(ctx context.Context, d *daemon.Daemon) error {
		m := api.NewMetrics(d)
		m.Start()
		defer m.Stop()
		h := api.New(api.Options{
			Service: d, Metrics: m,
			Display: display.New(display.Options{Service: d, ClearAfter: 8 * time.Second}),
		})
		return api.Serve(ctx, h, 2*time.Second, ln)
	}
	r := startRigDaemonWith(t, f, rigOptions{profile: "age-21", log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), beside: serve})
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var posLines, kioskLines atomic.Int64
	posDone := drainStream(t, ctx, base+"/v1/events", &posLines)
	kioskDone := drainStream(t, ctx, base+"/display/events", &kioskLines)
	defer func() {
		cancel()
		<-posDone
		<-kioskDone
	}()
	ar := &apiRig{rigDaemon: r, base: base}

	good := wallet.Config{Credentials: []*credential.Credential{f.mdl}}
	bad := wallet.Config{Credentials: []*credential.Credential{f.mnc}}
	tap := func(i int) {
		var ans <-chan httpAnswer
		if i%10 == 0 {
			ans = ar.postCheck(t, `{"profile":"age-21","timeout":"20s"}`)
		}
		cfg, want := good, "accept"
		if i%2 == 1 {
			cfg, want = bad, "reject"
		}
		e := r.tap(t, cfg)
		if e.Kind != daemon.EventDecision {
			t.Fatalf("tap %d: no decision", i)
		}
		if e.Decision != want {
			t.Fatalf("tap %d: %s %v", i, e.Decision, e.Reasons)
		}
		if ans != nil {
			if a := <-ans; a.err != nil || a.status != http.StatusOK {
				t.Fatalf("tap %d: check: %d %v", i, a.status, a.err)
			}
		}
	}
	measure := func() (rssMB, heap float64, g, fds int) {
		time.Sleep(300 * time.Millisecond)
		runtime.GC()
		debug.FreeOSMemory()
		return procStatus("VmRSS") / 1024, heapMB(), runtime.NumGoroutine(), openFDs()
	}
	start := time.Now()
	warm := min(soakWarmup, n/5)
	for i := range warm {
		tap(i)
	}
	rss0, heap0, g0, fd0 := measure()
	t0 := time.Now()
	for i := warm; i < n; i++ {
		tap(i)
		if (i+1)%1000 == 0 {
			rss, heap, g, fds := measure()
			t.Logf("soak: %d taps: RSS %.1f MB, heap %.1f MB, %d goroutines, %d fds", i+1, rss, heap, g, fds)
		}
	}
	rss1, heap1, g1, fd1 := measure()
	t.Logf("soak: %d taps (%d warm-up) in %v, %.0f ms per tap after warm-up; POS stream %d events, kiosk stream %d states",
		n, warm, time.Since(start).Round(time.Second), float64(time.Since(t0).Milliseconds())/float64(max(1, n-warm)), posLines.Load(), kioskLines.Load())
	t.Logf("soak: RSS %.1f → %.1f MB (%+.2f), heap %.1f → %.1f MB, goroutines %d → %d, fds %d → %d",
		rss0, rss1, rss1-rss0, heap0, heap1, g0, g1, fd0, fd1)
	if rss1-rss0 > 2 {
		t.Errorf("RSS grew %.2f MB after warm-up", rss1-rss0)
	}
	if g1 > g0+3 || fd1 > fd0+2 {
		t.Errorf("leak: goroutines %d → %d, fds %d → %d", g0, g1, fd0, fd1)
	}
}
