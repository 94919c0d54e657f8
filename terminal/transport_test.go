package terminal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/idreader/idreader/ble/memlink"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/terminal"
)

// TestNFCUnchanged: without a BLE radio the terminal behaves as before BLE
// existed: its Handover Request offers only NFC, and the data transfer runs
// over NFC.
func TestNFCUnchanged(t *testing.T) {
	f := getFixture(t)
	for _, hand := range []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated, wallet.HandoverApple} {
		t.Run(string(hand), func(t *testing.T) {
			r := run{
				wallet:   wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: hand, OfferBLE: true},
				terminal: f.config(t),
				noBLE:    true,
			}.do(t)
			checkAccepted(t, r, f.mdl, wallet.AuthSignature, terminal.TransportNFC)
			if r.out.MTU != 0 || r.report.Transport != "nfc" {
				t.Errorf("mtu %d, wallet transport %q", r.out.MTU, r.report.Transport)
			}
			if names := stepNames(r.out); names != "engagement session connect request verify" {
				t.Errorf("steps %q", names)
			}
			if hand == wallet.HandoverStatic {
				return
			}
			hr, err := nfc.ParseHandoverRequest(r.report.HandoverRequest)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := hr.CarrierSet()
			if err != nil || cs.BLE != nil || cs.NFC == nil {
				t.Errorf("hr carriers %+v, %v", cs, err)
			}
		})
	}
}

func TestParseTransport(t *testing.T) {
	for _, s := range []string{"nfc", "ble-central", " BLE-Peripheral "} {
		if _, err := terminal.ParseTransport(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := terminal.ParseTransport("wifi-aware"); err == nil {
		t.Error("wifi-aware accepted")
	}
	f := getFixture(t)
	cfg := f.config(t)
	cfg.Transports = []terminal.Transport{"bluetooth"}
	if _, err := terminal.TapQR(context.Background(), "mdoc:", cfg); err == nil {
		t.Error("unknown transport in config accepted")
	}
}

// BenchmarkBLEExchange is one in-process exchange after a QR engagement:
// session set-up, the BLE connection over the in-memory link, the request,
// the DeviceResponse with the mDL portrait over BLE framing at the MTU, its
// verification and the termination.
func BenchmarkBLEExchange(b *testing.B) {
	f := getFixture(b)
	cfg := f.config(b)
	big := bigPortraitMDL(b, f, 32<<10)
	for _, p := range []struct {
		name string
		cred *credential.Credential
	}{{"portrait=2KB", f.mdl}, {"portrait=32KB", big}} {
		for _, mtu := range []int{23, 185, 517} {
			for _, tr := range []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportBLEPeripheralServer} {
				wcfg := wallet.Config{Credentials: []*credential.Credential{p.cred}, BLEMode: modeOf(tr)}
				benchBLE(b, fmt.Sprintf("%s/mtu=%d/%s", p.name, mtu, tr), cfg, wcfg, mtu)
			}
		}
	}
}

// bigPortraitMDL issues the sample mDL with the portrait padded to size
// bytes (the JPEG followed by zeros), for messages of tens of kilobytes.
func bigPortraitMDL(b *testing.B, f *fixture, size int) *credential.Credential {
	now := time.Now()
	els, err := credential.MDL(credential.SampleOptions{Now: now, Country: "US"})
	if err != nil {
		b.Fatal(err)
	}
	for i, e := range els {
		if e.Identifier == "portrait" {
			p := e.Value.([]byte)
			els[i].Value = append(p, make([]byte, size-len(p))...)
		}
	}
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	c, err := credential.Issue(credential.IssueOptions{DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: dk, DSCert: f.us.DS, DSKey: f.us.DSKey, Signed: now.Add(-time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchBLE(b *testing.B, name string, cfg terminal.Config, wcfg wallet.Config, mtu int) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			link, err := memlink.New(memlink.Config{MTU: mtu})
			if err != nil {
				b.Fatal(err)
			}
			w, err := wallet.New(wcfg)
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- w.ServeBLE(context.Background(), link.Central(), link.Peripheral()) }()
			text, err := w.ShowQR()
			if err != nil {
				b.Fatal(err)
			}
			c := cfg
			c.BLE = terminal.BLEConfig{Peripheral: link.Peripheral(), Central: link.Central()}
			out, err := terminal.TapQR(context.Background(), text, c)
			if err != nil || !out.Result.Accepted() {
				b.Fatalf("tap: %v", err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkNFCExchange is the same exchange over the in-process NFC
// transceiver (static handover), for comparison.
func BenchmarkNFCExchange(b *testing.B) {
	f := getFixture(b)
	cfg := f.config(b)
	b.ReportAllocs()
	for b.Loop() {
		w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}})
		if err != nil {
			b.Fatal(err)
		}
		out, err := terminal.Tap(context.Background(), w.Transceiver(), cfg)
		if err != nil || !out.Result.Accepted() {
			b.Fatalf("tap: %v", err)
		}
	}
}
