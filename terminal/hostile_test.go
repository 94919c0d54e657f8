package terminal_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// hostileCodes is the reason code each hostile wallet mode must produce.
var hostileCodes = map[wallet.Hostile]verify.Code{
	wallet.HostileOversizedLength: verify.CodeMalformed,
	wallet.HostileWrongCounter:    terminal.CodeSession,
	wallet.HostileReplay:          terminal.CodeSession,
	wallet.HostileStatus10:        terminal.CodeWalletStatus,
	wallet.HostileStatus11:        terminal.CodeWalletStatus,
	wallet.HostileStatus20:        terminal.CodeWalletStatus,
	wallet.HostileDeepCBOR:        verify.CodeMalformed,
	wallet.HostileHugeDocType:     verify.CodeDocTypeMismatch,
	wallet.HostileManyElements:    verify.CodeValueDigest,
}

// tapCode is the reason code of one tap: the tap error's, or the first
// verification failure's.
func tapCode(out *terminal.Outcome, err error) verify.Code {
	if err != nil {
		return terminal.ErrorCode(err)
	}
	if out.Result.Accepted() {
		return ""
	}
	if len(out.Result.Failures) == 0 {
		return verify.CodeMalformed
	}
	return out.Result.Failures[0].Code
}

// heapPeak samples the live heap while fn runs and returns the largest
// growth over the heap before it, in bytes.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			if v := read(); v > peak {
				peak = v
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	if v := read(); v > peak {
		peak = v
	}
	if peak < base {
		return 0
	}
	return peak - base
}

// maxHostileHeap bounds the heap growth of one hostile tap. The largest
// honest input is a 4 MiB message; decoding, decrypting and verifying it
// may hold a few copies.
const maxHostileHeap = 64 << 20

// TestHostileWallet: each attack made inside a valid session gives its
// reason code with bounded memory, and the next honest tap is accepted.
func TestHostileWallet(t *testing.T) {
	f := getFixture(t)
	cfg := f.config(t)
	for _, mode := range wallet.HostileModes {
		t.Run(string(mode), func(t *testing.T) {
			w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, Faults: wallet.Faults{Hostile: mode}})
			if err != nil {
				t.Fatal(err)
			}
			var out *terminal.Outcome
			peak := heapPeak(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				out, err = terminal.Tap(ctx, w.Transceiver(), cfg)
			})
			code := tapCode(out, err)
			if code != hostileCodes[mode] {
				t.Errorf("reason %q, want %q (err %v)", code, hostileCodes[mode], err)
			}
			t.Logf("%s: reason %s, heap peak +%.1f MB", mode, code, float64(peak)/(1<<20))
			if peak > maxHostileHeap {
				t.Errorf("heap grew %d bytes in one tap", peak)
			}
			if err != nil && strings.ContainsRune(terminal.ErrorReport(err).Errors[0].Detail, 0x1b) {
				t.Error("escape character in the error report")
			}
			honest, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}})
			if err != nil {
				t.Fatal(err)
			}
			if out, err := terminal.Tap(context.Background(), honest.Transceiver(), cfg); err != nil || !out.Result.Accepted() {
				t.Errorf("next honest tap: %v", err)
			}
		})
	}
}

// BenchmarkHostileTap reports, per hostile mode, the allocations of one tap
// (-benchmem) and the peak live-heap growth (peak-heap-MB).
func BenchmarkHostileTap(b *testing.B) {
	f := getFixture(b)
	cfg := f.config(b)
	for _, mode := range wallet.HostileModes {
		b.Run(string(mode), func(b *testing.B) {
			b.ReportAllocs()
			var worst uint64
			for b.Loop() {
				w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, Faults: wallet.Faults{Hostile: mode}})
				if err != nil {
					b.Fatal(err)
				}
				var out *terminal.Outcome
				peak := heapPeak(func() { out, err = terminal.Tap(context.Background(), w.Transceiver(), cfg) })
				worst = max(worst, peak)
				if tapCode(out, err) != hostileCodes[mode] {
					b.Fatalf("reason %q", tapCode(out, err))
				}
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MB")
		})
	}
}
