package terminal_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/testvectors"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/memlink"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/nfc/nfctest"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

func vector(t testing.TB, name string) []byte {
	t.Helper()
	return testvectors.File(t, name)
}

// TestQREngagement: QR engagement, Handover null, BLE retrieval in both
// modes, mDL and My Number card, signature and MAC.
func TestQREngagement(t *testing.T) {
	f := getFixture(t)
	for _, tr := range []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportBLEPeripheralServer} {
		for _, doc := range []string{"mdl", "mnc"} {
			for _, auth := range []wallet.DeviceAuth{wallet.AuthSignature, wallet.AuthMAC} {
				t.Run(fmt.Sprintf("%s/%s/%s", tr, doc, auth), func(t *testing.T) {
					r := run{
						wallet:   wallet.Config{Credentials: []*credential.Credential{f.cred(doc)}, Auth: auth, BLEMode: modeOf(tr)},
						terminal: f.config(t),
						qr:       true,
					}.do(t)
					checkAccepted(t, r, f.cred(doc), auth, tr)
					if !r.out.QR || !r.report.QR || r.out.Negotiated {
						t.Errorf("qr %v/%v negotiated %v", r.out.QR, r.report.QR, r.out.Negotiated)
					}
					if names := stepNames(r.out); names != "engagement session connect request verify" {
						t.Errorf("steps %q", names)
					}
				})
			}
		}
	}
}

func stepNames(o *terminal.Outcome) string {
	var s []string
	for _, st := range o.Steps {
		s = append(s, st.Step)
	}
	return strings.Join(s, " ")
}

// TestQRErrors: a QR code that is not an engagement, and a terminal
// without a radio for the engagement's BLE mode.
func TestQRErrors(t *testing.T) {
	f := getFixture(t)
	cfg := f.config(t)
	_, err := terminal.TapQR(context.Background(), "mdoc:AAAA", cfg)
	if terminal.ErrorCode(err) != verify.CodeMalformed {
		t.Errorf("garbage: %v [%s]", err, terminal.ErrorCode(err))
	}
	r := run{
		wallet:   wallet.Config{Credentials: []*credential.Credential{f.mdl}},
		terminal: cfg,
		qr:       true,
		noBLE:    true,
	}.do(t)
	if !errors.Is(r.err, terminal.ErrNoCarrier) || terminal.ErrorCode(r.err) != verify.CodeUnsupported {
		t.Errorf("no radio: %v [%s]", r.err, terminal.ErrorCode(r.err))
	}
	// Annex D's QR engagement offers BLE central client mode only (key 11);
	// a terminal that can only be central cannot use it.
	de := vector(t, "annexd/device_engagement_qr.hex")
	text := mdoc.QRScheme + base64.RawURLEncoding.EncodeToString(de)
	link, err := memlink.New(memlink.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BLE.Central = link.Central()
	if _, err := terminal.TapQR(context.Background(), text, cfg); !errors.Is(err, terminal.ErrNoCarrier) {
		t.Errorf("annex d with a central only: %v", err)
	}
}

// TestAppleCapturedHandoverSelect replays Apple Wallet's captured Handover
// Select (central client mode, no UUID) from a fake tag: the terminal must
// advertise the UUID of its own Handover Request and serve the Ident of
// Apple's EDeviceKeyBytes; a phone that connects with those gets the
// SessionEstablishment.
func TestAppleCapturedHandoverSelect(t *testing.T) {
	f := getFixture(t)
	hs := vector(t, "interop/apple_wallet_handover_select_message.hex")
	cc, err := nfc.ParseCapabilityContainer(vector(t, "interop/apple_wallet_cc_file.hex"))
	if err != nil {
		t.Fatal(err)
	}
	tag := nfctest.NewTag(cc, vector(t, "interop/apple_wallet_initial_ndef_message.hex"))
	tag.ShortOnly = true
	hrs := make(chan []byte, 1)
	tag.OnWrite = func(msg []byte) ([]byte, int) {
		m, err := nfc.ParseMessage(msg)
		if err != nil {
			t.Errorf("bad write: %v", err)
			return nil, 0
		}
		if m[0].Is(nfc.TNFWellKnown, nfc.TypeHandoverRequest) {
			hrs <- bytes.Clone(msg)
			return hs, 2
		}
		return vector(t, "interop/apple_wallet_tnep_status_message.hex"), 0
	}
	link, err := memlink.New(memlink.Config{MTU: 185})
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config(t)
	cfg.BLE.Peripheral = link.Peripheral()
	cfg.ExchangeTimeout = time.Second

	phone := make(chan error, 1)
	go func() {
		hr, err := nfc.ParseHandoverRequest(<-hrs)
		if err != nil {
			phone <- err
			return
		}
		cs, err := hr.CarrierSet()
		if err != nil || cs.BLE == nil || len(cs.BLE.UUIDs) != 1 {
			phone <- fmt.Errorf("hr carriers %+v: %v", cs.BLE, err)
			return
		}
		hsCS, _ := mustSelect(hs)
		de, err := mdoc.ParseDeviceEngagement(hsCS.DeviceEngagement)
		if err != nil {
			phone <- err
			return
		}
		ident, err := ble.Ident(de.EDeviceKeyBytes.Raw)
		if err != nil {
			phone <- err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := ble.Dial(ctx, link.Central(), ble.Config{Mode: ble.ModeCentralClient, Service: ble.UUID(cs.BLE.UUIDs[0]), Ident: ident})
		if err != nil {
			phone <- err
			return
		}
		msg, err := conn.Receive(ctx)
		if err == nil {
			_, err = mustEstablishment(msg)
		}
		conn.Close(ctx) // the real phone would answer; this one ends the session
		phone <- err
	}()
	out, err := terminal.Tap(context.Background(), tag, cfg)
	if perr := <-phone; perr != nil {
		t.Fatalf("phone: %v", perr)
	}
	if out.Transport != terminal.TransportBLECentralClient || !out.Negotiated {
		t.Errorf("transport %q negotiated %v", out.Transport, out.Negotiated)
	}
	if terminal.ErrorCode(err) != terminal.CodeWalletStatus {
		t.Errorf("after the phone ended the session: %v [%s]", err, terminal.ErrorCode(err))
	}
}

func mustSelect(b []byte) (nfc.CarrierSet, error) {
	hs, err := nfc.ParseHandoverSelect(b)
	if err != nil {
		return nfc.CarrierSet{}, err
	}
	return hs.CarrierSet()
}

func mustEstablishment(b []byte) ([]byte, error) {
	var m map[string]any
	if err := mdoc.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if _, ok := m["eReaderKey"]; !ok {
		return nil, errors.New("no eReaderKey in the first message")
	}
	return b, nil
}

func qrText(t testing.TB) string {
	de := vector(t, "annexd/device_engagement_qr.hex")
	return mdoc.QRScheme + base64.RawURLEncoding.EncodeToString(de)
}

// TestQRScanner: noise, line endings, scanner prefixes and suffixes, long
// lines and the end of the input.
func TestQRScanner(t *testing.T) {
	uri := qrText(t)
	upper := "MDOC:" + strings.TrimPrefix(uri, "mdoc:")
	long := strings.Repeat("x", terminal.MaxQRLine+10) + uri
	input := "hello\r\n\n4006381333931\r" + long + "\n]Q1" + uri + "\tENTER\r\n" + "mdoc:!!!!\n" + "mdoc:AAAA\n" + upper + "\n" + uri
	s := terminal.NewQRScanner(strings.NewReader(input))
	ctx := context.Background()
	for i, want := range []string{uri, "mdoc:" + strings.TrimPrefix(uri, "mdoc:"), uri} {
		got, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("scan %d: %v", i, err)
		}
		if i == 1 {
			want = "mdoc:" + strings.TrimPrefix(upper, "MDOC:")
		}
		if got != want {
			t.Errorf("scan %d = %q, want %q", i, got, want)
		}
	}
	if _, err := s.Next(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("after the input: %v", err)
	}
}

// TestQRScannerNextScan: NextScan skips lines without the scheme but
// returns damaged mdoc: codes, cut at the end of their base64url.
func TestQRScannerNextScan(t *testing.T) {
	uri := qrText(t)
	s := terminal.NewQRScanner(strings.NewReader("hello\n4006381333931\r\n]Q1" + uri + "\tENTER\nmdoc:!!!!\nxxMdOc:AAAA==  \n"))
	for i, want := range []string{uri, "mdoc:", "mdoc:AAAA=="} {
		got, err := s.NextScan(context.Background())
		if err != nil || got != want {
			t.Errorf("scan %d = %q, %v; want %q", i, got, err, want)
		}
	}
	if _, err := s.NextScan(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("after the input: %v", err)
	}
}

// TestQRScannerCancel: a scanner that types nothing is left by ctx, and a
// line read meanwhile is kept.
func TestQRScannerCancel(t *testing.T) {
	pr, pw := io.Pipe()
	s := terminal.NewQRScanner(pr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	go fmt.Fprintln(pw, qrText(t))
	got, err := s.Next(context.Background())
	if err != nil || got != qrText(t) {
		t.Fatalf("got %q, %v", got, err)
	}
	pw.CloseWithError(errors.New("tty gone"))
	if _, err := s.Next(context.Background()); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenQRScanner(t *testing.T) {
	path := t.TempDir() + "/tty"
	if err := os.WriteFile(path, []byte("beep\r\n"+qrText(t)+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := terminal.OpenQRScanner(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Next(context.Background()); err != nil || got != qrText(t) {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := terminal.OpenQRScanner(path + ".missing"); err == nil {
		t.Error("missing device opened")
	}
}

func FuzzParseQRLine(f *testing.F) {
	f.Add(qrText(f))
	f.Add("]Q1" + qrText(f) + "\t")
	f.Add("mdoc:")
	f.Add("MDOC:AAAA====")
	f.Add("noise")
	f.Fuzz(func(t *testing.T, line string) {
		uri, ok := terminal.ParseQRLine(line)
		if !ok {
			return
		}
		if !strings.HasPrefix(uri, mdoc.QRScheme) {
			t.Fatalf("uri %q", uri)
		}
		if _, err := mdoc.ParseQR(uri); err != nil {
			t.Fatalf("accepted %q: %v", uri, err)
		}
		// Extracting again is idempotent.
		if again, ok := terminal.ParseQRLine(uri); !ok || again != uri {
			t.Fatalf("again %q %v", again, ok)
		}
	})
}
