package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
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
// poll) are outside the measured span. Reported: median and p99 per tap,
// APDUs and bytes per tap.
//
// wallet=in-process runs the simulated wallet in the benchmark's own
// process, as the rig tests do; wallet=process runs it as `idreader sim`,
// a process of its own as a phone is a device of its own, so that the
// wallet's work does not compete with the reader's for the Go scheduler of
// one process. The rig's pcscd logs at --debug unless
// IDREADER_RIG_PCSCD_LOG=errors (see docs/rig.md):
//
//	.ci/with-rig go test -run '^$' -bench TapThroughRig -benchtime 50x ./internal/e2e
func BenchmarkTapThroughRig(b *testing.B) {
	f := getFixture(b)
	info := requireRig(b)
	st := openBenchStation(b, info)
	tcfg := f.terminalConfig(b, "default")
	b.Run("wallet=in-process", func(b *testing.B) {
		benchTaps(b, st, tcfg, func(ctx context.Context, leave func()) (func() error, error) {
			w, err := wallet.New(wallet.Config{
				Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated,
				OnDone: func(wallet.Report) { leave() },
			})
			if err != nil {
				return nil, err
			}
			cardErr := make(chan error, 1)
			go func() { cardErr <- vpcd.Tap(ctx, st.addr, w) }()
			return func() error {
				leave()
				if err := <-cardErr; err != nil && !errors.Is(err, vpcd.ErrDisconnected) {
					return err
				}
				return nil
			}, nil
		})
	})
	b.Run("wallet=process", func(b *testing.B) {
		dir := b.TempDir()
		if err := f.mdl.Save(dir); err != nil {
			b.Fatal(err)
		}
		sim := exec.Command(buildTool(b), "sim", "--vpcd", st.addr, "--credential", dir,
			"--handover", "negotiated", "--gap", "500ms")
		var simOut bytes.Buffer
		sim.Stdout, sim.Stderr = &simOut, &simOut
		if err := sim.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() {
			sim.Process.Signal(os.Interrupt)
			if err := sim.Wait(); err != nil {
				b.Errorf("idreader sim: %v\n%s", err, simOut.String())
			}
		}()
		// The wallet enters the field by itself and leaves once the
		// session is terminated.
		benchTaps(b, st, tcfg, func(context.Context, func()) (func() error, error) {
			return func() error { return nil }, nil
		})
	})
}

// benchTaps times b.N taps on st. arrive puts a wallet in the field (or
// does nothing when the wallet comes by itself) and returns what to call
// after the tap; leave ends the wallet's presence.
func benchTaps(b *testing.B, st *station, tcfg terminal.Config, arrive func(ctx context.Context, leave func()) (func() error, error)) {
	var durs []time.Duration
	var apdus, bytesOnWire int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cardCtx, leave := context.WithCancel(ctx)
		after, err := arrive(cardCtx, leave)
		if err != nil {
			b.Fatal(err)
		}
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
		if err := after(); err != nil {
			b.Fatal(err)
		}
		if err := target.WaitRemoved(ctx); err != nil {
			b.Fatal(err)
		}
		target.Close()
		leave()
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
