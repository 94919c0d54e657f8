//go:build blerig

package blerig

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/bluez"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/daemon/simulated"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/simreader"
	"github.com/idreader/idreader/terminal"
)

// openAdapter opens a BlueZ adapter for the test.
func openAdapter(t *testing.T, name string) *bluez.Adapter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := bluez.Open(ctx, bluez.Options{Adapter: name})
	if err != nil {
		t.Fatalf("opening %s: %v", name, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// world is the simulated issuers (US and JP) and their sample credentials.
func world(t *testing.T) *simulated.World {
	t.Helper()
	w, err := simulated.New(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// serveBLE runs the wallet's BLE side on a until the test ends.
func serveBLE(t *testing.T, w *wallet.Wallet, a *bluez.Adapter) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() { errs <- w.ServeBLE(ctx, a.Central(), a.Peripheral()) }()
	t.Cleanup(cancel)
	return errs
}

// TestAppleShape is the iPhone's path: NFC engagement in negotiated
// handover shaped like Apple Wallet (the NFC part runs in memory through
// reader/simreader), the wallet selecting BLE only in mdoc central client
// mode with the service UUID the reader put in its Handover Request, so the
// reader on hci0 advertises its own UUID through bluetoothd and serves GATT
// (Ident included), and the wallet on hci1 scans, connects and retrieves.
func TestAppleShape(t *testing.T) {
	requireRig(t)
	wd := world(t)
	cases := []struct {
		name    string
		profile string
		cred    func() *credential.Credential
	}{
		{"mdl", "age-21", func() *credential.Credential { return wd.Adult }},
		{"mnc", "age-20", func() *credential.Credential { return wd.MNC }},
	}
	rdAdapter, wAdapter := openAdapter(t, "hci0"), openAdapter(t, "hci1")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resetRadios(t)
			w, err := wd.Wallet(wallet.Config{Handover: wallet.HandoverApple, OfferBLE: true, BLEOnly: true,
				BLEMode: ble.ModeCentralClient}, tc.cred())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			walletDone := serveBLE(t, w, wAdapter)
			profile, err := daemon.LookupRequestProfile(tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			rd := simreader.New("nfc", reader.ExtendedLimits(0, 0))
			defer rd.Close()
			target := rd.Put(w)
			defer target.Remove()
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			tg, err := rd.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cfg := terminal.Config{Trust: wd.Trust, Request: profile, Limits: nfc.Limits(terminal.NFCLimits(tg.Limits())),
				Transports: []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportNFC},
				BLE:        terminal.BLEConfig{Peripheral: rdAdapter.Peripheral(), Central: rdAdapter.Central(), ConnectTimeout: 60 * time.Second}}
			begin := time.Now()
			out, err := terminal.Tap(ctx, tg, cfg)
			took := time.Since(begin)
			if err != nil {
				t.Fatalf("tap: %v (code %s)", err, terminal.ErrorCode(err))
			}
			if !out.Negotiated || out.Transport != terminal.TransportBLECentralClient {
				t.Fatalf("negotiated %v, transport %q; want negotiated handover and %q", out.Negotiated, out.Transport, terminal.TransportBLECentralClient)
			}
			rep := out.Result.Report()
			if rep.Verdict != "accept" {
				t.Fatalf("verdict %q: %+v", rep.Verdict, rep.Errors)
			}
			select {
			case err := <-walletDone:
				if err != nil {
					t.Errorf("wallet: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("the wallet's BLE session did not end")
			}
			r := w.Report()
			t.Logf("Apple shape %s: tap %v, reader MTU %d, wallet MTU %d (%s)", tc.name, took.Round(time.Millisecond), out.MTU, r.MTU, r.Transport)
			record("%-44s tap  %5d ms  MTU %d (reader) / %d (wallet)", t.Name(), took.Milliseconds(), out.MTU, r.MTU)
			if out.MTU <= ble.MinMTU {
				t.Errorf("reader MTU %d: no MTU exchange seen through BlueZ", out.MTU)
			}
		})
	}
}

// TestWalletDisconnectsMidTransfer: the wallet's radio goes away (hci1
// powered off) after the reader sent its request and before the response:
// the reader must end with a clean "disconnected" error at once, not wait
// for its exchange timeout. Both BLE modes.
func TestWalletDisconnectsMidTransfer(t *testing.T) {
	requireRig(t)
	wd := world(t)
	profile, err := daemon.LookupRequestProfile("age-21")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []ble.Mode{ble.ModeCentralClient, ble.ModePeripheralServer} {
		t.Run(modeName(mode), func(t *testing.T) {
			resetRadios(t)
			rdAdapter, wAdapter := openAdapter(t, "hci0"), openAdapter(t, "hci1")
			stalled := make(chan struct{}, 1)
			w, err := wd.Wallet(wallet.Config{BLEMode: mode, Faults: wallet.Faults{Stall: time.Minute},
				Sleep: func(ctx context.Context, d time.Duration) error {
					select {
					case stalled <- struct{}{}:
					default:
					}
					<-ctx.Done()
					return ctx.Err()
				}}, wd.Adult)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			qr, err := w.ShowQR()
			if err != nil {
				t.Fatal(err)
			}
			serveBLE(t, w, wAdapter)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cfg := terminal.Config{Trust: wd.Trust, Request: profile, ExchangeTimeout: 60 * time.Second,
				BLE: terminal.BLEConfig{Peripheral: rdAdapter.Peripheral(), Central: rdAdapter.Central(), ConnectTimeout: 60 * time.Second}}
			type result struct {
				err error
				at  time.Time
			}
			done := make(chan result, 1)
			go func() {
				_, err := terminal.TapQR(ctx, qr, cfg)
				done <- result{err, time.Now()}
			}()
			select {
			case <-stalled:
			case r := <-done:
				t.Fatalf("the tap ended before the wallet stalled: %v", r.err)
			case <-time.After(60 * time.Second):
				t.Fatal("the wallet never received the request")
			}
			cut := time.Now()
			power(t, 1, false)
			defer func() {
				power(t, 1, true)
				waitFor(t, 10*time.Second, "hci1 powered again", func() bool { return powered("hci1") })
			}()
			r := <-done
			if r.err == nil {
				t.Fatal("the tap succeeded without the wallet's response")
			}
			if !errors.Is(r.err, ble.ErrDisconnected) || terminal.ErrorCode(r.err) != terminal.CodeDisconnected {
				t.Fatalf("error %v (code %s); want %s", r.err, terminal.ErrorCode(r.err), terminal.CodeDisconnected)
			}
			lag := r.at.Sub(cut)
			if lag > 20*time.Second {
				t.Errorf("the reader noticed the disconnection after %v", lag)
			}
			t.Logf("%s: reader ended %v after the wallet's radio went off: %v", modeName(mode), lag.Round(time.Millisecond), r.err)
			record("%-44s disconnect noticed after %d ms", t.Name(), lag.Milliseconds())
		})
	}
}

func modeName(m ble.Mode) string {
	if m == ble.ModePeripheralServer {
		return "peripheral-server"
	}
	return "central-client"
}
