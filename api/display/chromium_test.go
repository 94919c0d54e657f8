package display

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/daemon/daemontest"
)

// The kiosk page in a real browser: headless Chromium driven over the
// DevTools protocol on --remote-debugging-pipe (fd 3 carries commands to
// the browser, fd 4 its answers, each message JSON ended by a NUL byte), so
// no websocket client or module is needed.

// findChromium returns the browser to use, or skips the test (fails when
// CI or IDREADER_REQUIRE_RIG is set).
func findChromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("IDREADER_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := "chromium not found (Debian package chromium; or set IDREADER_CHROMIUM)"
	if os.Getenv("CI") != "" || os.Getenv("IDREADER_REQUIRE_RIG") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// cdp is a minimal DevTools protocol client over the pipe.
type cdp struct {
	w       *os.File
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpReply
	dead    chan struct{}
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (c *cdp) read(r *os.File) {
	defer close(c.dead)
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue // events
		}
		c.mu.Lock()
		ch := c.waiting[m.ID]
		delete(c.waiting, m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

// call sends one command (to a session when sessionID is set) and decodes
// its result into out.
func (c *cdp) call(sessionID, method string, params any, out any) error {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan cdpReply, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if sessionID != "" {
		msg["sessionId"] = sessionID
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-c.dead:
		return fmt.Errorf("%s: the browser went away", method)
	case <-time.After(20 * time.Second):
		return fmt.Errorf("%s: no answer", method)
	}
}

// startChromium opens url in headless Chromium and returns a client
// attached to its page.
func startChromium(t *testing.T, url string) (c *cdp, session string) {
	bin := findChromium(t)
	toBrowserR, toBrowserW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromBrowserR, fromBrowserW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), "--remote-debugging-pipe",
		"--window-size=1024,600", url)
	cmd.ExtraFiles = []*os.File{toBrowserR, fromBrowserW} // fd 3, fd 4
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	toBrowserR.Close()
	fromBrowserW.Close()
	c = &cdp{w: toBrowserW, waiting: map[int]chan cdpReply{}, dead: make(chan struct{})}
	go c.read(fromBrowserR)
	t.Cleanup(func() {
		_ = c.call("", "Browser.close", map[string]any{}, nil)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		toBrowserW.Close()
		fromBrowserR.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", stderr.String())
		}
	})

	var targetID string
	waitFor(t, "the page target", func() bool {
		var r struct {
			TargetInfos []struct {
				TargetID string `json:"targetId"`
				Type     string `json:"type"`
				URL      string `json:"url"`
			} `json:"targetInfos"`
		}
		if err := c.call("", "Target.getTargets", map[string]any{}, &r); err != nil {
			t.Fatal(err)
		}
		for _, ti := range r.TargetInfos {
			if ti.Type == "page" {
				targetID = ti.TargetID
				return true
			}
		}
		return false
	})
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call("", "Target.attachToTarget", map[string]any{"targetId": targetID, "flatten": true}, &att); err != nil {
		t.Fatal(err)
	}
	return c, att.SessionID
}

// pageView is what the test reads from the DOM.
type pageView struct {
	State    string `json:"state"`
	Title    string `json:"title"`
	TitleJa  string `json:"titleJa"`
	Reasons  string `json:"reasons"`
	Name     string `json:"name"`
	Portrait bool   `json:"portrait"` // a data: image that decoded
	Shown    bool   `json:"shown"`
}

const viewJS = `JSON.stringify({
  state: document.body.dataset.state,
  title: document.getElementById("title-en").textContent,
  titleJa: document.getElementById("title-ja").textContent,
  reasons: document.getElementById("reasons").textContent,
  name: document.getElementById("name").textContent,
  portrait: (() => { const i = document.getElementById("portrait");
    return !!i.src && i.src.startsWith("data:image/jpeg") && i.complete && i.naturalWidth > 0; })(),
  shown: !document.getElementById("person").hidden,
})`

func view(t *testing.T, c *cdp, session string) pageView {
	t.Helper()
	var r struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	if err := c.call(session, "Runtime.evaluate", map[string]any{"expression": viewJS, "returnByValue": true}, &r); err != nil {
		t.Fatal(err)
	}
	var v pageView
	if r.Result.Value != "" {
		if err := json.Unmarshal([]byte(r.Result.Value), &v); err != nil {
			t.Fatalf("page view %q: %v", r.Result.Value, err)
		}
	}
	return v
}

func waitView(t *testing.T, c *cdp, session, what string, cond func(pageView) bool) pageView {
	t.Helper()
	var last pageView
	deadline := time.Now().Add(20 * time.Second)
	for {
		last = view(t, c, session)
		if cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("page never reached %s; last view %+v", what, last)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestChromiumKiosk(t *testing.T) {
	for _, tc := range []struct {
		name        string
		serverClear bool
	}{
		{"server clears", true},
		{"page clears on its own timer", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := daemontest.New([]string{"counter-1"}, nil)
			h := New(Options{Service: f, ClearAfter: 700 * time.Millisecond})
			h.noServerClear = !tc.serverClear
			srv := httptest.NewServer(h)
			// Registered before the browser's cleanup, so it runs after
			// it: the page's stream must be gone before Close returns.
			t.Cleanup(srv.Close)
			c, session := startChromium(t, srv.URL+"/")

			v := waitView(t, c, session, "ready", func(v pageView) bool { return v.State == StateReady })
			if v.Title != "Hold your phone to the reader" || v.TitleJa != "スマートフォンをかざしてください" || v.Shown {
				t.Errorf("ready view %+v", v)
			}
			waitFor(t, "the page's subscription", func() bool { return f.Subscribers() == 1 })

			f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventReading, Profile: "identity"})
			waitView(t, c, session, "reading", func(v pageView) bool { return v.State == StateReading })

			f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept", Profile: "identity",
				Personal: &daemon.Personal{Name: "YAMADA Hanako", Portrait: testJPEG(t)}})
			f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventRemoved})
			v = waitView(t, c, session, "accept with the portrait", func(v pageView) bool {
				return v.State == StateAccept && v.Portrait
			})
			if v.Name != "YAMADA Hanako" || !v.Shown || v.Title != "Accepted" {
				t.Errorf("accept view %+v", v)
			}
			v = waitView(t, c, session, "ready again", func(v pageView) bool { return v.State == StateReady })
			if v.Name != "" || v.Portrait || v.Shown {
				t.Errorf("personal data left after clearing: %+v", v)
			}

			f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "reject", Reasons: []string{"age_not_met"}})
			v = waitView(t, c, session, "reject", func(v pageView) bool { return v.State == StateReject })
			if !strings.Contains(v.Reasons, "Age requirement not met") || !strings.Contains(v.Reasons, "年齢確認できません") || v.Shown {
				t.Errorf("reject view %+v", v)
			}
			waitView(t, c, session, "ready after reject", func(v pageView) bool { return v.State == StateReady })
		})
	}
}
