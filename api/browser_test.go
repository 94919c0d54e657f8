package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/idreader/idreader/api/display"
)

// TestLocalTrustNotForBrowsers: without a token, loopback clients are
// trusted, but a web page in a browser on the same box is a loopback client
// too. A page whose name was rebound to 127.0.0.1 (DNS rebinding: its Host
// header is its own name) or that posts cross-site must not start checks,
// read the last result (disclosed personal data) or open the display
// stream (names and portraits).
func TestLocalTrustNotForBrowsers(t *testing.T) {
	f := newFake()
	last := acceptResult()
	f.SetLast(&last)
	h := New(Options{Service: f, Display: display.New(display.Options{Service: f, ClearAfter: time.Minute})})
	local := "127.0.0.1:8080"
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      []string
		want                     int
	}{
		{"rebound last result", "GET", "/v1/results/last", "", []string{"Host", "evil.example:8080"}, http.StatusForbidden},
		{"rebound check", "POST", "/v1/checks", `{"profile":"identity","timeout":"10ms"}`, []string{"Host", "evil.example:8080"}, http.StatusForbidden},
		{"rebound display page", "GET", "/", "", []string{"Host", "evil.example:8080"}, http.StatusForbidden},
		{"rebound display stream", "HEAD", "/display/events", "", []string{"Host", "evil.example"}, http.StatusForbidden},
		{"cross-site check", "POST", "/v1/checks", `{"profile":"identity","timeout":"10ms"}`,
			[]string{"Host", local, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"cross-origin cancel", "DELETE", "/v1/checks/current", "", []string{"Host", local, "Origin", "http://evil.example"}, http.StatusForbidden},
		{"cross-site last result", "GET", "/v1/results/last", "", []string{"Host", local, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		// Local clients by their loopback names still work.
		{"local last result", "GET", "/v1/results/last", "", []string{"Host", local}, http.StatusOK},
		{"localhost last result", "GET", "/v1/results/last", "", []string{"Host", "localhost:8080"}, http.StatusOK},
		{"ipv6 last result", "GET", "/v1/results/last", "", []string{"Host", "[::1]:8080", "RemoteAddr", "[::1]:40000"}, http.StatusOK},
		{"same-origin display page", "GET", "/", "", []string{"Host", local, "Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"healthz by any name", "GET", "/healthz", "", []string{"Host", "evil.example"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, h, tc.method, tc.path, tc.body, tc.hdr...)
			if w.Code != tc.want {
				t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, w.Code, tc.want, w.Body)
			}
			if tc.want == http.StatusForbidden && w.Code == http.StatusForbidden && errorCode(t, w) != CodeForbidden {
				t.Errorf("code %s", errorCode(t, w))
			}
		})
	}
	select {
	case req := <-f.Armed():
		t.Errorf("a refused request armed a check: %+v", req)
	default:
	}
}

// TestBrowserRulesNotForTokens: with a token, the token is what authorizes
// (a browser cannot attach it cross-site), whatever the Host.
func TestBrowserRulesNotForTokens(t *testing.T) {
	f := newFake()
	last := acceptResult()
	f.SetLast(&last)
	h := New(Options{Service: f, Token: "s3cret"})
	w := do(t, h, "GET", "/v1/results/last", "", "Host", "idreader.shop.internal:8080", "Authorization", "Bearer s3cret",
		"RemoteAddr", "192.0.2.7:5000")
	if w.Code != http.StatusOK {
		t.Errorf("token over a host name: %d %s", w.Code, w.Body)
	}
}
