package e2e

import (
	"context"
	"errors"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/terminal"
)

// countingTransceiver counts the APDUs and bytes of a tap.
type countingTransceiver struct {
	t          nfc.Transceiver
	apdus      atomic.Int64
	sent, recv atomic.Int64
}

func (c *countingTransceiver) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	r, err := c.t.Transmit(ctx, apdu)
	c.apdus.Add(1)
	c.sent.Add(int64(len(apdu)))
	c.recv.Add(int64(len(r)))
	return r, err
}

// BenchmarkTapThroughRig measures tap-to-verdict through pcscd + vpcd: the
// time terminal.Tap takes from the first APDU to the verified result, for
// an mDL with a portrait (negotiated handover, device signature, reader
// authentication). The card's arrival and removal (pcscd's 400 ms presence
// poll) are outside the measured span. Reported: median and p99 per tap, APDUs and bytes per tap.
//
//	.ci/with-rig go test -run '^$' -bench TapThroughRig -benchtime 50x ./internal/e2e
func BenchmarkTapThroughRig(b *testing.B) {
	f := getFixture(b)
	info := requireRig(b)
	st := openBenchStation(b, info)
	tcfg := f.terminalConfig(b, "default")
	var durs []time.Duration
	var apdus, bytesOnWire int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cardCtx, leave := context.WithCancel(ctx)
		w, err := wallet.New(wallet.Config{
			Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated,
			OnDone: func(wallet.Report) { leave() },
		})
		if err != nil {
			b.Fatal(err)
		}
		cardErr := make(chan error, 1)
		go func() { cardErr <- vpcd.Tap(cardCtx, st.addr, w) }()
		target, err := st.rd.Wait(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ct := &countingTransceiver{t: target}
		cfg := tcfg
		cfg.Limits = terminal.NFCLimits(target.Limits())
		b.StartTimer()
		start := time.Now()
		out, err := terminal.Tap(ctx, ct, cfg)
		d := time.Since(start)
		b.StopTimer()
		if err != nil || !out.Result.Accepted() {
			b.Fatalf("tap %d: %v", i, errors.Join(err, resultErr(tapResult{out: out})))
		}
		durs = append(durs, d)
		apdus += ct.apdus.Load()
		bytesOnWire += ct.sent.Load() + ct.recv.Load()
		leave()
		if err := <-cardErr; err != nil && !errors.Is(err, vpcd.ErrDisconnected) {
			b.Fatal(err)
		}
		if err := target.WaitRemoved(ctx); err != nil {
			b.Fatal(err)
		}
		target.Close()
		cancel()
		b.StartTimer()
	}
	b.StopTimer()
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "median-µs/tap")
	b.ReportMetric(float64(durs[(len(durs)*99)/100].Microseconds()), "p99-µs/tap")
	b.ReportMetric(float64(apdus)/float64(b.N), "apdus/tap")
	b.ReportMetric(float64(bytesOnWire)/float64(b.N), "wire-B/tap")
}

// BenchmarkTapInProcess is the same tap with the wallet in-process (no
// pcscd, no vpcd): the protocol cost without the rig.
//
//	go test -run '^$' -bench TapInProcess -benchmem ./internal/e2e
func BenchmarkTapInProcess(b *testing.B) {
	f := getFixture(b)
	w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated})
	if err != nil {
		b.Fatal(err)
	}
	cfg := f.terminalConfig(b, "default")
	cfg.Limits = nfc.Limits{ExtendedAPDU: true}
	cfg.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	ct := &countingTransceiver{t: w.Transceiver()}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.PowerOff()
		out, err := terminal.Tap(context.Background(), ct, cfg)
		if err != nil || !out.Result.Accepted() {
			b.Fatalf("tap: %v", errors.Join(err, resultErr(tapResult{out: out})))
		}
	}
	b.ReportMetric(float64(ct.apdus.Load())/float64(b.N), "apdus/tap")
	b.ReportMetric(float64(ct.sent.Load()+ct.recv.Load())/float64(b.N), "wire-B/tap")
}
