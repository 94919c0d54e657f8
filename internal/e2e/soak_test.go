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
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/internal/rig"
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

// soakSettle is how long the daemon idles, every reader ready and no
// request open, before the soak reads its memory.
const soakSettle = time.Second

// drainStream reads an event stream (SSE) until ctx ends, counting its data
// lines and keeping nothing.
func drainStream(tb testing.TB, ctx context.Context, url string, lines *atomic.Int64) <-chan struct{} {
	tb.Helper()
	return readStream(tb, ctx, url, func(string) { lines.Add(1) })
}

// readStream calls data with the payload of every data line of an event
// stream (SSE) until ctx ends or the stream does.
func readStream(tb testing.TB, ctx context.Context, url string, data func(string)) <-chan struct{} {
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
			if rest, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				data(strings.TrimPrefix(rest, " "))
			}
		}
	}()
	return done
}

// eventRouter follows the daemon's /v1/events stream (daemon.Event JSON)
// and hands each event to the soakReader it is about.
type eventRouter struct {
	lines atomic.Int64 // data lines of the stream
	// The daemon numbers its events (seq) before it delivers them, so two
	// readers' events may arrive in either order; seqs between the lowest
	// and the highest seen that never came were dropped for this
	// subscriber (its buffer was full), or were not JSON.
	mu        sync.Mutex
	lo, hi, n uint64
}

// missing is how many events the stream has not delivered (so far: one
// delivered late counts until it arrives).
func (er *eventRouter) missing() uint64 {
	er.mu.Lock()
	defer er.mu.Unlock()
	if er.n == 0 {
		return 0
	}
	return er.hi - er.lo + 1 - er.n
}

func (er *eventRouter) follow(tb testing.TB, ctx context.Context, url string, byName map[string]*soakReader) <-chan struct{} {
	tb.Helper()
	return readStream(tb, ctx, url, func(data string) {
		er.lines.Add(1)
		var e daemon.Event
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return
		}
		er.mu.Lock()
		if er.n == 0 || e.Seq < er.lo {
			er.lo = e.Seq
		}
		er.hi = max(er.hi, e.Seq)
		er.n++
		er.mu.Unlock()
		if sr := byName[e.Reader]; sr != nil {
			select {
			case sr.events <- e:
			case <-ctx.Done():
			}
		}
	})
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
// the HTTP answer. The API tells no one that a check is armed, so a probe
// tells it: a second check on the reader, with a timeout of 1 ms, is
// answered 409 busy once the first is armed. A probe that comes first is
// armed itself for that millisecond (no tap runs on the reader meanwhile,
// so none answers it) and answered 504; the check that met it is answered
// 409 and posted again. probes and reposts count both.
func (sr *soakReader) postCheck(ctx context.Context, client *http.Client, base string, probes, reposts *atomic.Int64) (<-chan httpAnswer, error) {
	deadline := time.Now().Add(soakWait)
	for {
		ans := make(chan httpAnswer, 1)
		go func() {
			ans <- postJSON(ctx, client, base+"/v1/checks", fmt.Sprintf(`{"profile":"age-21","timeout":"20s","reader":%q}`, sr.name))
		}()
	probe:
		for {
			select {
			case a := <-ans:
				if a.status == http.StatusConflict {
					reposts.Add(1)
					break probe
				}
				return nil, fmt.Errorf("%s: check answered before it was armed: %d %s %v", sr.name, a.status, a.body, a.err)
			default:
			}
			probes.Add(1)
			p := postJSON(ctx, client, base+"/v1/checks", fmt.Sprintf(`{"profile":"age-21","timeout":"1ms","reader":%q}`, sr.name))
			switch {
			case p.err != nil:
				return nil, fmt.Errorf("%s: probe: %w", sr.name, p.err)
			case p.status == http.StatusConflict:
				return ans, nil
			case p.status != http.StatusGatewayTimeout:
				return nil, fmt.Errorf("%s: probe: %d %s", sr.name, p.status, p.body)
			case time.Now().After(deadline):
				return nil, fmt.Errorf("%s: the check was not armed within %v", sr.name, soakWait)
			}
			if len(ans) > 0 {
				// Answered meanwhile: the loop above reads it.
				continue
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// postJSON posts body to url and returns the answer.
func postJSON(ctx context.Context, client *http.Client, url, body string) httpAnswer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return httpAnswer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return httpAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return httpAnswer{status: resp.StatusCode, body: b, err: err}
}

// smapsEntry is one mapping of /proc/PID/smaps.
type smapsEntry struct {
	start, end  uint64
	perms, path string
	rss         float64 // kB
}

// readSmaps reads the mappings of process pid.
func readSmaps(pid int) ([]smapsEntry, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		return nil, err
	}
	var out []smapsEntry
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok && len(f) >= 5 {
			s, err1 := strconv.ParseUint(lo, 16, 64)
			e, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				en := smapsEntry{start: s, end: e, perms: f[1]}
				if len(f) > 5 {
					en.path = strings.Join(f[5:], " ")
				}
				out = append(out, en)
				continue
			}
		}
		if f[0] == "Rss:" && len(f) >= 2 && len(out) > 0 {
			v, _ := strconv.ParseFloat(f[1], 64)
			out[len(out)-1].rss = v
		}
	}
	return out, nil
}

// Classes of mappings (smapsClasses orders them for the report).
const (
	mapGoHeap  = "Go heap"
	mapAnon    = "other anonymous"
	mapThreads = "thread stacks"
	mapCHeap   = "C heap [heap]"
	mapArenas  = "C malloc arenas"
	mapBinary  = "binary"
	mapLibs    = "shared libraries"
	mapElse    = "other"
)

var smapsClasses = []string{mapGoHeap, mapAnon, mapThreads, mapCHeap, mapArenas, mapBinary, mapLibs, mapElse}

// classify names the class of maps[i] in a process running bin, by how
// the Go runtime and glibc map memory on linux/amd64: Go maps its heap in
// 4 MB-aligned runs of 4 MB chunks (pallocChunkBytes) inside 64 MB arenas
// (since Go 1.26 at a random base, so not at 0xc000000000); glibc's
// pthread_create maps a thread stack right above an inaccessible guard
// of a page or a few; its malloc maps a per-thread arena at a 64 MB
// boundary (HEAP_MAX_SIZE) and makes it accessible as it grows.
func classify(maps []smapsEntry, i int, bin string) string {
	const mb4, mb64 = 4 << 20, 64 << 20
	e := maps[i]
	switch {
	case e.path == bin:
		return mapBinary
	case e.path == "[heap]":
		return mapCHeap
	case strings.Contains(e.path, ".so"):
		return mapLibs
	case e.path != "":
		return mapElse
	case !strings.HasPrefix(e.perms, "rw"):
		return mapAnon
	case i > 0 && maps[i-1].end == e.start && maps[i-1].perms == "---p" && maps[i-1].path == "" &&
		maps[i-1].end-maps[i-1].start <= 64<<10:
		return mapThreads
	case e.start%mb4 == 0 && (e.end-e.start)%mb4 == 0:
		return mapGoHeap
	case e.start%mb64 == 0:
		return mapArenas
	}
	return mapAnon
}

// daemonSample is what the soak reads of the running idreaderd.
type daemonSample struct {
	// rss, anon and file are VmRSS, RssAnon and RssFile of
	// /proc/PID/status, in kB.
	rss, anon, file float64
	threads, fds    int
	// goroutines, heapInuse, stackInuse and goSys are go_goroutines and
	// go_memstats_{heap_inuse,stack_inuse,sys}_bytes of /metrics.
	goroutines                   int
	heapInuse, stackInuse, goSys float64
	metrics                      map[string]float64 // every unlabelled sample of /metrics
	maps                         []smapsEntry
	byClass                      map[string]float64 // Rss in kB
	// gc is the last GC's line of GODEBUG=gctrace=1 on the daemon's
	// stderr.
	gc string
}

// sampleDaemon reads d's memory, threads, fds and goroutines.
func sampleDaemon(t *testing.T, d *idreaderd) daemonSample {
	t.Helper()
	pid := d.cmd.Process.Pid
	s := daemonSample{
		rss: procStatusOf(pid, "VmRSS"), anon: procStatusOf(pid, "RssAnon"), file: procStatusOf(pid, "RssFile"),
		threads: int(procStatusOf(pid, "Threads")), fds: -1, byClass: map[string]float64{},
	}
	if s.rss <= 0 {
		t.Fatalf("idreaderd (pid %d) is gone\n%s", pid, d.stderr.String())
	}
	if ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd"); err == nil {
		s.fds = len(ents)
	}
	maps, err := readSmaps(pid)
	if err != nil {
		t.Fatal(err)
	}
	s.maps = maps
	for i := range maps {
		s.byClass[classify(maps, i, d.bin)] += maps[i].rss
	}
	// Its own connection, closed with the answer, so that it leaves no
	// fd behind in the daemon.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + d.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	m := map[string]float64{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if name, v, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(name, "#") {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				m[name] = f
			}
		}
	}
	s.metrics = m
	s.goroutines = int(m["go_goroutines"])
	s.heapInuse, s.stackInuse, s.goSys = m["go_memstats_heap_inuse_bytes"], m["go_memstats_stack_inuse_bytes"], m["go_memstats_sys_bytes"]
	log := d.stderr.String()
	if i := strings.LastIndex(log, "\ngc "); i >= 0 {
		s.gc, _, _ = strings.Cut(log[i+1:], "\n")
	}
	return s
}

// String is the sample in one line: memory in MB.
func (s daemonSample) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "VmRSS %.2f MB (anon %.2f, file %.2f), %d threads, %d fds, %d goroutines; Go heap in use %.2f, stacks %.2f, sys %.2f MB; Rss by mapping:",
		s.rss/1024, s.anon/1024, s.file/1024, s.threads, s.fds, s.goroutines, s.heapInuse/(1<<20), s.stackInuse/(1<<20), s.goSys/(1<<20))
	for _, c := range smapsClasses {
		fmt.Fprintf(&b, " %s %.2f,", c, s.byClass[c]/1024)
	}
	return strings.TrimSuffix(b.String(), ",")
}

// selfRSS is the test process's VmRSS in MB after a GC that returned what
// it could to the OS.
func selfRSS() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatus("VmRSS") / 1024
}

// mapGrowth lists the mappings whose Rss grew most from base to s (a
// mapping is known by its start address), at most n of them.
func mapGrowth(base, s daemonSample, bin string, n int) []string {
	was := map[uint64]float64{}
	for _, e := range base.maps {
		was[e.start] = e.rss
	}
	type grew struct {
		i  int
		kb float64
	}
	var gs []grew
	for i, e := range s.maps {
		if d := e.rss - was[e.start]; d > 0 {
			gs = append(gs, grew{i, d})
		}
	}
	sort.Slice(gs, func(a, b int) bool { return gs[a].kb > gs[b].kb })
	var out []string
	for _, g := range gs[:min(n, len(gs))] {
		e := s.maps[g.i]
		out = append(out, fmt.Sprintf("%+.0f kB %s %x-%x %s %s (%.0f kB resident)", g.kb, classify(s.maps, g.i, bin), e.start, e.end, e.perms, e.path, e.rss))
	}
	return out
}

// TestSoak runs -soak.taps taps (make soak: 10,000) through pcscd + vpcd
// into a built idreaderd, the cgo binary an operator runs, configured with
// a reader per rig reader (-soak.readers limits them), profile age-21, HTTP
// on loopback and console output. The point-of-sale event stream
// (/v1/events) and the kiosk display stream (/display/events) are attached
// for the whole run, and a point-of-sale check (POST /v1/checks bound to
// the reader) is armed before every tenth tap. The soak taps on all the
// readers at once, one goroutine per reader, each waiting on /v1/events
// for its own reader's decision, then its Ready after the phone left, as a
// clerk's counter would; every check must be answered by the tap on its
// reader that followed it (the decision event's checkId).
//
// After soakWarmup taps it takes the baseline, with no tap running and no
// request open; every 1,000 taps and at the end it logs the daemon's
// VmRSS, RssAnon and RssFile, threads and fds (/proc/PID), goroutines and
// Go memory (/metrics), resident memory by kind of mapping
// (/proc/PID/smaps: Go heap, other anonymous memory, thread stacks, the C
// heap and malloc arenas, the binary, shared libraries) and the last GC
// (GODEBUG=gctrace=1 on its stderr). It fails when the daemon's VmRSS grew
// more than 2 MB after warm-up, anonymous and file pages together (the
// binary's file pages do not grow once the taps have run through its
// code), or when its goroutines, threads or fds grew beyond a small slack
// (runtime goroutines started lazily; a thread the Go runtime adds when
// more cgo calls into pcsc-lite block at once than before, and keeps; a
// connection still closing). It logs how many taps took longer than
// slowTap from the phone arriving (the card connecting to vpcd) to the
// decision event reaching the test, and the test process's own RSS.
//
// The memory is the daemon's alone: the wallets, the vpcd cards, the HTTP
// clients and the soak's bookkeeping run in the test process (until the
// daemon ran in the test process too, their growth was counted as the
// daemon's). The daemon cannot be made to collect its garbage before a
// reading, so each reading includes whatever garbage its heap holds then:
// at most about the heap in use again (GOGC=100), a few hundred kB at
// this daemon's size.
func TestSoak(t *testing.T) {
	if *soakTaps <= 0 {
		t.Skip("soak: run with -soak.taps N (make soak)")
	}
	n := *soakTaps
	f := getFixture(t)
	readers := allReaders
	if *soakReaders > 0 {
		readers = *soakReaders
	}
	d := startIdreaderdWith(t, rig.Require(t), idreaderdOptions{
		readers: readers, profile: "age-21", hold: "1ms", logLevel: "warn",
		env: []string{"GODEBUG=gctrace=1"}, stdout: io.Discard,
	})
	base := "http://" + d.addr
	ctx, cancel := context.WithCancel(context.Background())

	srs := make([]*soakReader, len(d.names))
	byName := map[string]*soakReader{}
	for k, name := range d.names {
		srs[k] = &soakReader{name: name, addr: d.addrs[k], events: make(chan daemon.Event, 256)}
		byName[name] = srs[k]
	}
	var pos eventRouter
	var kioskLines atomic.Int64
	posDone := pos.follow(t, ctx, base+"/v1/events", byName)
	kioskDone := drainStream(t, ctx, base+"/display/events", &kioskLines)
	defer func() {
		cancel()
		<-posDone
		<-kioskDone
	}()
	// The checks' own client, so that the measurements can close its idle
	// keep-alive connections (their number depends on how many checks
	// happened to overlap).
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * len(srs)}
	defer tr.CloseIdleConnections()
	checks := &http.Client{Transport: tr}
	var probes, reposts atomic.Int64

	good := wallet.Config{Credentials: []*credential.Credential{f.mdl}}
	bad := wallet.Config{Credentials: []*credential.Credential{f.mnc}}
	arrivalToDecision := make([]time.Duration, n) // by tap, filled before the baseline
	tapReader := make([]string, n)
	tapOn := func(sr *soakReader, i int) error {
		var ans <-chan httpAnswer
		if i%10 == 0 {
			var err error
			if ans, err = sr.postCheck(ctx, checks, base, &probes, &reposts); err != nil {
				return fmt.Errorf("tap %d: %w", i, err)
			}
		}
		cfg, want := good, "accept"
		if i%2 == 1 {
			cfg, want = bad, "reject"
		}
		e, took, err := sr.tap(ctx, cfg)
		if err != nil {
			return fmt.Errorf("tap %d: %w (/v1/events: %d events missing)", i, err, pos.missing())
		}
		arrivalToDecision[i], tapReader[i] = took, sr.name
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
	measure := func() daemonSample {
		tr.CloseIdleConnections()
		time.Sleep(soakSettle)
		return sampleDaemon(t, d)
	}
	start := time.Now()
	warm := min(soakWarmup, n/5)
	runTo(warm)
	s0 := measure()
	self0 := selfRSS()
	t.Logf("soak: baseline after %d taps: %s; %s", warm, s0, s0.gc)
	t0 := time.Now()
	type point struct {
		taps int
		s    daemonSample
	}
	series := []point{{warm, s0}}
	for done := warm; done < n; {
		done = min(n, (done/1000+1)*1000)
		runTo(done)
		if done%1000 == 0 || done == n {
			s := measure()
			series = append(series, point{done, s})
			t.Logf("soak: %d taps: %s; %s", done, s, s.gc)
		}
	}
	elapsed := time.Since(t0)
	s1 := series[len(series)-1].s
	self1 := selfRSS()
	t.Logf("soak: %d taps (%d warm-up) on %d readers %v in %v, %.0f ms per tap after warm-up; POS stream %d events (%d missing), kiosk stream %d states; %d arming probes, %d checks posted again",
		n, warm, len(srs), perReader, time.Since(start).Round(time.Second), float64(elapsed.Milliseconds())/float64(max(1, n-warm)),
		pos.lines.Load(), pos.missing(), kioskLines.Load(), probes.Load(), reposts.Load())
	var slowOnes []string
	for i, took := range arrivalToDecision {
		if took > slowTap && len(slowOnes) < 20 {
			slowOnes = append(slowOnes, fmt.Sprintf("%d on %s %v", i, tapReader[i], took.Round(time.Millisecond)))
		}
	}
	if len(slowOnes) > 0 {
		t.Logf("soak: slow taps (every tenth, from 0, had a check): %s", strings.Join(slowOnes, ", "))
	}
	sorted := slices.Clone(arrivalToDecision)
	slices.Sort(sorted)
	slow := len(sorted) - sort.Search(len(sorted), func(i int) bool { return sorted[i] > slowTap })
	pct := func(p float64) time.Duration {
		return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(time.Millisecond)
	}
	t.Logf("soak: phone arriving to decision: %d of %d taps over %v; median %v, p99 %v, max %v",
		slow, n, slowTap, pct(0.5), pct(0.99), sorted[len(sorted)-1].Round(time.Millisecond))
	var rs, as, fs []string
	for _, p := range series {
		rs = append(rs, fmt.Sprintf("%.2f", p.s.rss/1024))
		as = append(as, fmt.Sprintf("%.2f", p.s.anon/1024))
		fs = append(fs, fmt.Sprintf("%.2f", p.s.file/1024))
	}
	t.Logf("soak: daemon MB from the baseline by 1,000 taps: VmRSS %s; RssAnon %s; RssFile %s",
		strings.Join(rs, " "), strings.Join(as, " "), strings.Join(fs, " "))
	var classes []string
	for _, c := range smapsClasses {
		classes = append(classes, fmt.Sprintf("%s %+.2f", c, (s1.byClass[c]-s0.byClass[c])/1024))
	}
	t.Logf("soak: growth by mapping (MB): %s; most grown: %s", strings.Join(classes, ", "), strings.Join(mapGrowth(s0, s1, d.bin, 6), "; "))
	t.Logf("soak: daemon VmRSS %.2f → %.2f MB (%+.2f; anon %+.2f, file %+.2f), threads %d → %d, fds %d → %d, goroutines %d → %d, Go heap in use %.2f → %.2f MB",
		s0.rss/1024, s1.rss/1024, (s1.rss-s0.rss)/1024, (s1.anon-s0.anon)/1024, (s1.file-s0.file)/1024,
		s0.threads, s1.threads, s0.fds, s1.fds, s0.goroutines, s1.goroutines, s0.heapInuse/(1<<20), s1.heapInuse/(1<<20))
	if g := (s1.rss - s0.rss) / 1024; g > 2 {
		t.Errorf("daemon VmRSS grew %.2f MB after warm-up", g)
	}
	var goMem []string
	for _, k := range []string{"heap_sys", "heap_inuse", "heap_idle", "heap_released", "stack_sys", "mspan_sys", "mcache_sys", "gc_sys", "other_sys", "buck_hash_sys", "sys"} {
		k = "go_memstats_" + k + "_bytes"
		goMem = append(goMem, fmt.Sprintf("%s %.2f → %.2f", strings.TrimSuffix(strings.TrimPrefix(k, "go_memstats_"), "_bytes"), s0.metrics[k]/(1<<20), s1.metrics[k]/(1<<20)))
	}
	t.Logf("soak: the daemon's Go memory (MB, /metrics): %s", strings.Join(goMem, ", "))
	t.Logf("soak: the test process (wallets, vpcd cards, HTTP clients, bookkeeping; after a GC): VmRSS %.2f → %.2f MB (%+.2f)",
		self0, self1, self1-self0)
	if s1.goroutines > s0.goroutines+3 || s1.threads > s0.threads+3 || s1.fds > s0.fds+2 {
		t.Errorf("leak: goroutines %d → %d, threads %d → %d, fds %d → %d", s0.goroutines, s1.goroutines, s0.threads, s1.threads, s0.fds, s1.fds)
	}
}
