package daemontest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/idreader/idreader/daemon"
)

// Service is a scripted daemon.Service. The zero value is not usable;
// call New. It is safe for concurrent use.
type Service struct {
	// Now stamps events and results; time.Now when nil. Set before use.
	Now func() time.Time

	mu       sync.Mutex
	readers  []daemon.ReaderStatus
	profiles []string
	last     *daemon.CheckResult
	pending  map[string]*pendingCheck // by reader name
	armed    chan daemon.CheckRequest
	subs     map[int]chan daemon.Event
	nextSub  int
	seq      uint64
	checks   int
}

type pendingCheck struct {
	id   string
	req  daemon.CheckRequest
	done chan outcome
}

type outcome struct {
	res *daemon.CheckResult
	err error
}

var _ daemon.Service = (*Service)(nil)

// New returns a fake with the named readers, all up and ready, knowing the
// given profiles (nil: any profile is accepted).
func New(readers []string, profiles []string) *Service {
	s := &Service{
		profiles: slices.Clone(profiles),
		pending:  map[string]*pendingCheck{},
		armed:    make(chan daemon.CheckRequest, 16),
		subs:     map[int]chan daemon.Event{},
	}
	for _, r := range readers {
		s.readers = append(s.readers, daemon.ReaderStatus{Name: r, Up: true, State: daemon.EventReady})
	}
	return s
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Check implements daemon.Service. It fails with ErrUnknownProfile,
// ErrUnknownReader or ErrBusy like the daemon, then announces the request
// on Armed and waits for Answer, Fail, CancelCurrent, the request's timeout
// (an error wrapping context.DeadlineExceeded) or ctx.
func (s *Service) Check(ctx context.Context, req daemon.CheckRequest) (*daemon.CheckResult, error) {
	s.mu.Lock()
	if s.profiles != nil && !slices.Contains(s.profiles, req.Profile) {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w %q", daemon.ErrUnknownProfile, req.Profile)
	}
	name, ok := s.resolveLocked(req.Reader)
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w %q", daemon.ErrUnknownReader, req.Reader)
	}
	if _, busy := s.pending[name]; busy {
		s.mu.Unlock()
		return nil, daemon.ErrBusy
	}
	s.checks++
	req.Reader = name
	p := &pendingCheck{id: fmt.Sprintf("chk-%d", s.checks), req: req, done: make(chan outcome, 1)}
	s.pending[name] = p
	s.mu.Unlock()

	select {
	case s.armed <- req:
	default:
	}
	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var o outcome
	select {
	case o = <-p.done:
	case <-timeout:
		o.err = fmt.Errorf("daemon: no tap within %v: %w", req.Timeout, context.DeadlineExceeded)
	case <-ctx.Done():
		o.err = ctx.Err()
	}
	s.mu.Lock()
	if s.pending[name] == p {
		delete(s.pending, name)
	}
	s.mu.Unlock()
	// An answer that raced with the timeout or ctx still wins if it is there.
	select {
	case late := <-p.done:
		o = late
	default:
	}
	return o.res, o.err
}

func (s *Service) resolveLocked(reader string) (string, bool) {
	if reader == "" {
		if len(s.readers) == 0 {
			return "", false
		}
		return s.readers[0].Name, true
	}
	for _, r := range s.readers {
		if r.Name == reader {
			return r.Name, true
		}
	}
	return "", false
}

// Armed delivers each request that starts waiting for a tap (with Reader
// resolved), so a test knows when to Answer.
func (s *Service) Armed() <-chan daemon.CheckRequest { return s.armed }

// Answer completes the check waiting on reader ("" for the first reader)
// with res, filling ID, Reader, Profile and the times when empty, and makes
// it the last result. It reports whether a check was waiting.
func (s *Service) Answer(reader string, res daemon.CheckResult) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _ := s.resolveLocked(reader)
	p, ok := s.pending[name]
	if !ok {
		return false
	}
	delete(s.pending, name)
	if res.ID == "" {
		res.ID = p.id
	}
	if res.Reader == "" {
		res.Reader = name
	}
	if res.Profile == "" {
		res.Profile = p.req.Profile
	}
	if res.Finished.IsZero() {
		res.Finished = s.now()
	}
	if res.Started.IsZero() {
		res.Started = res.Finished
	}
	s.last = &res
	cp := res
	p.done <- outcome{res: &cp}
	return true
}

// Fail ends the check waiting on reader with err and reports whether there
// was one.
func (s *Service) Fail(reader string, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _ := s.resolveLocked(reader)
	p, ok := s.pending[name]
	if !ok {
		return false
	}
	delete(s.pending, name)
	p.done <- outcome{err: err}
	return true
}

// LastResult implements daemon.Service.
func (s *Service) LastResult() (*daemon.CheckResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return nil, false
	}
	cp := *s.last
	return &cp, true
}

// SetLast sets the result LastResult returns (nil: none).
func (s *Service) SetLast(res *daemon.CheckResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = res
}

// CancelCurrent implements daemon.Service: every waiting check ends with
// daemon.ErrCancelled.
func (s *Service) CancelCurrent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	had := len(s.pending) > 0
	for name, p := range s.pending {
		delete(s.pending, name)
		p.done <- outcome{err: daemon.ErrCancelled}
	}
	return had
}

// Subscribe implements daemon.Service: events beyond buffer are dropped
// for that subscriber.
func (s *Service) Subscribe(buffer int) (<-chan daemon.Event, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextSub
	s.nextSub++
	ch := make(chan daemon.Event, max(buffer, 0))
	s.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c, ok := s.subs[id]; ok {
				delete(s.subs, id)
				close(c)
			}
		})
	}
}

// Subscribers reports how many subscriptions are open, so a test can see a
// consumer come and go.
func (s *Service) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Emit stamps ev (Seq always, Time when zero), updates the reader's status
// for reader events and sends it to every subscriber without blocking. It
// returns the stamped event.
func (s *Service) Emit(ev daemon.Event) daemon.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	ev.Seq = s.seq
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	for i := range s.readers {
		if s.readers[i].Name != ev.Reader {
			continue
		}
		switch ev.Kind {
		case daemon.EventReaderDown:
			s.readers[i].Up = false
		default:
			s.readers[i].Up = true
		}
		s.readers[i].State = ev.Kind
	}
	for _, ch := range s.subs {
		select {
		case ch <- ev:
		default:
		}
	}
	return ev
}

// CloseSubscriptions ends every open subscription, as a daemon does when it
// stops.
func (s *Service) CloseSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ch := range s.subs {
		delete(s.subs, id)
		close(ch)
	}
}

// Readers implements daemon.Service.
func (s *Service) Readers() []daemon.ReaderStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.readers)
}
