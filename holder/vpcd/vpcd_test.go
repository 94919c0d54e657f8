package vpcd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sort"
	"sync"
	"testing"
	"time"
)

// fakeCard records what vpcd told it and echoes commands back with 90 00.
type fakeCard struct {
	mu             sync.Mutex
	on, off, reset int
	cmds           [][]byte
	onTransmit     func(apdu []byte) []byte
}

func (c *fakeCard) PowerOn()  { c.mu.Lock(); c.on++; c.mu.Unlock() }
func (c *fakeCard) PowerOff() { c.mu.Lock(); c.off++; c.mu.Unlock() }
func (c *fakeCard) Reset()    { c.mu.Lock(); c.reset++; c.mu.Unlock() }
func (c *fakeCard) Transmit(apdu []byte) []byte {
	c.mu.Lock()
	c.cmds = append(c.cmds, bytes.Clone(apdu))
	f := c.onTransmit
	c.mu.Unlock()
	if f != nil {
		return f(apdu)
	}
	return append(bytes.Clone(apdu), 0x90, 0x00)
}

func (c *fakeCard) counts() (int, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on, c.off, c.reset
}

// fakeVPCD is the reader side of the protocol.
type fakeVPCD struct {
	t  testing.TB
	ln net.Listener
}

func newFakeVPCD(t testing.TB) *fakeVPCD {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{t: t, ln: ln}
}

func (v *fakeVPCD) addr() string { return v.ln.Addr().String() }

func (v *fakeVPCD) accept() net.Conn {
	v.t.Helper()
	c, err := v.ln.Accept()
	if err != nil {
		v.t.Fatal(err)
	}
	v.t.Cleanup(func() { c.Close() })
	return c
}

func send(t testing.TB, c net.Conn, p []byte) {
	t.Helper()
	// Like vpcd: the length and the payload in two writes.
	if _, err := c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(p)))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(p); err != nil {
		t.Fatal(err)
	}
}

func recv(t testing.TB, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		t.Fatalf("reading length: %v", err)
	}
	p := make([]byte, binary.BigEndian.Uint16(h[:]))
	if _, err := io.ReadFull(c, p); err != nil {
		t.Fatalf("reading payload: %v", err)
	}
	return p
}

func expectClosed(t testing.TB, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the card left = %d, %v; want EOF", n, err)
	}
}

func startTap(t *testing.T, ctx context.Context, addr string, card Card) chan error {
	done := make(chan error, 1)
	go func() { done <- Tap(ctx, addr, card) }()
	return done
}

func TestProtocol(t *testing.T) {
	v := newFakeVPCD(t)
	card := &fakeCard{}
	ctx, cancel := context.WithCancel(context.Background())
	done := startTap(t, ctx, v.addr(), card)
	c := v.accept()

	send(t, c, []byte{0x04})
	if got := recv(t, c); !bytes.Equal(got, ATR) {
		t.Fatalf("ATR = % X", got)
	}
	send(t, c, []byte{0x01})
	send(t, c, []byte{0x04}) // presence poll while powered
	recv(t, c)
	cmd := []byte{0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00}
	send(t, c, cmd)
	if got := recv(t, c); !bytes.Equal(got, append(bytes.Clone(cmd), 0x90, 0x00)) {
		t.Fatalf("response = % X", got)
	}
	send(t, c, []byte{0x02})
	send(t, c, []byte{0x00})
	send(t, c, []byte{0x04})
	recv(t, c)
	if on, off, reset := card.counts(); on != 1 || off != 1 || reset != 1 {
		t.Errorf("power on/off/reset = %d/%d/%d, want 1/1/1", on, off, reset)
	}
	// A large command and response (the 65535-byte frame limit).
	large := make([]byte, 0xFFFD)
	for i := range large {
		large[i] = byte(i)
	}
	send(t, c, large)
	if got := recv(t, c); len(got) != 0xFFFF || !bytes.Equal(got[:0xFFFD], large) {
		t.Fatalf("large response of %d bytes", len(got))
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Tap = %v", err)
	}
	expectClosed(t, c)
	if _, off, _ := card.counts(); off != 2 {
		t.Errorf("leaving the field did not power the card off")
	}
}

func TestEndTapFromCard(t *testing.T) {
	v := newFakeVPCD(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	card := &fakeCard{onTransmit: func(apdu []byte) []byte {
		cancel() // the tap is over after this response
		return []byte{0x90, 0x00}
	}}
	done := startTap(t, ctx, v.addr(), card)
	c := v.accept()
	send(t, c, []byte{0x00, 0xA4, 0x04, 0x00})
	if got := recv(t, c); !bytes.Equal(got, []byte{0x90, 0x00}) {
		t.Fatalf("last response = % X", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Tap = %v", err)
	}
	expectClosed(t, c)
}

func TestVanishWithoutAnswer(t *testing.T) {
	v := newFakeVPCD(t)
	card := &fakeCard{onTransmit: func([]byte) []byte { return nil }}
	done := startTap(t, context.Background(), v.addr(), card)
	c := v.accept()
	send(t, c, []byte{0x80, 0xEE, 0x00, 0x00})
	expectClosed(t, c)
	if err := <-done; err != nil {
		t.Fatalf("Tap = %v", err)
	}
}

func TestReaderCloses(t *testing.T) {
	v := newFakeVPCD(t)
	done := startTap(t, context.Background(), v.addr(), &fakeCard{})
	c := v.accept()
	send(t, c, []byte{0x04})
	recv(t, c)
	c.Close()
	if err := <-done; !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Tap = %v, want ErrDisconnected", err)
	}
}

func TestTruncatedFrame(t *testing.T) {
	v := newFakeVPCD(t)
	done := startTap(t, context.Background(), v.addr(), &fakeCard{})
	c := v.accept()
	c.Write([]byte{0x00, 0x10, 0x00, 0xA4})
	c.Close()
	if err := <-done; !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Tap = %v, want ErrDisconnected", err)
	}
}

func TestOversizedResponse(t *testing.T) {
	v := newFakeVPCD(t)
	card := &fakeCard{onTransmit: func([]byte) []byte { return make([]byte, 0x10000) }}
	done := startTap(t, context.Background(), v.addr(), card)
	c := v.accept()
	send(t, c, []byte{0x80, 0x12, 0xFF, 0xFF})
	if err := <-done; err == nil || errors.Is(err, ErrDisconnected) {
		t.Fatalf("Tap = %v, want a frame size error", err)
	}
	expectClosed(t, c)
}

// freePort returns an address where nothing listens (connections refused).
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDialRedialsWhileRefused(t *testing.T) {
	addr := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		c, err := Dial(ctx, addr)
		if err == nil {
			c.Close()
		}
		got <- err
	}()
	time.Sleep(250 * time.Millisecond)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer ln.Close()
	if err := <-got; err != nil {
		t.Fatalf("Dial = %v", err)
	}
}

func TestDialContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, freePort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, want DeadlineExceeded", err)
	}
}

func TestServeSurvivesReaderRestart(t *testing.T) {
	v := newFakeVPCD(t)
	card := &fakeCard{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, v.addr(), card) }()
	for i := range 3 {
		c := v.accept()
		send(t, c, []byte{0x04})
		if got := recv(t, c); !bytes.Equal(got, ATR) {
			t.Fatalf("connection %d: ATR = % X", i, got)
		}
		c.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve = %v", err)
	}
}

// FuzzServe feeds arbitrary bytes from the reader side; the card must never
// panic and must end when the stream ends.
func FuzzServe(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x04})
	f.Add([]byte{0x00, 0x01, 0x01, 0x00, 0x07, 0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00})
	f.Add([]byte{0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		go func() {
			b.Write(data)
			b.Close()
		}()
		go io.Copy(io.Discard, b)
		c := newConn(a)
		defer c.Close()
		err := c.Serve(context.Background(), &fakeCard{})
		if err != nil && !errors.Is(err, ErrDisconnected) {
			t.Fatalf("Serve = %v", err)
		}
	})
}

// BenchmarkRoundTrip measures one SELECT through the card over loopback TCP
// against a reader that writes like vpcd (two writes per frame); median-ns
// is the median round trip.
func BenchmarkRoundTrip(b *testing.B) {
	v := newFakeVPCD(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Tap(ctx, v.addr(), &fakeCard{onTransmit: func([]byte) []byte { return []byte{0x90, 0x00} }})
	c := v.accept()
	cmd := []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00, 0x00}
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		send(b, c, cmd)
		recv(b, c)
		samples = append(samples, time.Since(start))
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "median-ns")
}
