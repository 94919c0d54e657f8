package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/internal/buildinfo"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/trust/fetch"
)

// Options configure the API.
type Options struct {
	// Service is the running daemon; required.
	Service daemon.Service
	// Token, when set, is the bearer token every route but /healthz
	// requires on every listener (see the package documentation).
	Token string
	// Metrics, when set, is served at /metrics. The caller starts and
	// stops it.
	Metrics *Metrics
	// Display, when set, is mounted at "/" for local clients (and remote
	// ones with the token): the kiosk page of api/display.
	Display http.Handler
	// DefaultTimeout is a check's timeout when the request gives none
	// (30s); MaxTimeout the longest a request may ask for (5m).
	DefaultTimeout, MaxTimeout time.Duration
	// Heartbeat is the interval of the comment lines that keep an event
	// stream alive through proxies and detect a client that went (15s).
	Heartbeat time.Duration
	// MaxStreams bounds the concurrent event streams (16); one more is
	// answered 503. The display's own stream has its own bound
	// (display.Options.MaxStreams).
	MaxStreams int
	// DisplayKey is the kiosk page's credential when Token is set: the
	// page, its assets and its state stream (which carry the holder's name
	// and portrait) then need the bearer token or this key, given once in
	// the page's URL (/?key=...) and kept by the browser in a cookie
	// limited to this origin. Without a Token a local client needs no key.
	// With a Token and no DisplayKey only bearer-token clients see the page.
	DisplayKey string
	// Trust, when set, reports the trust sources for /healthz: each with
	// its age and whether it is stale (package trust/fetch).
	Trust func() []fetch.SourceStatus
	// Build is the provenance /healthz reports; the zero value means
	// this binary's (buildinfo.Read).
	Build buildinfo.Info
}

// Server is the API's http.Handler.
type Server struct {
	svc       daemon.Service
	token     string
	metrics   *Metrics
	display   http.Handler
	dispKey   string
	defTO     time.Duration
	maxTO     time.Duration
	heartbeat time.Duration
	maxStream int64
	streams   atomic.Int64
	build     buildinfo.Info
	mux       *http.ServeMux
	trust     func() []fetch.SourceStatus
}

// New returns the API over opts.Service, which must not be nil (New panics
// on a nil Service, as http.Handle does on a nil handler).
func New(opts Options) *Server {
	if opts.Service == nil {
		panic("api: nil Service")
	}
	s := &Server{
		svc:       opts.Service,
		token:     opts.Token,
		metrics:   opts.Metrics,
		display:   opts.Display,
		dispKey:   opts.DisplayKey,
		defTO:     cmp(opts.DefaultTimeout, defaultTimeout),
		maxTO:     cmp(opts.MaxTimeout, defaultMaxWait),
		heartbeat: cmp(opts.Heartbeat, 15*time.Second),
		maxStream: int64(opts.MaxStreams),
		build:     opts.Build,
		mux:       http.NewServeMux(),
		trust:     opts.Trust,
	}
	if s.build == (buildinfo.Info{}) {
		s.build = buildinfo.Read()
	}
	if s.maxStream <= 0 {
		s.maxStream = 16
	}
	if s.defTO > s.maxTO {
		s.defTO = s.maxTO
	}
	s.mux.HandleFunc("/v1/checks", s.authz(s.checks))
	s.mux.HandleFunc("/v1/checks/current", s.authz(s.current))
	s.mux.HandleFunc("/v1/results/last", s.authz(s.lastResult))
	s.mux.HandleFunc("/v1/events", s.authz(s.events))
	s.mux.HandleFunc("/v1/readers", s.authz(s.readers))
	s.mux.HandleFunc("/v1/", s.authz(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "api: no such route")
	}))
	s.mux.HandleFunc("/healthz", s.healthz)
	s.mux.HandleFunc("/metrics", s.authz(s.serveMetrics))
	s.mux.HandleFunc("/", s.serveDisplay)
	return s
}

func cmp(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) authz(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			if s.token == "" {
				unauthorized(w, "api: only local clients may call without a token")
			} else {
				unauthorized(w, "api: a valid bearer token is required")
			}
			return
		}
		if s.token == "" && !fromOwnOrigin(r) {
			forbidden(w)
			return
		}
		h(w, r)
	}
}

// checks is POST /v1/checks.
func (s *Server) checks(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, CodeMediaType, "api: the body must be application/json")
			return
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxCheckBody)
	req, err := decodeCheckRequest(body, s.defTO, s.maxTO)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge,
				fmt.Sprintf("api: the body is over %d bytes", maxCheckBody))
			return
		}
		writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
		return
	}
	// The Service applies req.Timeout; the context is a backstop in case
	// it does not, and the write deadline lets the answer out.
	ctx, cancel := context.WithTimeout(r.Context(), req.Timeout+5*time.Second)
	defer cancel()
	extendWrite(w, req.Timeout+15*time.Second)
	res, err := s.svc.Check(ctx, req)
	if r.Context().Err() != nil {
		// The client went away: its check ended with it, nobody listens.
		return
	}
	switch {
	case err == nil && res == nil:
		writeError(w, http.StatusInternalServerError, CodeCheckFailed, "api: the check ended without a result")
	case err == nil:
		writeJSON(w, http.StatusOK, res)
	case errors.Is(err, daemon.ErrUnknownProfile):
		writeError(w, http.StatusNotFound, CodeUnknownProfile, err.Error())
	case errors.Is(err, daemon.ErrUnknownReader):
		writeError(w, http.StatusNotFound, CodeUnknownReader, err.Error())
	case errors.Is(err, daemon.ErrBusy):
		writeError(w, http.StatusConflict, CodeBusy, err.Error())
	case errors.Is(err, daemon.ErrCancelled), errors.Is(err, context.Canceled):
		writeError(w, http.StatusGone, CodeCancelled, err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, terminal.ErrTimeout):
		writeError(w, http.StatusGatewayTimeout, CodeTimeout,
			fmt.Sprintf("api: no tap within %v: %v", req.Timeout, err))
	default:
		writeError(w, http.StatusInternalServerError, CodeCheckFailed, err.Error())
	}
}

// current is DELETE /v1/checks/current.
func (s *Server) current(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodDelete {
		methodNotAllowed(w, http.MethodDelete)
		return
	}
	if !s.svc.CancelCurrent() {
		writeError(w, http.StatusNotFound, CodeNoCheck, "api: no check is waiting")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// lastResult is GET /v1/results/last.
func (s *Server) lastResult(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	res, ok := s.svc.LastResult()
	if !ok || res == nil {
		writeError(w, http.StatusNotFound, CodeNoResult, "api: no check has completed")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// readersBody is the answer of GET /v1/readers and /healthz.
type readersBody struct {
	Status  string                `json:"status,omitempty"`
	Readers []daemon.ReaderStatus `json:"readers"`
	// Trust and TrustStale are in /healthz when the daemon refreshes its
	// trust: every source, and whether any is past its maximum age (the
	// profiles' revocation rule then applies to what it covered).
	Trust      []fetch.SourceStatus `json:"trust,omitempty"`
	TrustStale bool                 `json:"trustStale,omitempty"`
	// Build is the running binary's provenance (/healthz only).
	Build *buildinfo.Info `json:"build,omitempty"`
}

func (s *Server) readers(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	rs := s.svc.Readers()
	if rs == nil {
		rs = []daemon.ReaderStatus{}
	}
	writeJSON(w, http.StatusOK, readersBody{Readers: rs})
}

// healthz is 200 when at least one reader is up, 503 otherwise. It needs
// no token: it tells reader names and states and the build, nothing
// personal.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	rs := s.svc.Readers()
	if rs == nil {
		rs = []daemon.ReaderStatus{}
	}
	body := readersBody{Status: "down", Readers: rs, Build: &s.build}
	if s.trust != nil {
		body.Trust = s.trust()
		for _, t := range body.Trust {
			body.TrustStale = body.TrustStale || t.Stale
		}
	}
	status := http.StatusServiceUnavailable
	for _, rd := range rs {
		if rd.Up {
			body.Status, status = "ok", http.StatusOK
			break
		}
	}
	writeJSON(w, status, body)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		writeError(w, http.StatusNotFound, CodeNotFound, "api: metrics are not enabled")
		return
	}
	if !getOrHead(w, r) {
		return
	}
	s.metrics.Handler().ServeHTTP(w, r)
}

// serveDisplay mounts the kiosk page: local clients need no token, others
// need it (and are refused when none is configured).
func (s *Server) serveDisplay(w http.ResponseWriter, r *http.Request) {
	if s.display == nil {
		writeError(w, http.StatusNotFound, CodeNotFound, "api: no such route")
		return
	}
	switch {
	case s.hasToken(r):
	case !isLocal(r):
		unauthorized(w, "api: the display is for the local kiosk")
		return
	case !fromOwnOrigin(r):
		// It shows names and portraits: not to another site's page.
		forbidden(w)
		return
	case s.token != "":
		// A token protects the API: the page, which shows what a check
		// disclosed, is protected too (any local process could read it
		// otherwise).
		if !s.displayKeyOK(w, r) {
			unauthorized(w, "api: the display needs its key (http.display_key): open /?key=...")
			return
		}
	}
	s.display.ServeHTTP(w, r)
}

func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	methodNotAllowed(w, "GET, HEAD")
	return false
}

// extendWrite moves the connection's write deadline to d from now (or
// removes it for d == 0) where the ResponseWriter supports it.
func extendWrite(w http.ResponseWriter, d time.Duration) {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(t)
}

// events is GET /v1/events: server-sent events of daemon.Event JSON,
// optionally only one reader's (?reader=NAME), with a heartbeat comment
// every Heartbeat. It ends when the client goes, the server shuts down or
// the Service closes the subscription.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if !getOrHead(w, r) {
		return
	}
	if n := s.streams.Add(1); n > s.maxStream {
		s.streams.Add(-1)
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "api: too many event streams")
		return
	}
	defer s.streams.Add(-1)
	reader := r.URL.Query().Get("reader")
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	events, cancel := s.svc.Subscribe(64)
	defer cancel()
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.heartbeat + 10*time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n: idreader events\n\n")) {
		return
	}
	tick := time.NewTicker(s.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		case ev, ok := <-events:
			if !ok {
				return
			}
			if reader != "" && ev.Reader != reader {
				continue
			}
			if !write(sseEvent(ev)) {
				return
			}
		}
	}
}

// sseEvent encodes an event for the stream, personal data removed.
func sseEvent(ev daemon.Event) []byte {
	ev.Personal = nil
	b, err := json.Marshal(ev)
	if err != nil {
		return []byte(": unencodable event\n\n")
	}
	out := make([]byte, 0, len(b)+32)
	out = append(out, "id: "...)
	out = strconv.AppendUint(out, ev.Seq, 10)
	out = append(out, "\ndata: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}
