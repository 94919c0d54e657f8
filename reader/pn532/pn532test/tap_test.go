package pn532test_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532test"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// fixture is a test PKI and a credential issued with it.
type fixture struct {
	pki  *pki.PKI
	cred *credential.Credential
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[string]*fixture{}
)

// getFixture issues, once per test binary, an mDL ("mdl") or a My Number
// Card ("mnc", with a Japanese PKI).
func getFixture(tb testing.TB, kind string) *fixture {
	tb.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[kind]; ok {
		return f
	}
	now := time.Now()
	country, docType, sample := "US", mdoc.DocTypeMDL, credential.MDL
	if kind == "mnc" {
		country, docType, sample = "JP", mdoc.DocTypeMyNumberCard, credential.MyNumberCard
	}
	p, err := pki.New(pki.Options{Now: now, Country: country})
	if err != nil {
		tb.Fatal(err)
	}
	els, err := sample(credential.SampleOptions{Now: now, Country: country})
	if err != nil {
		tb.Fatal(err)
	}
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := credential.Issue(credential.IssueOptions{DocType: docType, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Minute)})
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{pki: p, cred: c}
	fixtures[kind] = f
	return f
}

// newWallet returns a simulated wallet holding the fixture's credential and
// the terminal configuration that trusts it.
func newWallet(tb testing.TB, kind string, handover wallet.HandoverMode) (*wallet.Wallet, terminal.Config) {
	tb.Helper()
	f := getFixture(tb, kind)
	w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.cred}, Handover: handover})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return w, terminal.Config{
		Request:    terminal.DefaultRequestProfile(),
		Trust:      verify.NewTrustStore(f.pki.IACA),
		ReaderAuth: &terminal.ReaderIdentity{Key: f.pki.ReaderKey, Chain: []*x509.Certificate{f.pki.Reader}},
		Transports: []terminal.Transport{terminal.TransportNFC},
		// The product's 5 s for the handover is for a real chip; the
		// emulated one on a loaded machine, with faults that make the
		// driver wait out three ACK timeouts, needs longer.
		EngagementTimeout: time.Minute,
	}
}

// testOptions poll quickly; the rig picks the ACK timeout for the bus.
func testOptions() pn532.Options {
	return pn532.Options{
		PollInterval:     5 * time.Millisecond,
		PresenceInterval: 5 * time.Millisecond,
	}
}

func newRig(tb testing.TB, bus string, chip pn532test.Options, opts pn532.Options) *pn532test.Rig {
	tb.Helper()
	rig, err := pn532test.NewRig(context.Background(), bus, chip, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rig.Close() })
	return rig
}

// tap puts the wallet in the field, waits for it, runs one exchange through
// the terminal, takes the wallet away and waits until the reader saw it go.
func tap(ctx context.Context, rig *pn532test.Rig, w *wallet.Wallet, cfg terminal.Config) (*terminal.Outcome, *pn532.Target, error) {
	rig.Chip.Put(w)
	t, err := rig.Reader.Wait(ctx)
	if err != nil {
		rig.Chip.Remove()
		return nil, nil, fmt.Errorf("waiting: %w", err)
	}
	cfg.Limits = terminal.NFCLimits(t.Limits())
	out, err := terminal.Tap(ctx, t, cfg)
	rig.Chip.Remove()
	if werr := t.WaitRemoved(ctx); werr != nil && err == nil {
		err = werr
	}
	t.Close()
	return out, t.(*pn532.Target), err
}

func accepted(tb testing.TB, out *terminal.Outcome, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("tap failed: %v", err)
	}
	if rep := out.Result.Report(); rep.Verdict != verify.VerdictAccept {
		tb.Fatalf("verdict %v: %+v", rep.Verdict, rep)
	}
}

// TestTap runs full taps through the driver and the emulated chip on each
// bus, both doc types and all handover modes, each verified by the
// terminal, twice in a row on the same reader.
func TestTap(t *testing.T) {
	for _, bus := range pn532test.Buses {
		for _, kind := range []string{"mdl", "mnc"} {
			for _, h := range []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated, wallet.HandoverApple} {
				t.Run(fmt.Sprintf("%s/%s/%s", bus, kind, h), func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					rig := newRig(t, bus, pn532test.Options{}, testOptions())
					w, cfg := newWallet(t, kind, h)
					for range 2 {
						out, tg, err := tap(ctx, rig, w, cfg)
						accepted(t, out, err)
						if tg.BitRate() != pn532.Rate424 {
							t.Errorf("bit rate %v, want 424", tg.BitRate())
						}
					}
					st := rig.Reader.Stats()
					if st.Bus.Frames == 0 || st.AirBytes <= st.APDUBytes || st.BitRate != pn532.Rate424 {
						t.Errorf("stats %+v", st)
					}
				})
			}
		}
	}
}

// TestTapTypeBAndExtended: a Type B target, and extended APDUs chained with
// MI both ways (the wallet answers with responses beyond 262 bytes).
func TestTapTypeBAndExtended(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := testOptions()
	opts.TypeB, opts.Extended = true, true
	rig := newRig(t, pn532test.BusI2C, pn532test.Options{TypeB: true}, opts)
	w, cfg := newWallet(t, "mdl", wallet.HandoverStatic)
	out, tg, err := tap(ctx, rig, w, cfg)
	accepted(t, out, err)
	if tg.Info().Type != pn532.TypeB || !tg.Limits().ExtendedAPDU {
		t.Fatalf("target %+v limits %+v", tg.Info(), tg.Limits())
	}
	if st := rig.Reader.Stats(); st.APDUBytes < 2*pn532.MaxData {
		t.Fatalf("stats %+v", st)
	}
}

// TestFaults breaks the chip or the target once during a tap and checks
// what the first tap saw and that the next tap is accepted.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault pn532test.Fault
		reset bool
		// first checks the first tap.
		first func(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error)
	}{
		{"nack", pn532test.Fault{Kind: pn532test.FaultNACK, Command: pn532.CmdInDataExchange, At: 2}, false, recovered},
		{"no-ack", pn532test.Fault{Kind: pn532test.FaultNoACK, Command: pn532.CmdInDataExchange, At: 3}, false, aborted},
		{"no-ack-resendable", pn532test.Fault{Kind: pn532test.FaultNoACK, Command: pn532.CmdDiagnose}, false, recovered},
		{"late-ack", pn532test.Fault{Kind: pn532test.FaultLateACK, Command: pn532.CmdInDataExchange, At: 5}, false,
			func(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error) {
				// Sent again, the command would run twice and a response
				// chunk would be lost; given up on, the tap would fail.
				accepted(t, out, err)
				if st := rig.Reader.Stats(); st.Bus.Aborts != 0 {
					t.Fatalf("a command was aborted: %+v", st)
				}
			}},
		{"bad-checksum", pn532test.Fault{Kind: pn532test.FaultBadChecksum, Command: pn532.CmdInDataExchange, At: 2}, false, recovered},
		{"refuse-psl", pn532test.Fault{Kind: pn532test.FaultRefusePSL, Command: pn532.CmdInPSL}, false,
			func(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error) {
				accepted(t, out, err)
				if tg.BitRate() != pn532.Rate106 && tg.BitRate() != pn532.Rate212 {
					t.Fatalf("bit rate %v after the 424 kbit/s PSL was refused", tg.BitRate())
				}
			}},
		{"timeout", pn532test.Fault{Kind: pn532test.FaultTimeout, Command: pn532.CmdInDataExchange, At: 3}, false,
			func(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error) {
				if err == nil {
					t.Fatal("tap accepted though the target timed out")
				}
				if errors.Is(err, reader.ErrRemoved) {
					t.Fatalf("a target still present was reported removed: %v", err)
				}
			}},
		{"lose-target", pn532test.Fault{Kind: pn532test.FaultLoseTarget, Command: pn532.CmdInDataExchange, At: 4}, false,
			func(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error) {
				if !errors.Is(err, reader.ErrRemoved) {
					t.Fatalf("lost target: %v, want reader.ErrRemoved", err)
				}
			}},
		{"silent-until-reset", pn532test.Fault{Kind: pn532test.FaultSilent, Command: pn532.CmdInDataExchange, At: 3}, true, silentChip},
		{"silent-for-a-while", pn532test.Fault{Kind: pn532test.FaultSilent, Command: pn532.CmdInDataExchange, At: 3, For: 4}, false, silentChip},
	} {
		for _, bus := range pn532test.Buses {
			t.Run(tc.name+"/"+bus, func(t *testing.T) {
				// Most of a fault case is waiting out a timeout.
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				opts := testOptions()
				rig := newRig(t, bus, pn532test.Options{}, opts)
				if tc.reset {
					// Re-open the reader with the chip's reset line wired.
					rig.Reader.Close()
					opts.Reset = rig.Chip.ResetPin()
					opts.Device.AckTimeout = rig.AckTimeout
					rd, err := pn532.New(ctx, rig.Transport, opts)
					if err != nil {
						t.Fatal(err)
					}
					rig.Reader = rd
				}
				w, cfg := newWallet(t, "mdl", wallet.HandoverStatic)
				fault := tc.fault
				if fault.Kind == pn532test.FaultLateACK {
					// Later than the driver's ACK timeout, well within
					// the three it waits for a command never sent twice.
					fault.Delay = 3 * rig.AckTimeout / 2
				}
				rig.Chip.Arm(fault)
				out, tg, err := tap(ctx, rig, w, cfg)
				tc.first(t, rig, tg, out, err)
				out, _, err = tap(ctx, rig, w, cfg)
				accepted(t, out, err)
			})
		}
	}
}

// recovered: the driver resent and the tap went through.
func recovered(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error) {
	t.Helper()
	accepted(t, out, err)
	if st := rig.Reader.Stats(); st.Bus.Resends == 0 {
		t.Fatalf("no resend counted: %+v", st)
	}
}

// silentChip: the exchange in progress is aborted, not sent again, and
// ends the tap as a transport failure (the phone may still be there); the
// reader configures (or resets) the chip before the next one.
func silentChip(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error) {
	t.Helper()
	aborted(t, rig, tg, out, err)
}

// aborted: an InDataExchange the chip did not acknowledge was aborted, not
// sent again; the tap fails as a transport error, not as a removal.
func aborted(t *testing.T, rig *pn532test.Rig, tg *pn532.Target, out *terminal.Outcome, err error) {
	t.Helper()
	if !errors.Is(err, pn532.ErrUnacknowledged) || errors.Is(err, reader.ErrRemoved) {
		t.Fatalf("unacknowledged exchange: %v, want pn532.ErrUnacknowledged and not reader.ErrRemoved", err)
	}
	if code := terminal.ErrorCode(err); code != terminal.CodeTransport {
		t.Fatalf("reason %q, want %q", code, terminal.CodeTransport)
	}
	if st := rig.Reader.Stats(); st.Bus.Aborts == 0 {
		t.Fatalf("no abort counted: %+v", st)
	}
}
