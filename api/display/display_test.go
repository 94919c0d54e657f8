package display

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/daemon/daemontest"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// testJPEG is a small real JPEG, so a browser can decode it.
func testJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 24, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 24; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 8), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stateStream reads the State messages (and heartbeats) of /display/events.
type stateStream struct {
	sc         *bufio.Scanner
	heartbeats int
}

func (s *stateStream) next(t *testing.T) State {
	t.Helper()
	for s.sc.Scan() {
		l := s.sc.Text()
		switch {
		case l == ": heartbeat":
			s.heartbeats++
		case strings.HasPrefix(l, "data: "):
			var st State
			if err := json.Unmarshal([]byte(l[len("data: "):]), &st); err != nil {
				t.Fatalf("state %q: %v", l, err)
			}
			return st
		}
	}
	t.Fatalf("stream ended: %v", s.sc.Err())
	return State{}
}

func open(t *testing.T, ctx context.Context, url string) (*http.Response, *stateStream) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	return resp, &stateStream{sc: bufio.NewScanner(resp.Body)}
}

func TestPageAndAssets(t *testing.T) {
	h := New(Options{Service: daemontest.New([]string{"r"}, nil)})
	for _, tc := range []struct {
		path, ctype, contains string
		status                int
	}{
		{"/", "text/html; charset=utf-8", `<body data-state="connecting">`, 200},
		{"/index.html", "text/html; charset=utf-8", `/display/app.js`, 200},
		{"/display/app.js", "text/javascript; charset=utf-8", `new EventSource("/display/events")`, 200},
		{"/display/style.css", "text/css; charset=utf-8", `data-state="accept"`, 200},
		{"/display/index.html", "", "", 404},
		{"/static/app.js", "", "", 404},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != tc.status {
			t.Errorf("%s: status %d", tc.path, w.Code)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if ct := w.Header().Get("Content-Type"); ct != tc.ctype {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		if !strings.Contains(w.Body.String(), tc.contains) {
			t.Errorf("%s lacks %q", tc.path, tc.contains)
		}
		if !strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: no CSP", tc.path)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	if w.Code != 405 {
		t.Errorf("POST: %d", w.Code)
	}
}

func TestStreamTapAndClear(t *testing.T) {
	f := daemontest.New([]string{"counter-1", "counter-2"}, nil)
	srv := httptest.NewServer(New(Options{Service: f, Reader: "counter-1", ClearAfter: 150 * time.Millisecond, Heartbeat: 30 * time.Millisecond}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, s := open(t, ctx, srv.URL+"/display/events")
	defer resp.Body.Close()
	if st := s.next(t); st.State != StateReady {
		t.Fatalf("first state %+v", st)
	}
	portrait := testJPEG(t)
	f.Emit(daemon.Event{Reader: "counter-2", Kind: daemon.EventReading}) // another reader
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReading, Profile: "identity"})
	if st := s.next(t); st.State != StateReading || st.Profile != "identity" {
		t.Fatalf("reading %+v", st)
	}
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept", Profile: "identity",
		Personal: &daemon.Personal{Name: "山田 花子", Portrait: portrait}})
	start := time.Now()
	// Removal and ready do not cut the decision short.
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventRemoved})
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReady})
	st := s.next(t)
	if st.State != StateAccept || st.Name != "山田 花子" || st.ClearAfterMS != 150 ||
		st.Portrait != dataURL(portrait) || !strings.HasPrefix(st.Portrait, "data:image/jpeg;base64,/9j/") {
		t.Fatalf("accept %+v", st)
	}
	st = s.next(t)
	if st.State != StateReady || st.Name != "" || st.Portrait != "" {
		t.Fatalf("after clear %+v", st)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("cleared after %v, before ClearAfter", d)
	}

	// A reject shows its reasons in both languages.
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "reject", Reasons: []string{"age_not_met", "no_such_code"}})
	st = s.next(t)
	if st.State != StateReject || len(st.Messages) != 2 || st.Messages[0] != (Text{"Age requirement not met", "年齢確認できません"}) || st.Messages[1] != unknownReason {
		t.Fatalf("reject %+v", st)
	}
	// A new tap supersedes the held decision at once.
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReading})
	if st := s.next(t); st.State != StateReading {
		t.Fatalf("reading over decision %+v", st)
	}
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReaderDown})
	if st := s.next(t); st.State != StateDown {
		t.Fatalf("down %+v", st)
	}
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReaderUp})
	if st := s.next(t); st.State != StateReady {
		t.Fatalf("up %+v", st)
	}
	waitFor(t, "heartbeats", func() bool {
		if s.heartbeats >= 2 {
			return true
		}
		s.sc.Scan()
		if s.sc.Text() == ": heartbeat" {
			s.heartbeats++
		}
		return false
	})
	cancel()
	resp.Body.Close()
	waitFor(t, "unsubscribe", func() bool { return f.Subscribers() == 0 })
}

// TestStreamLateJoiner: a page that connects after a decision never sees
// the earlier holder's data; a reader that is down shows as down.
func TestStreamLateJoiner(t *testing.T) {
	f := daemontest.New([]string{"counter-1"}, nil)
	srv := httptest.NewServer(New(Options{Service: f}))
	defer srv.Close()
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept",
		Personal: &daemon.Personal{Name: "YAMADA Hanako"}})
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReaderDown})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, s := open(t, ctx, srv.URL+"/display/events")
	defer resp.Body.Close()
	if st := s.next(t); st.State != StateDown || st.Name != "" {
		t.Fatalf("late joiner %+v", st)
	}
	cancel()
}

func TestDataURL(t *testing.T) {
	if got := dataURL([]byte{0xff, 0xd8, 0xff, 0xe0}); got != "data:image/jpeg;base64,/9j/4A==" {
		t.Errorf("jpeg: %q", got)
	}
	if got := dataURL([]byte("\x89PNG\r\n\x1a\nxx")); !strings.HasPrefix(got, "data:image/png;base64,") {
		t.Errorf("png: %q", got)
	}
	// JPEG 2000 codestream and JP2 box: not drawable, left out.
	for _, b := range [][]byte{{0xff, 0x4f, 0xff, 0x51}, {0, 0, 0, 0x0c, 'j', 'P', ' ', ' '}, nil, []byte("<svg")} {
		if got := dataURL(b); got != "" {
			t.Errorf("dataURL(%x) = %q", b, got)
		}
	}
}

func TestReasonTexts(t *testing.T) {
	if got := ReasonText("age_not_met"); got.En != "Age requirement not met" || got.Ja != "年齢確認できません" {
		t.Errorf("age_not_met: %+v", got)
	}
	codes := []string{"element_missing", "age_not_met", "document_expired", "doctype_not_allowed", "issuer_not_allowed",
		string(verify.CodeMalformed), string(verify.CodeIssuerUntrusted), string(verify.CodeIssuerSignature),
		string(verify.CodeCertificateProfile), string(verify.CodeCertificateValidity), string(verify.CodeMSOValidity),
		string(verify.CodeValueDigest), string(verify.CodeDocTypeMismatch), string(verify.CodeDeviceAuth),
		string(verify.CodeUnsupported), string(verify.CodeNotReturned),
		string(terminal.CodeRemoved), string(terminal.CodeTimeout), string(terminal.CodeWalletStatus),
		string(terminal.CodeSession), string(terminal.CodeTransport), string(terminal.CodeReaderUnavailable)}
	for _, c := range codes {
		if tx := ReasonText(c); tx == unknownReason || tx.En == "" || tx.Ja == "" {
			t.Errorf("no text for %q", c)
		}
	}
	if ReasonText("whatever") != unknownReason {
		t.Error("unknown code")
	}
}

// TestStreamCap: the state streams are bounded like /v1/events (1,000 open
// streams took the daemon from 19 to 57 MB); one more is answered 503, and a
// closed stream frees its place.
func TestStreamCap(t *testing.T) {
	f := daemontest.New([]string{"counter-1"}, nil)
	srv := httptest.NewServer(New(Options{Service: f, MaxStreams: 3}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var resps []*http.Response
	for range 3 {
		resp, s := open(t, ctx, srv.URL+"/display/events")
		s.next(t) // the stream is up: its place is taken
		resps = append(resps, resp)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/display/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("fourth stream: %d, want 503", resp.StatusCode)
	}
	resps[0].Body.Close()
	waitFor(t, "a freed place", func() bool {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/display/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for _, r := range resps[1:] {
		r.Body.Close()
	}
}
