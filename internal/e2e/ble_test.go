package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/memlink"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/terminal"
)

// bleTap is station.tap with BLE retrieval: the NFC engagement goes through
// pcscd + vpcd, the data retrieval over an in-memory BLE link.
func (s *station) bleTap(t *testing.T, cfg wallet.Config, tcfg terminal.Config, lcfg memlink.Config) (tapResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	link, err := memlink.New(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	cardCtx, leave := context.WithCancel(ctx)
	defer leave()
	w, err := wallet.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cardErr := make(chan error, 1)
	go func() { cardErr <- vpcd.Tap(cardCtx, s.addr, w) }()
	bleErr := make(chan error, 1)
	go func() { bleErr <- w.ServeBLE(ctx, link.Central(), link.Peripheral()) }()

	target, err := s.rd.Wait(ctx)
	if err != nil {
		t.Fatalf("waiting for the wallet: %v", err)
	}
	tcfg.Limits = terminal.NFCLimits(target.Limits())
	tcfg.BLE = terminal.BLEConfig{Peripheral: link.Peripheral(), Central: link.Central()}
	out, tapErr := terminal.Tap(ctx, target, tcfg)
	walletErr := <-bleErr
	leave()
	if err := <-cardErr; err != nil && !errors.Is(err, vpcd.ErrDisconnected) {
		t.Errorf("card: %v", err)
	}
	if err := target.WaitRemoved(ctx); err != nil {
		t.Errorf("waiting for the wallet to leave: %v", err)
	}
	target.Close()
	return tapResult{out: out, err: tapErr, wallet: w.Report()}, walletErr
}

// TestBLEAfterNFCEngagement: NFC engagement through pcscd (static,
// negotiated, Apple-shaped handover), then BLE in both modes, both doc
// types, signature and MAC.
func TestBLEAfterNFCEngagement(t *testing.T) {
	f := getFixture(t)
	st := openStation(t)
	for _, mode := range []ble.Mode{ble.ModeCentralClient, ble.ModePeripheralServer} {
		for _, hand := range []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated, wallet.HandoverApple} {
			for _, doc := range []string{"mdl", "mnc"} {
				for _, auth := range []wallet.DeviceAuth{wallet.AuthSignature, wallet.AuthMAC} {
					t.Run(fmt.Sprintf("%s/%s/%s/%s", mode, hand, doc, auth), func(t *testing.T) {
						cred := f.mdl
						if doc == "mnc" {
							cred = f.mnc
						}
						tr := terminal.TransportBLECentralClient
						if mode == ble.ModePeripheralServer {
							tr = terminal.TransportBLEPeripheralServer
						}
						tcfg := f.terminalConfig(t, "")
						tcfg.Transports = []terminal.Transport{tr}
						r, werr := st.bleTap(t, wallet.Config{
							Credentials: []*credential.Credential{cred},
							Handover:    hand, Auth: auth,
							OfferBLE: true, BLEMode: mode, BLEOnly: hand == wallet.HandoverApple,
						}, tcfg, memlink.Config{MTU: 185})
						if r.err != nil || werr != nil {
							t.Fatalf("tap failed: %v [%s] (wallet: %v)", r.err, terminal.ErrorCode(r.err), werr)
						}
						res := r.out.Result
						if !res.Accepted() || len(res.Documents) != 1 || res.Documents[0].DocType != cred.DocType {
							t.Fatalf("rejected or wrong documents: %v %+v", res.Err(), res.Documents)
						}
						if r.out.Transport != tr || r.wallet.Transport != mode.String() || r.wallet.MTU != 185 {
							t.Errorf("transport %q / %q mtu %d", r.out.Transport, r.wallet.Transport, r.wallet.MTU)
						}
						if got := res.Documents[0].DeviceAuth; got != string(auth) {
							t.Errorf("deviceAuth = %q", got)
						}
						if !r.wallet.Terminated {
							t.Error("the wallet did not see the termination")
						}
						assertPortrait(t, res)
					})
				}
			}
		}
	}
}

// TestQRThenBLE: QR engagement and BLE retrieval, no NFC at all (runs
// without the rig).
func TestQRThenBLE(t *testing.T) {
	f := getFixture(t)
	for _, mode := range []ble.Mode{ble.ModeCentralClient, ble.ModePeripheralServer} {
		for _, mtu := range []int{23, 185, 517} {
			t.Run(fmt.Sprintf("%s/%d", mode, mtu), func(t *testing.T) {
				link, err := memlink.New(memlink.Config{MTU: mtu})
				if err != nil {
					t.Fatal(err)
				}
				w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, BLEMode: mode, Auth: wallet.AuthMAC})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				werr := make(chan error, 1)
				go func() { werr <- w.ServeBLE(ctx, link.Central(), link.Peripheral()) }()
				text, err := w.ShowQR()
				if err != nil {
					t.Fatal(err)
				}
				tcfg := f.terminalConfig(t, "")
				tcfg.BLE = terminal.BLEConfig{Peripheral: link.Peripheral(), Central: link.Central()}
				out, err := terminal.TapQR(ctx, text, tcfg)
				if err != nil {
					t.Fatalf("tap: %v [%s]", err, terminal.ErrorCode(err))
				}
				if err := <-werr; err != nil {
					t.Fatalf("wallet: %v", err)
				}
				if !out.Result.Accepted() || out.MTU != mtu {
					t.Fatalf("accepted %v mtu %d: %v", out.Result.Accepted(), out.MTU, out.Result.Err())
				}
				assertPortrait(t, out.Result)
			})
		}
	}
}
