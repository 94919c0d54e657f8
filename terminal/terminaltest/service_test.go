package terminaltest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idreader/idreader/terminal"
)

func TestService(t *testing.T) {
	s := New([]string{"a", "b"}, []string{"age-20"})
	ctx := context.Background()
	if _, err := s.Check(ctx, terminal.CheckRequest{Profile: "x"}); !errors.Is(err, terminal.ErrUnknownProfile) {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err := s.Check(ctx, terminal.CheckRequest{Profile: "age-20", Reader: "z"}); !errors.Is(err, terminal.ErrUnknownReader) {
		t.Errorf("unknown reader: %v", err)
	}
	if _, ok := s.LastResult(); ok {
		t.Error("last result before any check")
	}

	type answer struct {
		res *terminal.CheckResult
		err error
	}
	got := make(chan answer, 1)
	go func() {
		r, err := s.Check(ctx, terminal.CheckRequest{Profile: "age-20", Reader: "b", Timeout: time.Minute})
		got <- answer{r, err}
	}()
	req := <-s.Armed()
	if req.Reader != "b" {
		t.Fatalf("armed %+v", req)
	}
	if _, err := s.Check(ctx, terminal.CheckRequest{Profile: "age-20", Reader: "b"}); !errors.Is(err, terminal.ErrBusy) {
		t.Errorf("busy: %v", err)
	}
	if !s.Answer("b", terminal.CheckResult{Decision: "accept"}) || s.Answer("b", terminal.CheckResult{}) {
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
		_, err := s.Check(ctx, terminal.CheckRequest{Profile: "age-20"})
		got <- answer{err: err}
	}()
	<-s.Armed()
	if !s.CancelCurrent() || s.CancelCurrent() {
		t.Fatal("CancelCurrent")
	}
	if a := <-got; !errors.Is(a.err, terminal.ErrCancelled) {
		t.Errorf("cancelled: %v", a.err)
	}
	if _, err := s.Check(ctx, terminal.CheckRequest{Profile: "age-20", Timeout: time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	<-s.Armed()

	ev, cancel := s.Subscribe(1)
	s.Emit(terminal.Event{Reader: "a", Kind: terminal.EventReaderDown})
	s.Emit(terminal.Event{Reader: "a", Kind: terminal.EventReady}) // dropped: buffer full
	if e := <-ev; e.Seq != 1 || e.Kind != terminal.EventReaderDown || e.Time.IsZero() {
		t.Errorf("event %+v", e)
	}
	if rs := s.Readers(); rs[0].Up != true || rs[0].State != terminal.EventReady {
		t.Errorf("readers %+v", rs)
	}
	cancel()
	cancel()
	if _, open := <-ev; open || s.Subscribers() != 0 {
		t.Error("subscription still open")
	}
}
