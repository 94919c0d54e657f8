package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/api/display"
	"github.com/idreader/idreader/daemon"
)

// TestDisplayMounted: with the kiosk display mounted, the same decision
// reaches the display stream with the holder's name and the point-of-sale
// stream without it.
func TestDisplayMounted(t *testing.T) {
	f := newFake()
	h := New(Options{Service: f, Display: display.New(display.Options{Service: f, ClearAfter: time.Minute})})
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	page := do(t, h, "GET", "/", "")
	if page.Code != 200 || !strings.Contains(page.Body.String(), "/display/app.js") {
		t.Fatalf("page: %d", page.Code)
	}
	dresp, dsr := openStream(t, ctx, srv.URL+"/display/events")
	defer dresp.Body.Close()
	presp, psr := openStream(t, ctx, srv.URL+"/v1/events")
	defer presp.Body.Close()
	waitFor(t, "both subscriptions", func() bool { return f.Subscribers() == 2 })
	f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "accept", Profile: "identity",
		Personal: &daemon.Personal{Name: "YAMADA Hanako", Portrait: []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}}})

	find := func(sr sseReader, want string) string {
		for {
			block, err := sr.next()
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(block, "\n")
			if strings.Contains(joined, want) {
				return joined
			}
		}
	}
	if got := find(dsr, `"accept"`); !strings.Contains(got, "YAMADA Hanako") || !strings.Contains(got, "data:image/jpeg;base64,") {
		t.Errorf("display stream lacks the personal data: %s", got)
	}
	if got := find(psr, `"decision"`); strings.Contains(got, "Hanako") || strings.Contains(got, "data:image") {
		t.Errorf("point-of-sale stream leaks personal data: %s", got)
	}
	cancel()
}
