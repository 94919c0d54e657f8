package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// DefaultAddr is the API's default address: loopback only.
const DefaultAddr = "127.0.0.1:8080"

// ErrTokenRequired is returned by ListenTCP for a non-loopback address
// without a token.
var ErrTokenRequired = errors.New("api: a bearer token is required to listen on a non-loopback address")

// ListenTCP listens on addr (DefaultAddr when empty). Without a token it
// refuses any address that is not loopback: an empty or unspecified host
// ("0.0.0.0", "::"), a non-loopback IP, or a host name that resolves to
// anything but loopback addresses; the bound address is checked again.
func ListenTCP(ctx context.Context, addr, token string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen address %q: %w", addr, err)
	}
	if token == "" {
		ok, err := loopbackHost(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("api: resolving listen host %q: %w", host, err)
		}
		if !ok {
			return nil, fmt.Errorf("%w (%s)", ErrTokenRequired, addr)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: listening on %s: %w", addr, err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); token == "" && (!ok || !a.IP.IsLoopback()) {
		ln.Close()
		return nil, fmt.Errorf("%w (bound to %s)", ErrTokenRequired, ln.Addr())
	}
	return ln, nil
}

func loopbackHost(ctx context.Context, host string) (bool, error) {
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), nil
	}
	if host == "localhost" {
		return true, nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return false, err
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return false, nil
		}
	}
	return len(ips) > 0, nil
}

// ListenUnix listens on a Unix socket at path with the given permissions
// (0660 when zero), replacing a stale socket file but nothing else.
func ListenUnix(path string, mode os.FileMode) (net.Listener, error) {
	if mode == 0 {
		mode = 0o660
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("api: %s exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("api: %s is in use", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("api: removing stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api: listening on %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("api: setting socket permissions: %w", err)
	}
	return ln, nil
}

// NewHTTPServer returns an http.Server for h with the API's limits: 5s to
// read the headers (16 KiB at most), 10s for the body, 30s for an answer
// (the long-running routes move their own write deadline), 60s idle
// connections. Its ConnContext records whether each connection is local
// (loopback TCP or a Unix socket), which the token rules use. Its
// BaseContext ends at Shutdown, so event streams and waiting checks end
// too.
func NewHTTPServer(h http.Handler) *http.Server {
	base, cancel := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext:       classifyConn,
	}
	srv.RegisterOnShutdown(cancel)
	return srv
}

// Serve serves h on every listener until ctx ends or one of them fails,
// then shuts down, giving requests in flight up to grace to finish. It
// returns nil after a shutdown caused by ctx.
func Serve(ctx context.Context, h http.Handler, grace time.Duration, ls ...net.Listener) error {
	if len(ls) == 0 {
		return errors.New("api: no listener")
	}
	srv := NewHTTPServer(h)
	errc := make(chan error, len(ls))
	var wg sync.WaitGroup
	for _, ln := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("api: serving %s: %w", ln.Addr(), err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	wg.Wait()
	return err
}
