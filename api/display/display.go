package display

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/idreader/idreader/daemon"
)

//go:embed static
var static embed.FS

// States of the page.
const (
	StateReady   = "ready"
	StateReading = "reading"
	StateAccept  = "accept"
	StateReject  = "reject"
	StateDown    = "down"
)

// Options configure the display.
type Options struct {
	// Service is the running daemon; required.
	Service daemon.Service
	// ClearAfter is how long a decision (and the holder's name and
	// portrait) stays on screen before the page returns to ready (8s).
	ClearAfter time.Duration
	// Reader limits the page to one reader's events; empty shows every
	// reader's.
	Reader string
	// Heartbeat is the interval of keep-alive comments on the stream (15s).
	Heartbeat time.Duration
	// MaxStreams bounds the concurrent state streams (DefaultMaxStreams);
	// one more is answered 503, as /v1/events is. Each stream holds a
	// subscription to the daemon's events.
	MaxStreams int
}

// DefaultMaxStreams is the default of Options.MaxStreams: a kiosk or two,
// with room for reloads.
const DefaultMaxStreams = 8

// State is one message of /display/events: what the page shows.
type State struct {
	State   string `json:"state"`
	Reader  string `json:"reader,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Reasons are the decision's codes and Messages their sentences.
	Reasons  []string `json:"reasons,omitempty"`
	Messages []Text   `json:"messages,omitempty"`
	// Name and Portrait (a data: URL, JPEG or PNG only) are set for a
	// decision whose profile lets the clerk compare faces.
	Name     string `json:"name,omitempty"`
	Portrait string `json:"portrait,omitempty"`
	// ClearAfterMS tells the page when to clear a decision by itself.
	ClearAfterMS int64 `json:"clearAfterMs,omitempty"`
}

// Handler serves the kiosk page at "/", its assets under /display/ and
// the state stream at /display/events.
type Handler struct {
	svc        daemon.Service
	clearAfter time.Duration
	reader     string
	heartbeat  time.Duration
	maxStreams int64
	streams    atomic.Int64
	assets     http.Handler
	// noServerClear leaves clearing to the page's own timer (tests).
	noServerClear bool
}

// New returns the display over opts.Service, which must not be nil (New
// panics on a nil Service).
func New(opts Options) *Handler {
	if opts.Service == nil {
		panic("display: nil Service")
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("display: embedded assets: " + err.Error())
	}
	h := &Handler{
		svc:        opts.Service,
		clearAfter: opts.ClearAfter,
		reader:     opts.Reader,
		heartbeat:  opts.Heartbeat,
		maxStreams: int64(opts.MaxStreams),
		assets:     http.FileServerFS(sub),
	}
	if h.clearAfter <= 0 {
		h.clearAfter = 8 * time.Second
	}
	if h.heartbeat <= 0 {
		h.heartbeat = 15 * time.Second
	}
	if h.maxStreams <= 0 {
		h.maxStreams = DefaultMaxStreams
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "display: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	switch r.URL.Path {
	case "/", "/index.html":
		hd.Set("Cache-Control", "no-cache")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/"
		h.assets.ServeHTTP(w, r2)
	case "/display/app.js", "/display/style.css":
		hd.Set("Cache-Control", "no-cache")
		r2 := r.Clone(r.Context())
		r2.URL.Path = r.URL.Path[len("/display"):]
		h.assets.ServeHTTP(w, r2)
	case "/display/events":
		h.events(w, r)
	default:
		http.NotFound(w, r)
	}
}

// readerUp reports whether the display's reader (any reader when none is
// named) is up.
func (h *Handler) readerUp() bool {
	for _, rs := range h.svc.Readers() {
		if (h.reader == "" || rs.Name == h.reader) && rs.Up {
			return true
		}
	}
	return false
}

// idle is the state between taps.
func idle(up bool) State {
	if up {
		return State{State: StateReady}
	}
	return State{State: StateDown}
}

// decisionState is the screen for a decision event, with the personal
// data the Service attached.
func (h *Handler) decisionState(ev daemon.Event) State {
	st := State{
		State:        StateReject,
		Reader:       ev.Reader,
		Profile:      ev.Profile,
		Reasons:      ev.Reasons,
		ClearAfterMS: h.clearAfter.Milliseconds(),
	}
	if ev.Decision == "accept" {
		st.State = StateAccept
	}
	for _, c := range ev.Reasons {
		st.Messages = append(st.Messages, ReasonText(c))
	}
	if st.State == StateReject && len(st.Messages) == 0 {
		st.Messages = []Text{unknownReason}
	}
	if p := ev.Personal; p != nil {
		st.Name = p.Name
		st.Portrait = dataURL(p.Portrait)
	}
	return st
}

// dataURL encodes a portrait the browser can show: JPEG (ISO/IEC 18013-5
// clause 7.2.1 portrait) or PNG. JPEG 2000, which Chromium cannot draw, and
// anything else is left out.
func dataURL(img []byte) string {
	var mime string
	switch {
	case bytes.HasPrefix(img, []byte{0xff, 0xd8, 0xff}):
		mime = "image/jpeg"
	case bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")):
		mime = "image/png"
	default:
		return ""
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(img)
}

// events streams State messages: the current one at once, then one per
// relevant event. A decision holds the screen for ClearAfter (the phone
// being removed or the reader going ready does not cut it short; a new
// tap or the reader going down does), then the server sends the idle
// state, which clears the personal data.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	if n := h.streams.Add(1); n > h.maxStreams {
		h.streams.Add(-1)
		http.Error(w, "display: too many state streams", http.StatusServiceUnavailable)
		return
	}
	defer h.streams.Add(-1)
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	events, cancel := h.svc.Subscribe(32)
	defer cancel()
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(h.heartbeat + 10*time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	send := func(st State) bool {
		b, err := json.Marshal(st)
		if err != nil {
			return false
		}
		return write(append(append([]byte("data: "), b...), '\n', '\n'))
	}
	up := h.readerUp()
	if !write([]byte("retry: 1000\n\n")) || !send(idle(up)) {
		return
	}
	tick := time.NewTicker(h.heartbeat)
	defer tick.Stop()
	clearT := time.NewTimer(time.Hour)
	clearT.Stop()
	defer clearT.Stop()
	holding := false
	for {
		var ok bool
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			ok = write([]byte(": heartbeat\n\n"))
		case <-clearT.C:
			holding = false
			ok = send(idle(up))
		case ev, open := <-events:
			if !open {
				return
			}
			if h.reader != "" && ev.Reader != h.reader {
				continue
			}
			ok = true
			switch ev.Kind {
			case daemon.EventReaderDown:
				up = h.readerUp()
				if !up {
					clearT.Stop()
					holding = false
					ok = send(idle(false))
				}
			case daemon.EventReading:
				up = true
				clearT.Stop()
				holding = false
				ok = send(State{State: StateReading, Reader: ev.Reader, Profile: ev.Profile})
			case daemon.EventDecision:
				up = true
				holding = true
				ok = send(h.decisionState(ev))
				clearT.Reset(h.clearAfter)
				if h.noServerClear {
					clearT.Stop()
				}
			default: // reader_up, ready, removed
				up = true
				if !holding {
					ok = send(idle(true))
				}
			}
		}
		if !ok {
			return
		}
	}
}
