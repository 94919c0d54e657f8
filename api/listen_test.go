package api

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListenTCPTokenRule(t *testing.T) {
	ctx := context.Background()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		if ln, err := ListenTCP(ctx, addr, ""); !errors.Is(err, ErrTokenRequired) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("ListenTCP(%q, no token) = %v, want ErrTokenRequired", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := ListenTCP(ctx, addr, "")
		if err != nil {
			t.Errorf("ListenTCP(%q) = %v", addr, err)
			continue
		}
		ln.Close()
	}
	ln, err := ListenTCP(ctx, "0.0.0.0:0", "a-token-for-the-lan-0123")
	if err != nil {
		t.Fatalf("ListenTCP with token: %v", err)
	}
	ln.Close()
	if _, err := ListenTCP(ctx, "no-port", ""); err == nil {
		t.Error("address without port accepted")
	}
}

func TestServeUnixAndTCP(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "api.sock")
	f := newFake()
	h := New(Options{Service: f})
	ul, err := ListenUnix(sock, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v %v", fi.Mode(), err)
	}
	if _, err := ListenUnix(sock, 0); err == nil {
		t.Error("second ListenUnix on a live socket succeeded")
	}
	tl, err := ListenTCP(context.Background(), "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, h, 2*time.Second, ul, tl) }()

	unixClient := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	for name, get := range map[string]func() (*http.Response, error){
		"unix": func() (*http.Response, error) { return unixClient.Get("http://idreader/v1/readers") },
		"tcp":  func() (*http.Response, error) { return http.Get("http://" + tl.Addr().String() + "/v1/readers") },
	} {
		resp, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "counter-1") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	// An open event stream does not hold up the shutdown.
	resp, err := unixClient.Get("http://idreader/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waitFor(t, "subscription", func() bool { return f.Subscribers() == 1 })
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	waitFor(t, "unsubscribe", func() bool { return f.Subscribers() == 0 })

	// A stale socket file is replaced; a regular file is not.
	ul2, err := ListenUnix(sock, 0o600)
	if err != nil {
		t.Fatalf("ListenUnix over a stale socket: %v", err)
	}
	ul2.Close()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, nil, 0o600)
	if _, err := ListenUnix(plain, 0); err == nil {
		t.Error("ListenUnix replaced a regular file")
	}
}

func TestClassOf(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if classOf(a) != connRemote {
		t.Error("a pipe counts as local")
	}
}
