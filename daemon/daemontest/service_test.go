package daemontest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
)

func TestService(t *testing.T) {
	s := New([]string{"a", "b"}, []string{"age-20"})
	ctx := context.Background()
	if _, err := s.Check(ctx, daemon.CheckRequest{Profile: "x"}); !errors.Is(err, daemon.ErrUnknownProfile) {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err := s.Check(ctx, daemon.CheckRequest{Profile: "age-20", Reader: "z"}); !errors.Is(err, daemon.ErrUnknownReader) {
		t.Errorf("unknown reader: %v", err)
	}
	if _, ok := s.LastResult(); ok {
		t.Error("last result before any check")
	}

	type answer struct {
		res *daemon.CheckResult
		err error
	}
	got := make(chan answer, 1)
	go func() {
		r, err := s.Check(ctx, daemon.CheckRequest{Profile: "age-20", Reader: "b", Timeout: time.Minute})
		got <- answer{r, err}
	}()
	req := <-s.Armed()
	if req.Reader != "b" {
		t.Fatalf("armed %+v", req)
	}
	if _, err := s.Check(ctx, daemon.CheckRequest{Profile: "age-20", Reader: "b"}); !errors.Is(err, daemon.ErrBusy) {
		t.Errorf("busy: %v", err)
	}
	if !s.Answer("b", daemon.CheckResult{Decision: "accept"}) || s.Answer("b", daemon.CheckResult{}) {
		t.Fatal("Answer")
	}
	a := <-got
	if a.err != nil || a.res.Decision != "accept" || a.res.ID != "chk-1" || a.res.Reader != "b" || a.res.Profile != "age-20" {
		t.Fatalf("answer %+v %v", a.res, a.err)
	}
	if last, ok := s.LastResult(); !ok || last.ID != "chk-1" {
		t.Errorf("last %+v", last)
	}

	go func() {
		_, err := s.Check(ctx, daemon.CheckRequest{Profile: "age-20"})
		got <- answer{err: err}
	}()
	<-s.Armed()
	if !s.CancelCurrent() || s.CancelCurrent() {
		t.Fatal("CancelCurrent")
	}
	if a := <-got; !errors.Is(a.err, daemon.ErrCancelled) {
		t.Errorf("cancelled: %v", a.err)
	}
	if _, err := s.Check(ctx, daemon.CheckRequest{Profile: "age-20", Timeout: time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	<-s.Armed()

	ev, cancel := s.Subscribe(1)
	s.Emit(daemon.Event{Reader: "a", Kind: daemon.EventReaderDown})
	s.Emit(daemon.Event{Reader: "a", Kind: daemon.EventReady}) // dropped: buffer full
	if e := <-ev; e.Seq != 1 || e.Kind != daemon.EventReaderDown || e.Time.IsZero() {
		t.Errorf("event %+v", e)
	}
	if rs := s.Readers(); rs[0].Up != true || rs[0].State != daemon.EventReady {
		t.Errorf("readers %+v", rs)
	}
	cancel()
	cancel()
	if _, open := <-ev; open || s.Subscribers() != 0 {
		t.Error("subscription still open")
	}
}
