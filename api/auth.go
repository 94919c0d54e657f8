package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// connClass is how a connection reached the server.
type connClass int

const (
	connUnknown connClass = iota
	connLocal             // loopback TCP or a Unix socket
	connRemote            // any other address
)

type connClassKey struct{}

// classifyConn is the http.Server ConnContext of [NewHTTPServer]: it
// records whether the connection is local (a Unix socket, or TCP from a
// loopback address) so the handlers need not trust RemoteAddr strings.
func classifyConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connClassKey{}, classOf(c))
}

func classOf(c net.Conn) connClass {
	switch a := c.RemoteAddr().(type) {
	case *net.UnixAddr:
		return connLocal
	case *net.TCPAddr:
		if a.IP.IsLoopback() {
			return connLocal
		}
		return connRemote
	}
	if _, ok := c.LocalAddr().(*net.UnixAddr); ok {
		return connLocal
	}
	return connRemote
}

// isLocal reports whether the request came over a Unix socket or from a
// loopback address. Behind a server built without [NewHTTPServer] it reads
// RemoteAddr, which net/http sets from the connection: an address without a
// port (a Unix socket's "" or "@") counts as local.
func isLocal(r *http.Request) bool {
	if c, ok := r.Context().Value(connClassKey{}).(connClass); ok && c != connUnknown {
		return c == connLocal
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr == "" || r.RemoteAddr == "@"
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tokenMatches compares the presented bearer token with the configured one
// in constant time: both are hashed to a fixed length first, so neither the
// content nor the length of the configured token leaks through timing.
func tokenMatches(presented, configured string) bool {
	a := sha256.Sum256([]byte(presented))
	b := sha256.Sum256([]byte(configured))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}

// authorized reports whether the request may use the API: with a token
// configured, it must present it; without one, it must be local.
func (s *Server) authorized(r *http.Request) bool {
	if s.token == "" {
		return isLocal(r)
	}
	t, ok := bearer(r)
	return ok && tokenMatches(t, s.token)
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="idreader"`)
	writeError(w, http.StatusUnauthorized, CodeUnauthorized, detail)
}
