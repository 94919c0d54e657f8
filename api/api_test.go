package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/daemon/daemontest"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

func newFake() *daemontest.Service {
	return daemontest.New([]string{"counter-1", "counter-2"}, []string{"age-20", "identity"})
}

func acceptResult() daemon.CheckResult {
	return daemon.CheckResult{
		Report: verify.Report{
			Verdict: verify.VerdictAccept,
			Documents: []verify.DocumentReport{{
				DocType:  mdoc.DocTypeMDL,
				Issuer:   verify.IssuerReport{Subject: "CN=Test IACA", Country: "JP"},
				Elements: map[string]map[string]any{mdoc.NameSpaceMDL: {"age_over_20": true, "family_name": "Yamada"}},
				Checks:   []verify.CheckReport{},
			}},
			Errors: []verify.ErrorReport{},
		},
		Decision: "accept",
		Reasons:  []string{},
	}
}

func do(t *testing.T, h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	// A local client by default, as a program on the box calls the API.
	req.RemoteAddr, req.Host = "127.0.0.1:40000", "127.0.0.1:8080"
	for i := 0; i+1 < len(hdr); i += 2 {
		switch hdr[i] {
		case "RemoteAddr":
			req.RemoteAddr = hdr[i+1]
			continue
		case "Host":
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var b ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return b.Error.Code
}

// postCheck runs POST /v1/checks in the background.
func postCheck(h http.Handler, body string) <-chan *httptest.ResponseRecorder {
	out := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest("POST", "/v1/checks", strings.NewReader(body))
		req.RemoteAddr, req.Host = "127.0.0.1:40000", "127.0.0.1:8080"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		out <- w
	}()
	return out
}

func armed(t *testing.T, f *daemontest.Service) daemon.CheckRequest {
	t.Helper()
	select {
	case r := <-f.Armed():
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no check armed")
	}
	return daemon.CheckRequest{}
}

func TestCheckAccept(t *testing.T) {
	f := newFake()
	h := New(Options{Service: f})
	got := postCheck(h, `{"profile":"identity","timeout":"20s","reader":"counter-2"}`)
	req := armed(t, f)
	if req.Profile != "identity" || req.Reader != "counter-2" || req.Timeout != 20*time.Second {
		t.Fatalf("armed %+v", req)
	}
	if !f.Answer("counter-2", acceptResult()) {
		t.Fatal("no check to answer")
	}
	w := <-got
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "reader", "profile", "verdict", "documents", "errors", "decision", "reasons", "started", "finished"} {
		if _, ok := m[k]; !ok {
			t.Errorf("result lacks %q: %s", k, w.Body)
		}
	}
	if m["decision"] != "accept" || m["reader"] != "counter-2" || m["profile"] != "identity" {
		t.Errorf("result %s", w.Body)
	}
	// results/last now answers with the same result.
	w = do(t, h, "GET", "/v1/results/last", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"Yamada"`) {
		t.Errorf("results/last %d %s", w.Code, w.Body)
	}
}

func TestCheckDefaultTimeout(t *testing.T) {
	f := newFake()
	h := New(Options{Service: f, DefaultTimeout: 7 * time.Second})
	got := postCheck(h, `{"profile":"age-20"}`)
	if req := armed(t, f); req.Timeout != 7*time.Second || req.Reader != "counter-1" {
		t.Errorf("armed %+v", req)
	}
	f.CancelCurrent()
	<-got
}

func TestCheckErrors(t *testing.T) {
	h := New(Options{Service: newFake(), MaxTimeout: time.Minute})
	big := `{"profile":"` + strings.Repeat("a", 5000) + `"}`
	for _, tc := range []struct {
		name, method, body, ctype string
		status                    int
		code                      string
	}{
		{"unknown profile", "POST", `{"profile":"nope"}`, "", 404, CodeUnknownProfile},
		{"unknown reader", "POST", `{"profile":"age-20","reader":"x"}`, "", 404, CodeUnknownReader},
		{"bad json", "POST", `{"profile":`, "", 400, CodeBadRequest},
		{"not an object", "POST", `[1]`, "", 400, CodeBadRequest},
		{"unknown field", "POST", `{"profile":"age-20","x":1}`, "", 400, CodeBadRequest},
		{"trailing data", "POST", `{"profile":"age-20"} {}`, "", 400, CodeBadRequest},
		{"no profile", "POST", `{}`, "", 400, CodeBadRequest},
		{"bad timeout", "POST", `{"profile":"age-20","timeout":"soon"}`, "", 400, CodeBadRequest},
		{"negative timeout", "POST", `{"profile":"age-20","timeout":-1}`, "", 400, CodeBadRequest},
		{"timeout over max", "POST", `{"profile":"age-20","timeout":"2m"}`, "", 400, CodeBadRequest},
		{"control char", "POST", `{"profile":"a\u0000b"}`, "", 400, CodeBadRequest},
		{"too large", "POST", big, "", 413, CodeTooLarge},
		{"media type", "POST", `{"profile":"age-20"}`, "text/plain", 415, CodeMediaType},
		{"method", "GET", ``, "", 405, CodeMethod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			w := do(t, h, tc.method, "/v1/checks", tc.body, hdr...)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if c := errorCode(t, w); c != tc.code {
				t.Errorf("code %q, want %q", c, tc.code)
			}
			if tc.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q", w.Header().Get("Allow"))
			}
		})
	}
}

func TestCheckBusyCancelTimeout(t *testing.T) {
	f := newFake()
	h := New(Options{Service: f})
	if w := do(t, h, "DELETE", "/v1/checks/current", ""); w.Code != 404 || errorCode(t, w) != CodeNoCheck {
		t.Fatalf("cancel with nothing waiting: %d %s", w.Code, w.Body)
	}
	first := postCheck(h, `{"profile":"age-20"}`)
	armed(t, f)
	w := do(t, h, "POST", "/v1/checks", `{"profile":"age-20","reader":"counter-1"}`)
	if w.Code != 409 || errorCode(t, w) != CodeBusy {
		t.Fatalf("second check: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "DELETE", "/v1/checks/current", ""); w.Code != 204 || w.Body.Len() != 0 {
		t.Fatalf("cancel: %d %s", w.Code, w.Body)
	}
	if w := <-first; w.Code != 410 || errorCode(t, w) != CodeCancelled {
		t.Fatalf("cancelled check: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "GET", "/v1/checks/current", ""); w.Code != 405 {
		t.Errorf("GET current: %d", w.Code)
	}

	w = do(t, h, "POST", "/v1/checks", `{"profile":"age-20","timeout":"30ms"}`)
	if w.Code != 504 || errorCode(t, w) != CodeTimeout {
		t.Fatalf("timeout: %d %s", w.Code, w.Body)
	}
	armed(t, f)
}

func TestCheckOtherErrors(t *testing.T) {
	f := newFake()
	h := New(Options{Service: f})
	got := postCheck(h, `{"profile":"age-20"}`)
	armed(t, f)
	f.Fail("", fmt.Errorf("reading: %w", terminal.ErrTimeout))
	if w := <-got; w.Code != 504 {
		t.Errorf("terminal timeout: %d %s", w.Code, w.Body)
	}
	got = postCheck(h, `{"profile":"age-20"}`)
	armed(t, f)
	f.Fail("", errors.New("terminal: reader gone"))
	if w := <-got; w.Code != 500 || errorCode(t, w) != CodeCheckFailed {
		t.Errorf("other error: %d %s", w.Code, w.Body)
	}
}

// TestCheckClientGone: a client that hangs up cancels its check, so the
// reader is free again.
func TestCheckClientGone(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(New(Options{Service: f}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/checks", strings.NewReader(`{"profile":"age-20"}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	armed(t, f)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("request finished without error")
	}
	// The check must end: poll until a new check is not busy.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := postCheck(srv.Config.Handler, `{"profile":"age-20"}`)
		select {
		case <-f.Armed():
			f.CancelCurrent()
			<-got
			return
		case w := <-got:
			if w.Code != 409 || time.Now().After(deadline) {
				t.Fatalf("check after hang-up: %d %s", w.Code, w.Body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestResultsLastAndReaders(t *testing.T) {
	f := newFake()
	h := New(Options{Service: f})
	if w := do(t, h, "GET", "/v1/results/last", ""); w.Code != 404 || errorCode(t, w) != CodeNoResult {
		t.Fatalf("no result: %d %s", w.Code, w.Body)
	}
	res := acceptResult()
	res.ID = "chk-9"
	f.SetLast(&res)
	w := do(t, h, "GET", "/v1/results/last", "")
	var got daemon.CheckResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.ID != "chk-9" || got.Decision != "accept" {
		t.Fatalf("last: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "POST", "/v1/results/last", ""); w.Code != 405 {
		t.Errorf("POST last: %d", w.Code)
	}
	w = do(t, h, "GET", "/v1/readers", "")
	var rb readersBody
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &rb) != nil || len(rb.Readers) != 2 || !rb.Readers[0].Up {
		t.Fatalf("readers: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "GET", "/v1/nothing", ""); w.Code != 404 || errorCode(t, w) != CodeNotFound {
		t.Errorf("unknown route: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "GET", "/", ""); w.Code != 404 {
		t.Errorf("/ without display: %d", w.Code)
	}
	if w := do(t, h, "GET", "/metrics", ""); w.Code != 404 {
		t.Errorf("/metrics without metrics: %d", w.Code)
	}
}

func TestHealthz(t *testing.T) {
	f := newFake()
	h := New(Options{Service: f, Token: "s3cret-token-0123456789"})
	// healthz needs no token, even remotely.
	w := do(t, h, "GET", "/healthz", "", "RemoteAddr", "192.0.2.7:5000")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"ok"`) {
		t.Fatalf("healthz up: %d %s", w.Code, w.Body)
	}
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReaderDown})
	if w := do(t, h, "GET", "/healthz", ""); w.Code != 200 {
		t.Fatalf("one reader up: %d %s", w.Code, w.Body)
	}
	f.Emit(daemon.Event{Reader: "counter-2", Kind: daemon.EventReaderDown})
	w = do(t, h, "GET", "/healthz", "")
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"status":"down"`) || !strings.Contains(w.Body.String(), `"up":false`) {
		t.Fatalf("no reader up: %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "GET", "/healthz", "", "RemoteAddr", "192.0.2.7:5000"); w.Code != 503 {
		t.Errorf("remote healthz: %d", w.Code)
	}
	empty := New(Options{Service: daemontest.New(nil, nil)})
	if w := do(t, empty, "GET", "/healthz", ""); w.Code != 503 || !strings.Contains(w.Body.String(), `"readers":[]`) {
		t.Errorf("no readers: %d %s", w.Code, w.Body)
	}
}

func TestTokenRules(t *testing.T) {
	const token = "0123456789abcdef-token"
	display := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "kiosk") })
	f := newFake()
	open := New(Options{Service: f, Display: display})
	locked := New(Options{Service: f, Token: token, Display: display, Metrics: NewMetrics(f)})
	const dispKey = "kiosk-key-0123456789"
	keyed := New(Options{Service: f, Token: token, Display: display, DisplayKey: dispKey})
	const remote, local, unix = "192.0.2.1:1234", "127.0.0.1:1234", "@"
	for _, tc := range []struct {
		name   string
		h      http.Handler
		path   string
		from   string
		auth   string
		status int
	}{
		{"no token, local", open, "/v1/readers", local, "", 200},
		{"no token, ipv6 loopback", open, "/v1/readers", "[::1]:99", "", 200},
		{"no token, unix socket", open, "/v1/readers", unix, "", 200},
		{"no token, remote", open, "/v1/readers", remote, "", 401},
		{"no token, remote presents one", open, "/v1/readers", remote, "Bearer x", 401},
		{"token, local without", locked, "/v1/readers", local, "", 401},
		{"token, unix without", locked, "/v1/readers", unix, "", 401},
		{"token, remote without", locked, "/v1/readers", remote, "", 401},
		{"token, wrong", locked, "/v1/readers", remote, "Bearer " + token + "x", 401},
		{"token, prefix", locked, "/v1/readers", remote, "Bearer " + token[:10], 401},
		{"token, basic scheme", locked, "/v1/readers", remote, "Basic " + token, 401},
		{"token, right", locked, "/v1/readers", remote, "Bearer " + token, 200},
		{"token, right lowercase scheme", locked, "/v1/readers", local, "bearer " + token, 200},
		{"token, metrics without", locked, "/metrics", local, "", 401},
		{"token, metrics with", locked, "/metrics", remote, "Bearer " + token, 200},
		{"token, results", locked, "/v1/results/last", remote, "", 401},
		{"token, events", locked, "/v1/events", remote, "", 401},
		{"display local, no token configured", open, "/", local, "", 200},
		{"display remote, no token configured", open, "/", remote, "", 401},
		// Issue 12 finding 6: with a token, a local process without the
		// display key sees no names or portraits.
		{"display local, token configured, no key", locked, "/", local, "", 401},
		{"display unix, token configured, no key", locked, "/display/events", unix, "", 401},
		{"display local, wrong key", keyed, "/?key=nope", local, "", 401},
		{"display local, right key", keyed, "/?key=" + dispKey, local, "", 200},
		{"display events, right key", keyed, "/display/events?key=" + dispKey, local, "", 200},
		{"display remote without token", locked, "/", remote, "", 401},
		{"display remote with token", locked, "/", remote, "Bearer " + token, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"RemoteAddr", tc.from}
			if tc.auth != "" {
				hdr = append(hdr, "Authorization", tc.auth)
			}
			w := do(t, tc.h, "GET", tc.path, "", hdr...)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if w.Code == 401 {
				if errorCode(t, w) != CodeUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 answer: %v %s", w.Header(), w.Body)
				}
			}
		})
	}
}

func TestTokenMatches(t *testing.T) {
	const tok = "correct horse battery staple"
	for _, tc := range []struct {
		presented string
		want      bool
	}{
		{tok, true},
		{tok + " ", false},
		{tok[:5], false},
		{"", false},
		{strings.ToUpper(tok), false},
		{"correct horse battery stapl3", false},
	} {
		if got := tokenMatches(tc.presented, tok); got != tc.want {
			t.Errorf("tokenMatches(%q) = %v", tc.presented, got)
		}
	}
}

// sseReader reads server-sent events and comments from a stream.
type sseReader struct{ sc *bufio.Scanner }

// next returns the next block (lines up to a blank line).
func (r sseReader) next() ([]string, error) {
	var lines []string
	for r.sc.Scan() {
		l := r.sc.Text()
		if l == "" {
			if len(lines) > 0 {
				return lines, nil
			}
			continue
		}
		lines = append(lines, l)
	}
	if err := r.sc.Err(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

func openStream(t *testing.T, ctx context.Context, url string) (*http.Response, sseReader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	return resp, sseReader{bufio.NewScanner(resp.Body)}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsStream(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(New(Options{Service: f, Heartbeat: 20 * time.Millisecond}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, sr := openStream(t, ctx, srv.URL+"/v1/events?reader=counter-1")
	defer resp.Body.Close()
	waitFor(t, "subscription", func() bool { return f.Subscribers() == 1 })

	f.Emit(daemon.Event{Reader: "counter-2", Kind: daemon.EventReading}) // filtered out
	ev := f.Emit(daemon.Event{
		Reader: "counter-1", Kind: daemon.EventDecision, Profile: "identity", CheckID: "chk-1",
		Decision: "reject", Reasons: []string{"age_not_met"}, DocType: mdoc.DocTypeMDL,
		Steps: []terminal.StepTime{{Step: "verify", Duration: time.Millisecond}}, Total: time.Second,
		Personal: &daemon.Personal{Name: "YAMADA Hanako", Portrait: []byte{0xff, 0xd8, 0xff, 0xe0}},
	})
	heartbeats := 0
	for {
		block, err := sr.next()
		if err != nil {
			t.Fatal(err)
		}
		if block[0] == ": heartbeat" {
			heartbeats++
			continue
		}
		if strings.HasPrefix(block[0], "retry:") {
			continue
		}
		if len(block) != 2 || block[0] != fmt.Sprintf("id: %d", ev.Seq) || !strings.HasPrefix(block[1], "data: ") {
			t.Fatalf("event block %q", block)
		}
		data := strings.TrimPrefix(block[1], "data: ")
		for _, leak := range []string{"Hanako", "YAMADA", "Portrait", "/9j/", "Personal", "personal"} {
			if strings.Contains(data, leak) {
				t.Errorf("event leaks %q: %s", leak, data)
			}
		}
		var got daemon.Event
		if err := json.Unmarshal([]byte(data), &got); err != nil {
			t.Fatal(err)
		}
		if got.Kind != daemon.EventDecision || got.Reader != "counter-1" || got.Decision != "reject" ||
			got.Reasons[0] != "age_not_met" || got.CheckID != "chk-1" || got.Personal != nil {
			t.Fatalf("event %+v", got)
		}
		break
	}
	for heartbeats < 2 {
		block, err := sr.next()
		if err != nil {
			t.Fatal(err)
		}
		if block[0] != ": heartbeat" {
			t.Fatalf("unexpected block %q", block)
		}
		heartbeats++
	}
	// The client goes: the handler ends and unsubscribes.
	cancel()
	resp.Body.Close()
	waitFor(t, "unsubscribe", func() bool { return f.Subscribers() == 0 })
}

func TestEventsServiceCloses(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(New(Options{Service: f}))
	defer srv.Close()
	resp, sr := openStream(t, context.Background(), srv.URL+"/v1/events")
	defer resp.Body.Close()
	waitFor(t, "subscription", func() bool { return f.Subscribers() == 1 })
	f.CloseSubscriptions()
	for {
		if _, err := sr.next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

func TestEventsLimit(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(New(Options{Service: f, MaxStreams: 1}))
	defer srv.Close()
	resp, _ := openStream(t, context.Background(), srv.URL+"/v1/events")
	defer resp.Body.Close()
	r2, err := http.Get(srv.URL + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 503 {
		t.Errorf("second stream: %d", r2.StatusCode)
	}
	if w := do(t, New(Options{Service: f}), "POST", "/v1/events", ""); w.Code != 405 {
		t.Errorf("POST events: %d", w.Code)
	}
}

func TestNewNilService(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(nil Service) did not panic")
		}
	}()
	New(Options{})
}

// TestDisplayKeyCookie: the kiosk opens the page once with ?key=; the
// browser keeps the key in a cookie for the assets and the state stream.
func TestDisplayKeyCookie(t *testing.T) {
	const token, key = "0123456789abcdef-token", "kiosk-key-0123456789"
	display := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "kiosk") })
	h := New(Options{Service: newFake(), Token: token, Display: display, DisplayKey: key})
	w := do(t, h, "GET", "/?key="+key, "")
	if w.Code != 200 {
		t.Fatalf("page with key: %d", w.Code)
	}
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Value != key || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", c)
	}
	if w := do(t, h, "GET", "/display/events", "", "Cookie", c[0].Name+"="+key); w.Code != 200 {
		t.Errorf("stream with the cookie: %d", w.Code)
	}
	if w := do(t, h, "GET", "/display/events", "", "Cookie", c[0].Name+"=other"); w.Code != 401 {
		t.Errorf("stream with a wrong cookie: %d", w.Code)
	}
	// Without a configured key, nothing opens the page but the token.
	nokey := New(Options{Service: newFake(), Token: token, Display: display})
	if w := do(t, nokey, "GET", "/?key=", ""); w.Code != 401 {
		t.Errorf("empty key: %d", w.Code)
	}
}
