package e2e

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/terminal"
)

// restartAt is a target that restarts the rig's pcscd just before command
// k is sent.
type restartAt struct {
	reader.Target
	tb   testing.TB
	k    int
	mu   sync.Mutex
	sent int
}

func (r *restartAt) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	r.mu.Lock()
	n := r.sent
	r.sent++
	r.mu.Unlock()
	if n == r.k {
		rig.RestartPCSCD(r.tb)
	}
	return r.Target.Transmit(ctx, apdu)
}

// TestPCSCDRestartAtStep restarts pcscd before APDU k of a tap, for a
// sample of k (engagement, session establishment, data transfer): the tap
// ends with the service error (reason `removed` or `transport`, never a
// hang or a panic), and the next tap, on the same reader, is accepted.
func TestPCSCDRestartAtStep(t *testing.T) {
	f := getFixture(t)
	st := openStation(t)
	tcfg := f.terminalConfig(t, "age-21")
	good := wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated}
	for _, k := range []int{0, 3, 6, 9, 11, 12, 13, 15} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cardCtx, leave := context.WithCancel(ctx)
		cfg := good
		cfg.OnDone = func(wallet.Report) { leave() }
		w, err := wallet.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cardErr := make(chan error, 1)
		go func() { cardErr <- vpcd.Tap(cardCtx, st.addr, w) }()
		target, err := st.rd.Wait(ctx)
		if err != nil {
			t.Fatalf("k=%d: waiting for the wallet: %v", k, err)
		}
		tc := tcfg
		tc.Limits = terminal.NFCLimits(target.Limits())
		out, tapErr := terminal.Tap(ctx, &restartAt{Target: target, tb: t, k: k}, tc)
		leave()
		<-cardErr
		target.Close()
		w.Close()
		cancel()
		code := terminal.ErrorCode(tapErr)
		if tapErr == nil && out.Result.Accepted() {
			t.Logf("k=%d: accepted (the restart came after the last command that needed pcscd)", k)
		} else if code != terminal.CodeRemoved && code != terminal.CodeTransport {
			t.Errorf("k=%d: code %q (%v)", k, code, tapErr)
		} else {
			t.Logf("k=%d: %s (%v)", k, code, tapErr)
		}
		r := st.tap(t, good, tcfg)
		if r.err != nil || !r.out.Result.Accepted() {
			t.Fatalf("k=%d: next tap: %v", k, errors.Join(r.err, resultErr(r)))
		}
	}
}
