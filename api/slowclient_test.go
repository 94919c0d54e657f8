package api

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/api/display"
	"github.com/idreader/idreader/daemon"
)

// TestStreamClientThatNeverReads: an event-stream client (point of sale or
// display) that stops reading neither slows the events' producer nor keeps
// its subscription: the write deadline ends the stream and unsubscribes.
func TestStreamClientThatNeverReads(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the write deadline (heartbeat + 10 s)")
	}
	f := newFake()
	h := New(Options{Service: f, Heartbeat: 50 * time.Millisecond,
		Display: display.New(display.Options{Service: f, Heartbeat: 50 * time.Millisecond})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, h, time.Second, ln) }()
	defer func() { cancel(); <-done }()

	for _, path := range []string{"/v1/events", "/display/events"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4096)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, ln.Addr())
	}
	waitFor(t, "two subscriptions", func() bool { return f.Subscribers() == 2 })
	big := strings.Repeat("x", 60<<10)
	start := time.Now()
	var slowest time.Duration
	for f.Subscribers() > 0 {
		if time.Since(start) > 40*time.Second {
			t.Fatalf("%d streams still subscribed after %s", f.Subscribers(), time.Since(start))
		}
		t0 := time.Now()
		f.Emit(daemon.Event{Reader: "counter-1", Kind: daemon.EventDecision, Decision: "reject", Reasons: []string{big}})
		slowest = max(slowest, time.Since(t0))
		time.Sleep(2 * time.Millisecond)
	}
	if slowest > 100*time.Millisecond {
		t.Errorf("an event took %s to emit", slowest)
	}
	t.Logf("streams ended after %s; slowest emit %s", time.Since(start), slowest)
}
