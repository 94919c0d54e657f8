package simreader_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/simreader"
)

// echoCard answers every APDU with 90 00, or stalls until ctx ends.
type echoCard struct {
	on, off atomic.Int32
	stall   bool
	fail    bool
}

func (c *echoCard) PowerOn()                     { c.on.Add(1) }
func (c *echoCard) PowerOff()                    { c.off.Add(1) }
func (c *echoCard) Transceiver() nfc.Transceiver { return c }
func (c *echoCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if c.fail {
		return nil, errors.New("card: gone")
	}
	if c.stall {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return []byte{0x90, 0x00}, nil
}

func wrap(c *echoCard) simreader.Card { return c }

func TestPutWaitRemove(t *testing.T) {
	ctx := context.Background()
	r := simreader.New("sim", reader.ShortLimits())
	c := &echoCard{}
	tg := r.Put(wrap(c))
	got, err := r.Wait(ctx)
	if err != nil || got != reader.Target(tg) {
		t.Fatalf("Wait = %v, %v", got, err)
	}
	if resp, err := got.Transmit(ctx, []byte{0, 0xa4, 4, 0}); err != nil || len(resp) != 2 {
		t.Fatalf("Transmit = %x, %v", resp, err)
	}
	if _, err := got.Transmit(ctx, make([]byte, 300)); !errors.Is(err, reader.ErrBadCommand) {
		t.Errorf("oversized command: %v", err)
	}
	if n, _ := tg.Activity(); n != 1 {
		t.Errorf("activity %d", n)
	}
	tg.Remove()
	if err := got.WaitRemoved(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := got.Transmit(ctx, []byte{0, 0xa4, 4, 0}); !errors.Is(err, reader.ErrRemoved) {
		t.Errorf("after removal: %v", err)
	}
	if c.on.Load() != 1 || c.off.Load() != 1 {
		t.Errorf("power on %d off %d", c.on.Load(), c.off.Load())
	}
	// A removed target queued before Wait is skipped.
	r.Put(wrap(&echoCard{})).Remove()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(wctx); !errors.Is(err, reader.ErrTimeout) {
		t.Errorf("Wait on an empty field: %v", err)
	}
	r.Close()
	if _, err := r.Wait(ctx); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Wait after Close: %v", err)
	}
}

func TestRemoveCutsStall(t *testing.T) {
	r := simreader.New("sim", reader.Limits{})
	tg := r.Put(wrap(&echoCard{stall: true}))
	go func() {
		time.Sleep(20 * time.Millisecond)
		tg.Remove()
	}()
	if _, err := tg.Transmit(context.Background(), []byte{0, 0xc3, 0, 0}); !errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("stalled transmit: %v", err)
	}
}

func TestFailingCardIsRemoved(t *testing.T) {
	r := simreader.New("sim", reader.Limits{})
	tg := r.Put(wrap(&echoCard{fail: true}))
	if _, err := tg.Transmit(context.Background(), []byte{0, 0xc3, 0, 0}); !errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("failing card: %v", err)
	}
	if !tg.Removed() {
		t.Error("target still present")
	}
}

func TestCycle(t *testing.T) {
	r := simreader.New("sim", reader.Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := &echoCard{}, &echoCard{}
	taps := make(chan int, 8)
	go r.Cycle(ctx, simreader.CycleOptions{Interval: time.Millisecond, Linger: 5 * time.Millisecond, OnTap: func(i int) { taps <- i }}, wrap(a), wrap(b))
	for want := range 4 {
		tg, err := r.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tg.Transmit(ctx, []byte{0, 0xb0, 0, 0}); err != nil {
			t.Fatal(err)
		}
		if err := tg.WaitRemoved(ctx); err != nil {
			t.Fatal(err)
		}
		if i := <-taps; i != want%2 {
			t.Errorf("tap %d was card %d", want, i)
		}
	}
	if err := r.Cycle(ctx, simreader.CycleOptions{}); !errors.Is(err, simreader.ErrNoCards) {
		t.Errorf("no cards: %v", err)
	}
}
