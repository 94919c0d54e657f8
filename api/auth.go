package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// connClass is how a connection reached the server.
type connClass int

const (
	connUnknown connClass = iota
	connLocal             // loopback TCP
	connUnix              // a Unix socket
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
		return connUnix
	case *net.TCPAddr:
		if a.IP.IsLoopback() {
			return connLocal
		}
		return connRemote
	}
	if _, ok := c.LocalAddr().(*net.UnixAddr); ok {
		return connUnix
	}
	return connRemote
}

// viaUnix reports whether the request came over a Unix socket, which no
// web browser can reach.
func viaUnix(r *http.Request) bool {
	if c, ok := r.Context().Value(connClassKey{}).(connClass); ok && c != connUnknown {
		return c == connUnix
	}
	return r.RemoteAddr == "" || r.RemoteAddr == "@"
}

// fromOwnOrigin reports whether a request trusted for coming from this box
// (no token) is not a web page of another site: a browser on the box is a
// loopback client too. The Host must be a loopback name (a site whose name
// was rebound to 127.0.0.1 sends its own name: DNS rebinding), and a
// browser's Origin and Sec-Fetch-Site must say same origin (a cross-site
// page may send simple requests, e.g. a POST without a Content-Type,
// without CORS). Programs on the box (curl, the point of sale) send no
// Origin or Sec-Fetch-Site; Unix-socket requests are never a browser's.
func fromOwnOrigin(r *http.Request) bool {
	if viaUnix(r) {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if !strings.EqualFold(host, "localhost") {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	return true
}

// isLocal reports whether the request came over a Unix socket or from a
// loopback address. Behind a server built without [NewHTTPServer] it reads
// RemoteAddr, which net/http sets from the connection: an address without a
// port (a Unix socket's "" or "@") counts as local.
func isLocal(r *http.Request) bool {
	if c, ok := r.Context().Value(connClassKey{}).(connClass); ok && c != connUnknown {
		return c == connLocal || c == connUnix
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
// configured, it must present it; without one, it must be local (and
// fromOwnOrigin, which the handlers check apart to answer 403).
func (s *Server) authorized(r *http.Request) bool {
	if s.token == "" {
		return isLocal(r)
	}
	return s.hasToken(r)
}

// hasToken reports whether the request presents the configured token.
func (s *Server) hasToken(r *http.Request) bool {
	if s.token == "" {
		return false
	}
	t, ok := bearer(r)
	return ok && tokenMatches(t, s.token)
}

func forbidden(w http.ResponseWriter) {
	writeError(w, http.StatusForbidden, CodeForbidden,
		"api: a local client must call by a loopback name (127.0.0.1, ::1, localhost) and not from another site's web page")
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="idreader"`)
	writeError(w, http.StatusUnauthorized, CodeUnauthorized, detail)
}

// displayCookie keeps the display key in the kiosk's browser once the page
// was opened with ?key=.
const displayCookie = "idreader_display"

// displayKeyOK reports whether r carries the display key, in the query
// (then the key is set as a cookie for the assets and the state stream) or
// in the cookie. Without a configured key nothing matches.
func (s *Server) displayKeyOK(w http.ResponseWriter, r *http.Request) bool {
	if s.dispKey == "" {
		return false
	}
	if k := r.URL.Query().Get("key"); k != "" {
		if !tokenMatches(k, s.dispKey) {
			return false
		}
		http.SetCookie(w, &http.Cookie{
			Name: displayCookie, Value: k, Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
		return true
	}
	c, err := r.Cookie(displayCookie)
	return err == nil && tokenMatches(c.Value, s.dispKey)
}
