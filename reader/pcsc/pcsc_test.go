//go:build cgo

package pcsc_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pcsc"
)

// eventBudget bounds each wait for an arrival or removal: pcscd polls its
// readers every 400 ms, so events come 0.2-0.5 s late; the deadline leaves
// room for a loaded machine. Actual latencies are logged.
const eventBudget = 2 * time.Second

var selectMdoc = append([]byte{0x00, 0xA4, 0x04, 0x00, 0x07}, append(mdocAID, 0x00)...)

func open(t testing.TB, opts pcsc.Options, name string) reader.Reader {
	t.Helper()
	p, err := pcsc.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventBudget)
	defer cancel()
	r, err := p.Open(ctx, name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func wait(t testing.TB, r reader.Reader) (reader.Target, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventBudget)
	defer cancel()
	start := time.Now()
	tg, err := r.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait on %s: %v", r.Name(), err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg, time.Since(start)
}

func waitRemoved(t testing.TB, tg reader.Target) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventBudget)
	defer cancel()
	start := time.Now()
	if err := tg.WaitRemoved(ctx); err != nil {
		t.Fatalf("WaitRemoved: %v", err)
	}
	return time.Since(start)
}

func transmit(t testing.TB, tg reader.Target, apdu []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rsp, err := tg.Transmit(ctx, apdu)
	if err != nil {
		t.Fatalf("Transmit(% X...): %v", apdu[:min(len(apdu), 8)], err)
	}
	return rsp
}

func TestList(t *testing.T) {
	info := rig.Require(t)
	p, err := pcsc.New(pcsc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names, err := p.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range info.Readers {
		if !slices.Contains(names, want) {
			t.Errorf("List() = %q, missing %q", names, want)
		}
	}
	r := open(t, pcsc.Options{}, "")
	if r.Name() != names[0] {
		t.Errorf("Open(\"\") opened %q, want the first reader %q", r.Name(), names[0])
	}
	if got, want := r.Limits(), pcsc.VPCDLimits(); got != want {
		t.Errorf("default Limits() = %+v, want %+v", got, want)
	}
}

func TestOpenAbsentReader(t *testing.T) {
	rig.Require(t)
	p, _ := pcsc.New(pcsc.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := p.Open(ctx, "no such reader 00 00")
	if !errors.Is(err, reader.ErrNoReader) || !errors.Is(err, reader.ErrTimeout) {
		t.Fatalf("Open(absent) = %v, want ErrNoReader and ErrTimeout", err)
	}
}

func TestArrivalAndRemoval(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[0])
	for i := range 3 {
		card := &testCard{}
		leave := tap(t, info.VPCD[0], card)
		tg, arrival := wait(t, r)
		if !bytes.Equal(tg.ATR(), []byte{0x3B, 0x80, 0x80, 0x01, 0x01}) {
			t.Errorf("ATR = % X", tg.ATR())
		}
		if rsp := transmit(t, tg, selectMdoc); !bytes.Equal(rsp, []byte{0x90, 0x00}) {
			t.Errorf("SELECT mdoc = % X, want 90 00", rsp)
		}
		other := []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x02, 0x00}
		if rsp := transmit(t, tg, other); !bytes.Equal(rsp, []byte{0x6A, 0x82}) {
			t.Errorf("SELECT other = % X, want 6A 82", rsp)
		}
		leave()
		removal := waitRemoved(t, tg)
		if _, err := tg.Transmit(context.Background(), selectMdoc); !errors.Is(err, reader.ErrRemoved) {
			t.Errorf("Transmit after removal = %v, want ErrRemoved", err)
		}
		tg.Close()
		// A card that arrives while pcscd still counts the previous one
		// present is energised by the reconnect-with-reset probe of Wait,
		// so it sees a reset instead of a power-on.
		if card.powerOn.Load()+card.reset.Load() == 0 || card.powerOff.Load() == 0 {
			t.Errorf("card saw %d power-ons, %d resets and %d power-offs", card.powerOn.Load(), card.reset.Load(), card.powerOff.Load())
		}
		t.Logf("cycle %d: arrival %v, removal %v", i, arrival.Round(time.Millisecond), removal.Round(time.Millisecond))
	}
}

func TestSameCardNotReturnedTwice(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[0])
	tap(t, info.VPCD[0], &testCard{})
	tg, _ := wait(t, r)
	tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 900*time.Millisecond)
	defer cancel()
	if tg2, err := r.Wait(ctx); err == nil {
		tg2.Close()
		t.Fatal("Wait returned the card that stayed in the field")
	} else if !errors.Is(err, reader.ErrTimeout) {
		t.Fatalf("Wait = %v, want ErrTimeout", err)
	}
}

func TestShortAndExtendedAPDUs(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[1])
	tap(t, info.VPCD[1], &testCard{})
	tg, _ := wait(t, r)

	pattern := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*13 + 5)
		}
		return b
	}
	// Command data sizes: short up to 255, then extended; 65526 is the
	// largest that fits vpcd's 65535-byte frame with Lc and Le.
	for _, n := range []int{1, 255, 256, 1000, 4000, 32767, 65526} {
		data := pattern(n)
		var apdu []byte
		if n <= 255 {
			apdu = append([]byte{0x80, insEcho, 0, 0, byte(n)}, data...)
			apdu = append(apdu, 0x00)
		} else {
			apdu = append([]byte{0x80, insEcho, 0, 0, 0, byte(n >> 8), byte(n)}, data...)
			apdu = append(apdu, 0x00, 0x00)
		}
		rsp := transmit(t, tg, apdu)
		if !bytes.Equal(rsp, append(data, 0x90, 0x00)) {
			t.Errorf("echo of %d bytes: got %d bytes back, not byte-exact", n, len(rsp))
		}
	}
	for _, n := range []int{0, 256, 4096, 32768, 65533} {
		apdu := []byte{0x80, insLarge, byte(n >> 8), byte(n), 0x00, 0x00, 0x00}
		rsp := transmit(t, tg, apdu)
		if len(rsp) != n+2 || rsp[n] != 0x90 || rsp[n+1] != 0x00 {
			t.Fatalf("large %d: got %d bytes", n, len(rsp))
		}
		for i := range n {
			if rsp[i] != byte(i*7) {
				t.Fatalf("large %d: byte %d = %02X", n, i, rsp[i])
			}
		}
	}
	// Beyond the vpcd limit: refused before it is sent (sending it would
	// eject the card).
	big := make([]byte, 0x10000)
	big[1] = insEcho
	if _, err := tg.Transmit(context.Background(), big); !errors.Is(err, reader.ErrBadCommand) {
		t.Errorf("65536-byte command = %v, want ErrBadCommand", err)
	}
	if rsp := transmit(t, tg, selectMdoc); !bytes.Equal(rsp, []byte{0x90, 0x00}) {
		t.Errorf("after a refused command SELECT = % X", rsp)
	}
}

func TestShortOnlyLimits(t *testing.T) {
	info := rig.Require(t)
	opts := pcsc.Options{Limits: map[string]reader.Limits{info.Readers[1]: reader.ShortLimits()}}
	r := open(t, opts, info.Readers[1])
	if r.Limits().ExtendedAPDU {
		t.Fatal("reader configured short-only reports ExtendedAPDU")
	}
	tap(t, info.VPCD[1], &testCard{})
	tg, _ := wait(t, r)
	ext := []byte{0x80, insEcho, 0, 0, 0, 0, 1, 0xAB, 0, 0}
	if _, err := tg.Transmit(context.Background(), ext); !errors.Is(err, reader.ErrBadCommand) {
		t.Errorf("extended command on a short-only reader = %v, want ErrBadCommand", err)
	}
	if rsp := transmit(t, tg, selectMdoc); !bytes.Equal(rsp, []byte{0x90, 0x00}) {
		t.Errorf("SELECT = % X", rsp)
	}
}

func TestEmptyCommand(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[0])
	tap(t, info.VPCD[0], &testCard{})
	tg, _ := wait(t, r)
	for _, cmd := range [][]byte{nil, {}, {0x00}, {0x00, 0xA4, 0x04}} {
		if _, err := tg.Transmit(context.Background(), cmd); !errors.Is(err, reader.ErrBadCommand) {
			t.Errorf("Transmit(% X) = %v, want ErrBadCommand", cmd, err)
		}
	}
	if rsp := transmit(t, tg, selectMdoc); !bytes.Equal(rsp, []byte{0x90, 0x00}) {
		t.Errorf("SELECT after refused commands = % X", rsp)
	}
}

func TestVanishMidExchange(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[0])
	tap(t, info.VPCD[0], &testCard{})
	tg, _ := wait(t, r)
	transmit(t, tg, selectMdoc)
	rsp, err := tg.Transmit(context.Background(), []byte{0x80, insVanish, 0, 0})
	if !errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("Transmit while the card vanishes = % X, %v, want ErrRemoved", rsp, err)
	}
	t.Logf("mid-exchange removal: %v", err)
	if _, err := tg.Transmit(context.Background(), selectMdoc); !errors.Is(err, reader.ErrRemoved) {
		t.Errorf("Transmit on the lost target = %v, want ErrRemoved", err)
	}
	removal := waitRemoved(t, tg)
	tg.Close()

	// Back to waiting: the next tap is a new target.
	tap(t, info.VPCD[0], &testCard{})
	tg2, arrival := wait(t, r)
	if rsp := transmit(t, tg2, selectMdoc); !bytes.Equal(rsp, []byte{0x90, 0x00}) {
		t.Errorf("SELECT on the next tap = % X", rsp)
	}
	t.Logf("removal event %v, next arrival %v", removal.Round(time.Millisecond), arrival.Round(time.Millisecond))
}

func TestTransmitContext(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[0])
	tap(t, info.VPCD[0], &testCard{})
	tg, _ := wait(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := tg.Transmit(ctx, []byte{0x80, insSleep, 30, 0}) // the card takes 300 ms
	if !errors.Is(err, reader.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Transmit past its deadline = %v, want ErrTimeout", err)
	}
	if _, err := tg.Transmit(context.Background(), selectMdoc); err == nil {
		t.Error("Transmit on an abandoned target succeeded")
	}
	if err := tg.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestWaitContextAndClose(t *testing.T) {
	info := rig.Require(t)
	r := open(t, pcsc.Options{}, info.Readers[1])
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx); !errors.Is(err, reader.ErrTimeout) {
		t.Errorf("Wait on an empty reader = %v, want ErrTimeout", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Wait(context.Background())
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, reader.ErrClosed) {
			t.Errorf("Wait after Close = %v, want ErrClosed", err)
		}
	case <-time.After(eventBudget):
		t.Fatal("Close did not unblock Wait")
	}
}

func TestPCSCDRestart(t *testing.T) {
	info := rig.Require(t)
	r0 := open(t, pcsc.Options{}, info.Readers[0])
	r1 := open(t, pcsc.Options{}, info.Readers[1])
	serve(t, info.VPCD[0], &testCard{})
	tg, _ := wait(t, r0)
	transmit(t, tg, selectMdoc)

	// A Wait blocked across the restart, on the other reader.
	waited := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tg1, err := r1.Wait(ctx)
		if err == nil {
			_, err = tg1.Transmit(ctx, selectMdoc)
			tg1.Close()
		}
		waited <- err
	}()
	time.Sleep(100 * time.Millisecond)

	old := info.PCSCDPID
	start := time.Now()
	pid := rig.RestartPCSCD(t)
	if pid == old {
		t.Fatalf("pcscd pid unchanged (%d)", pid)
	}
	_, err := tg.Transmit(context.Background(), selectMdoc)
	if !errors.Is(err, reader.ErrServiceUnavailable) && !errors.Is(err, reader.ErrRemoved) {
		t.Errorf("Transmit across a pcscd restart = %v, want ErrServiceUnavailable or ErrRemoved", err)
	}
	tg.Close()
	t.Logf("old target: %v", err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tg2, err := r0.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait after the restart: %v", err)
	}
	defer tg2.Close()
	if rsp := transmit(t, tg2, selectMdoc); !bytes.Equal(rsp, []byte{0x90, 0x00}) {
		t.Errorf("SELECT after the restart = % X", rsp)
	}
	t.Logf("first tap after the restart answered %v after the restart began", time.Since(start).Round(time.Millisecond))

	tap(t, info.VPCD[1], &testCard{})
	if err := <-waited; err != nil {
		t.Errorf("Wait blocked across the restart: %v", err)
	}
}

// BenchmarkSelect measures one SELECT round trip through pcsc-lite, vpcd and
// the virtual card; median-ns is the median of all round trips.
func BenchmarkSelect(b *testing.B) {
	info := rig.Require(b)
	r := open(b, pcsc.Options{}, info.Readers[0])
	tap(b, info.VPCD[0], &testCard{})
	tg, _ := wait(b, r)
	ctx := context.Background()
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := tg.Transmit(ctx, selectMdoc); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	if len(samples) > 0 {
		b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "median-ns")
	}
}
