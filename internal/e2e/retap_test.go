package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pcsc"
	"github.com/idreader/idreader/terminal"
)

// quickTap puts a wallet into the field of rd, reads it, and takes the
// wallet away without waiting for pcscd to see it leave. It returns how long
// Wait took from the card dialing in.
func quickTap(t *testing.T, rd reader.Reader, addr string, tcfg terminal.Config, cred *credential.Credential) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cardCtx, leave := context.WithCancel(ctx)
	defer leave()
	w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{cred}, OnDone: func(wallet.Report) { leave() }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cardErr := make(chan error, 1)
	start := time.Now()
	go func() { cardErr <- vpcd.Tap(cardCtx, addr, w) }()
	target, err := rd.Wait(ctx)
	if err != nil {
		t.Fatalf("waiting for the wallet: %v", err)
	}
	waited := time.Since(start)
	tcfg.Limits = terminal.NFCLimits(target.Limits())
	out, err := terminal.Tap(ctx, target, tcfg)
	if err != nil || !out.Result.Accepted() {
		t.Fatalf("tap: %v", err)
	}
	leave()
	if err := <-cardErr; err != nil && !errors.Is(err, vpcd.ErrDisconnected) {
		t.Errorf("card: %v", err)
	}
	target.Close()
	return waited
}

// TestRetapWithinOnePoll: a phone that leaves the field and comes back
// within one pcscd presence poll (the first card closes, the next connects
// at once) is read, within a second of arriving: with one reader kept open
// (the daemon) and with a reader opened afresh for each tap (`idreader
// read`).
func TestRetapWithinOnePoll(t *testing.T) {
	f := getFixture(t)
	tcfg := f.terminalConfig(t, "age-21")
	t.Run("daemon", func(t *testing.T) {
		s := openStation(t)
		for i := range 4 {
			if d := quickTap(t, s.rd, s.addr, tcfg, f.mdl); d > time.Second {
				t.Errorf("tap %d: read %v after arriving", i, d)
			}
		}
	})
	t.Run("read", func(t *testing.T) {
		info := requireRig(t)
		for i := range 4 {
			prov, err := pcsc.New(pcsc.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			rd, err := prov.Open(ctx, info.Readers[0])
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			d := quickTap(t, rd, info.VPCD[0], tcfg, f.mdl)
			rd.Close()
			if d > time.Second {
				t.Errorf("tap %d: read %v after arriving", i, d)
			}
		}
	})
}

// TestDaemonRetapWithinOnePoll: the daemon reads a phone that left and came
// back within one presence poll: each card dials in as soon as the last one
// left (no wait for the daemon to be ready again), and each is decided
// within a second of arriving.
func TestDaemonRetapWithinOnePoll(t *testing.T) {
	f := getFixture(t)
	r := startRigDaemon(t, f, "age-21", zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel))
	for i := range 12 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cardCtx, leave := context.WithCancel(ctx)
		w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, OnDone: func(wallet.Report) { leave() }})
		if err != nil {
			t.Fatal(err)
		}
		cardErr := make(chan error, 1)
		start := time.Now()
		go func() { cardErr <- vpcd.Tap(cardCtx, r.addr, w) }()
		e := r.next(t, daemon.EventDecision)
		took := time.Since(start)
		leave()
		if err := <-cardErr; err != nil && !errors.Is(err, vpcd.ErrDisconnected) {
			t.Errorf("tap %d: card: %v", i, err)
		}
		w.Close()
		cancel()
		if e.Decision != "accept" {
			t.Errorf("tap %d: %s %v", i, e.Decision, e.Reasons)
		}
		t.Logf("tap %d: decided %v after the card arrived", i, took.Round(time.Millisecond))
		if took > time.Second {
			t.Errorf("tap %d: decided %v after the card arrived", i, took.Round(time.Millisecond))
		}
	}
}
