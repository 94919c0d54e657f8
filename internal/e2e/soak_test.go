package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idreader/idreader/api"
	"github.com/idreader/idreader/api/display"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
)

// soakWarmup is how many taps run before the soak takes its baseline.
const soakWarmup = 200

// soakReaders limits how many rig readers TestSoak taps on at once.
var soakReaders = flag.Int("soak.readers", 0, "rig readers TestSoak taps on at once (0: all of them)")

// soakWait bounds every wait of a soak tap (an event, the card leaving, a
// check being armed or answered).
const soakWait = 30 * time.Second

// slowTap is how long a phone may take from arriving to the decision
// before the soak counts the tap as slow: a phone must be read within 1 s.
const slowTap = time.Second

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

// soakReader is one rig reader the soak taps on, with the daemon's events
// for that reader only.
type soakReader struct {
	name, addr string
	events     chan daemon.Event
}

// next returns the reader's next event of the kind.
func (sr *soakReader) next(ctx context.Context, kind daemon.EventKind) (daemon.Event, error) {
	timeout := time.NewTimer(soakWait)
	defer timeout.Stop()
	for {
		select {
		case e := <-sr.events:
			if e.Kind == kind {
				return e, nil
			}
		case <-timeout.C:
			return daemon.Event{}, fmt.Errorf("%s: no %s event within %v", sr.name, kind, soakWait)
		case <-ctx.Done():
			return daemon.Event{}, fmt.Errorf("%s: waiting for %s: %w", sr.name, kind, ctx.Err())
		}
	}
}

// tap is rigDaemon.tap on this reader, for a goroutine of its own: the
// wallet enters the reader's field through vpcd and leaves once the daemon
// ended the session; tap returns the decision event after the daemon saw
// the phone leave and went idle again, and the time from the card's
// connection to vpcd (the phone arriving) to the decision event reaching
// the test.
func (sr *soakReader) tap(ctx context.Context, cfg wallet.Config) (daemon.Event, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, soakWait)
	defer cancel()
	cardCtx, leave := context.WithCancel(ctx)
	defer leave()
	cfg.OnDone = func(wallet.Report) { leave() }
	w, err := wallet.New(cfg)
	if err != nil {
		return daemon.Event{}, 0, err
	}
	defer w.Close()
	arrived := make(chan time.Time, 1)
	cardErr := make(chan error, 1)
	go func() {
		c, err := vpcd.Dial(cardCtx, sr.addr)
		if err != nil {
			close(arrived)
			cardErr <- err
			return
		}
		defer c.Close()
		arrived <- time.Now()
		cardErr <- c.Serve(cardCtx, w)
	}()
	e, err := sr.next(ctx, daemon.EventDecision)
	decided := time.Now()
	leave()
	at, ok := <-arrived
	if cerr := <-cardErr; err == nil && cerr != nil && !errors.Is(cerr, vpcd.ErrDisconnected) {
		err = fmt.Errorf("%s: card: %w", sr.name, cerr)
	}
	if err != nil {
		return e, 0, err
	}
	if !ok {
		return e, 0, fmt.Errorf("%s: a decision without the card in the field", sr.name)
	}
	if _, err := sr.next(ctx, daemon.EventReady); err != nil {
		return e, 0, err
	}
	return e, decided.Sub(at), nil
}

// postCheck arms a point-of-sale check bound to the reader through
// POST /v1/checks and returns once the daemon armed it; the channel gets
// the HTTP answer.
func (sr *soakReader) postCheck(ctx context.Context, d *daemon.Daemon, client *http.Client, base string) (<-chan httpAnswer, error) {
	body := fmt.Sprintf(`{"profile":"age-21","timeout":"20s","reader":%q}`, sr.name)
	ans := make(chan httpAnswer, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/checks", strings.NewReader(body))
		if err != nil {
			ans <- httpAnswer{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			ans <- httpAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ans <- httpAnswer{status: resp.StatusCode, body: b, err: err}
	}()
	deadline := time.Now().Add(soakWait)
	for !d.Armed(sr.name) {
		select {
		case a := <-ans:
			return nil, fmt.Errorf("%s: check answered before it was armed: %d %s %v", sr.name, a.status, a.body, a.err)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: the check was not armed within %v", sr.name, soakWait)
		}
	}
	return ans, nil
}

// TestSoak runs -soak.taps taps (make soak: 10,000) through pcscd + vpcd in
// the daemon, with its HTTP side as cmd/idreaderd serves it, the POS event
// stream and the kiosk display stream attached, and a point-of-sale check
// armed before every tenth tap. The daemon runs one loop per rig reader
// (-soak.readers limits them) and the soak taps on all of them at once,
// one goroutine per reader, each waiting for its own reader's decision,
// removal and Ready as a clerk's counter would; every check is bound to
// the reader whose tap answers it. After soakWarmup taps it takes the
// baseline, with no tap running; every 1,000 taps and at the end it
// reports RSS, heap, goroutines and open fds, and it fails when RSS grew
// more than 2 MB or goroutines or fds grew at all (beyond a small slack
// for lazily started runtime goroutines). It logs how many taps took
// longer than slowTap from the phone arriving to the decision.
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
	readers := allReaders
	if *soakReaders > 0 {
		readers = *soakReaders
	}
	r := startRigDaemonWith(t, f, rigOptions{
		profile: "age-21", log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		beside: serve, readers: readers,
	})
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var posLines, kioskLines atomic.Int64
	posDone := drainStream(t, ctx, base+"/v1/events", &posLines)
	kioskDone := drainStream(t, ctx, base+"/display/events", &kioskLines)

	// Route the daemon's events to the reader they are about.
	srs := make([]*soakReader, len(r.names))
	byName := map[string]*soakReader{}
	for k, name := range r.names {
		srs[k] = &soakReader{name: name, addr: r.addrs[k], events: make(chan daemon.Event, 256)}
		byName[name] = srs[k]
	}
	routeDone := make(chan struct{})
	go func() {
		defer close(routeDone)
		for {
			select {
			case e, ok := <-r.events:
				if !ok {
					return
				}
				if sr := byName[e.Reader]; sr != nil {
					select {
					case sr.events <- e:
					case <-ctx.Done():
						return
					}
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel()
		<-posDone
		<-kioskDone
		<-routeDone
	}()
	// The checks' own client, so that the measurements can close its idle
	// keep-alive connections (their number depends on how many checks
	// happened to overlap).
	tr := &http.Transport{MaxIdleConnsPerHost: len(srs)}
	defer tr.CloseIdleConnections()
	checks := &http.Client{Transport: tr}

	good := wallet.Config{Credentials: []*credential.Credential{f.mdl}}
	bad := wallet.Config{Credentials: []*credential.Credential{f.mnc}}
	arrivalToDecision := make([]time.Duration, n) // by tap, filled before the baseline
	tapOn := func(sr *soakReader, i int) error {
		var ans <-chan httpAnswer
		if i%10 == 0 {
			var err error
			if ans, err = sr.postCheck(ctx, r.d, checks, base); err != nil {
				return fmt.Errorf("tap %d: %w", i, err)
			}
		}
		cfg, want := good, "accept"
		if i%2 == 1 {
			cfg, want = bad, "reject"
		}
		e, took, err := sr.tap(ctx, cfg)
		if err != nil {
			return fmt.Errorf("tap %d: %w", i, err)
		}
		arrivalToDecision[i] = took
		if e.Decision != want {
			return fmt.Errorf("tap %d on %s: %s %v", i, sr.name, e.Decision, e.Reasons)
		}
		if ans != nil {
			var a httpAnswer
			select {
			case a = <-ans:
			case <-time.After(soakWait):
				return fmt.Errorf("tap %d on %s: no check answer within %v", i, sr.name, soakWait)
			}
			var c checkJSON
			if a.err != nil || a.status != http.StatusOK {
				return fmt.Errorf("tap %d on %s: check: %d %s %v", i, sr.name, a.status, a.body, a.err)
			}
			if err := json.Unmarshal(a.body, &c); err != nil {
				return fmt.Errorf("tap %d on %s: check: %w", i, sr.name, err)
			}
			if c.Reader != sr.name || c.Decision != want || c.ID == "" || c.ID != e.CheckID {
				return fmt.Errorf("tap %d on %s: check answered by %s: %s (id %q, the tap's %q)", i, sr.name, c.Reader, c.Decision, c.ID, e.CheckID)
			}
		}
		return nil
	}
	// runTo runs taps up to end on every reader at once and returns when
	// none is left and every reader is idle.
	nextTap := 0
	var mu sync.Mutex
	take := func(end int) (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if nextTap >= end {
			return 0, false
		}
		nextTap++
		return nextTap - 1, true
	}
	perReader := make([]int, len(srs))
	runTo := func(end int) {
		t.Helper()
		tctx, stop := context.WithCancel(ctx)
		defer stop()
		var wg sync.WaitGroup
		for k, sr := range srs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i, ok := take(end)
					if !ok || tctx.Err() != nil {
						return
					}
					if err := tapOn(sr, i); err != nil {
						t.Error(err)
						stop()
						return
					}
					perReader[k]++
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	measure := func() (rssMB, heap float64, g, fds int) {
		tr.CloseIdleConnections()
		time.Sleep(300 * time.Millisecond)
		runtime.GC()
		debug.FreeOSMemory()
		return procStatus("VmRSS") / 1024, heapMB(), runtime.NumGoroutine(), openFDs()
	}
	start := time.Now()
	warm := min(soakWarmup, n/5)
	runTo(warm)
	rss0, heap0, g0, fd0 := measure()
	t0 := time.Now()
	for done := warm; done < n; {
		done = min(n, (done/1000+1)*1000)
		runTo(done)
		if done%1000 == 0 {
			rss, heap, g, fds := measure()
			t.Logf("soak: %d taps: RSS %.1f MB, heap %.1f MB, %d goroutines, %d fds", done, rss, heap, g, fds)
		}
	}
	elapsed := time.Since(t0)
	rss1, heap1, g1, fd1 := measure()
	t.Logf("soak: %d taps (%d warm-up) on %d readers %v in %v, %.0f ms per tap after warm-up; POS stream %d events, kiosk stream %d states",
		n, warm, len(srs), perReader, time.Since(start).Round(time.Second), float64(elapsed.Milliseconds())/float64(max(1, n-warm)), posLines.Load(), kioskLines.Load())
	sorted := slices.Clone(arrivalToDecision)
	slices.Sort(sorted)
	slow := len(sorted) - sort.Search(len(sorted), func(i int) bool { return sorted[i] > slowTap })
	pct := func(p float64) time.Duration {
		return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(time.Millisecond)
	}
	t.Logf("soak: phone arriving to decision: %d of %d taps over %v; median %v, p99 %v, max %v",
		slow, n, slowTap, pct(0.5), pct(0.99), sorted[len(sorted)-1].Round(time.Millisecond))
	t.Logf("soak: RSS %.1f → %.1f MB (%+.2f), heap %.1f → %.1f MB, goroutines %d → %d, fds %d → %d",
		rss0, rss1, rss1-rss0, heap0, heap1, g0, g1, fd0, fd1)
	if rss1-rss0 > 2 {
		t.Errorf("RSS grew %.2f MB after warm-up", rss1-rss0)
	}
	if g1 > g0+3 || fd1 > fd0+2 {
		t.Errorf("leak: goroutines %d → %d, fds %d → %d", g0, g1, fd0, fd1)
	}
}
