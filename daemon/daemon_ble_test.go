package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/memlink"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/hardware"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// linkRadio gives spec an in-memory BLE radio.
func linkRadio(t *testing.T) (*memlink.Link, func(context.Context) (terminal.BLEConfig, error)) {
	t.Helper()
	link, err := memlink.New(memlink.Config{MTU: 185})
	if err != nil {
		t.Fatal(err)
	}
	return link, func(context.Context) (terminal.BLEConfig, error) {
		return terminal.BLEConfig{Peripheral: link.Peripheral(), Central: link.Central(), ConnectTimeout: 5 * time.Second}, nil
	}
}

// serveBLE runs the wallet's BLE side until the test ends.
func serveBLE(t *testing.T, w *wallet.Wallet, link *memlink.Link) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			w.ServeBLE(ctx, link.Central(), link.Peripheral())
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// auditRecords parses the audit lines written so far.
func auditRecords(t *testing.T, h *harness) []daemon.AuditRecord {
	t.Helper()
	var out []daemon.AuditRecord
	for line := range strings.Lines(h.audit.String()) {
		var rec daemon.AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// TestLoopBLE runs NFC engagement with BLE retrieval through the daemon's
// loop, in both roles, over the in-memory link: the wallet selects BLE only
// (as Apple Wallet does), the reader follows, and the transport shows in
// the event and the audit record.
func TestLoopBLE(t *testing.T) {
	link, radio := linkRadio(t)
	h := startWith(t, "age-21", daemon.Timeouts{}, func(s *daemon.ReaderSpec) { s.BLE = radio }, "counter")
	cases := []struct {
		mode ble.Mode
		want terminal.Transport
	}{
		{ble.ModeCentralClient, terminal.TransportBLECentralClient},
		{ble.ModePeripheralServer, terminal.TransportBLEPeripheralServer},
	}
	for _, tc := range cases {
		t.Run(string(tc.want), func(t *testing.T) {
			w := h.wallet(t, wallet.Config{Handover: wallet.HandoverNegotiated, OfferBLE: true, BLEOnly: true, BLEMode: tc.mode}, h.w.Adult)
			serveBLE(t, w, link)
			e := h.tap(t, "counter", w)
			if e.Decision != daemon.DecisionAccept || e.Transport != tc.want || e.Engagement != terminal.EngagementNFC {
				t.Fatalf("decision %s %v over %q (%s), want accept over %s", e.Decision, e.Reasons, e.Transport, e.Engagement, tc.want)
			}
		})
	}
	recs := auditRecords(t, h)
	if len(recs) != 2 {
		t.Fatalf("%d audit records, want 2", len(recs))
	}
	for i, rec := range recs {
		if rec.Transport != cases[i].want || rec.Engagement != terminal.EngagementNFC || rec.Decision != daemon.DecisionAccept || rec.StepsMS["connect"] <= 0 {
			t.Errorf("audit record %d: %+v", i, rec)
		}
	}
	if st := h.d.Readers()[0]; st.BLE != "ok" || st.Engagement != terminal.EngagementNFC {
		t.Errorf("status %+v", st)
	}
}

// TestLoopPreference checks that each reader follows its own preference
// order when the wallet selects both NFC and BLE (static handover).
func TestLoopPreference(t *testing.T) {
	links := map[string]*memlink.Link{}
	h := startWith(t, "age-21", daemon.Timeouts{}, func(s *daemon.ReaderSpec) {
		link, radio := linkRadio(t)
		links[s.Name], s.BLE = link, radio
		if s.Name == "ble-first" {
			s.Transports = []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportNFC}
		} else {
			s.Transports = []terminal.Transport{terminal.TransportNFC, terminal.TransportBLECentralClient}
		}
	}, "ble-first", "nfc-first")
	for rd, want := range map[string]terminal.Transport{"ble-first": terminal.TransportBLECentralClient, "nfc-first": terminal.TransportNFC} {
		t.Run(rd, func(t *testing.T) {
			w := h.wallet(t, wallet.Config{OfferBLE: true}, h.w.Adult)
			serveBLE(t, w, links[rd])
			e := h.tap(t, rd, w)
			if e.Decision != daemon.DecisionAccept || e.Transport != want {
				t.Fatalf("decision %s %v over %q, want accept over %s", e.Decision, e.Reasons, e.Transport, want)
			}
		})
	}
}

// TestLoopRadioDown: a reader whose radio cannot be opened keeps reading
// over NFC (its Handover Request offers no BLE) and tells why BLE is off
// in its status and the log, once.
func TestLoopRadioDown(t *testing.T) {
	down := errors.New("bluez: no system D-Bus")
	h := startWith(t, "age-21", daemon.Timeouts{}, func(s *daemon.ReaderSpec) {
		s.BLE = func(context.Context) (terminal.BLEConfig, error) { return terminal.BLEConfig{}, down }
	}, "counter")
	e := h.tap(t, "counter", h.wallet(t, wallet.Config{OfferBLE: true}, h.w.Adult))
	if e.Decision != daemon.DecisionAccept || e.Transport != terminal.TransportNFC {
		t.Fatalf("decision %s %v over %q, want accept over nfc", e.Decision, e.Reasons, e.Transport)
	}
	// The Handover Request offers no BLE, so even a wallet that prefers BLE
	// only stays on NFC.
	e = h.tap(t, "counter", h.wallet(t, wallet.Config{Handover: wallet.HandoverNegotiated, OfferBLE: true, BLEOnly: true}, h.w.Adult))
	if e.Decision != daemon.DecisionAccept || e.Transport != terminal.TransportNFC {
		t.Fatalf("negotiated BLE-first wallet without a radio: %s %v over %q", e.Decision, e.Reasons, e.Transport)
	}
	st := h.d.Readers()[0]
	if !st.Up || st.BLE != down.Error() {
		t.Errorf("status %+v: want up with the radio's error", st)
	}
	if n := strings.Count(h.log.String(), "bluetooth LE radio unavailable"); n != 1 {
		t.Errorf("radio error logged %d times, want once:\n%s", n, h.log.String())
	}
}

// pipes hands out one io.Pipe per opening of a QR scanner.
type pipes struct {
	t       *testing.T
	writers chan *io.PipeWriter
}

func (p *pipes) open(context.Context) (*terminal.QRScanner, error) {
	r, w := io.Pipe()
	p.t.Cleanup(func() { w.Close() })
	p.writers <- w
	return terminal.NewQRScanner(r), nil
}

func (p *pipes) next(t *testing.T) *io.PipeWriter {
	t.Helper()
	select {
	case w := <-p.writers:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("the scanner was not opened within 10 s")
		return nil
	}
}

func scan(t *testing.T, w io.Writer, line string) {
	t.Helper()
	if _, err := fmt.Fprint(w, line); err != nil {
		t.Fatal(err)
	}
}

// TestLoopQR runs a QR reader fed from a pipe: noise lines are ignored, the
// wallet's QR code is read over BLE in both roles and accepted, a damaged
// mdoc: code is a reject with reason malformed, and a closed scanner is
// reader_down, then reopened.
func TestLoopQR(t *testing.T) {
	link, radio := linkRadio(t)
	p := &pipes{t: t, writers: make(chan *io.PipeWriter, 4)}
	h := startWith(t, "age-21", daemon.Timeouts{BackoffMax: 10 * time.Millisecond}, func(s *daemon.ReaderSpec) {
		s.Open, s.OpenQR, s.BLE = nil, p.open, radio
	}, "kiosk")
	pw := p.next(t)
	if st := h.d.Readers()[0]; !st.Up || st.Engagement != terminal.EngagementQR || st.BLE != "ok" {
		t.Errorf("status %+v", st)
	}

	for _, mode := range []ble.Mode{ble.ModeCentralClient, ble.ModePeripheralServer} {
		w := h.wallet(t, wallet.Config{BLEMode: mode}, h.w.Adult)
		serveBLE(t, w, link)
		text, err := w.ShowQR()
		if err != nil {
			t.Fatal(err)
		}
		// Noise first: another barcode and a stray key; then the code
		// with an AIM symbology prefix, CR LF as some scanners end lines.
		scan(t, pw, "4901234567894\n\n x\r\n]Q1"+text+"\r\n")
		e := h.next(t, "kiosk", daemon.EventDecision)
		want := terminal.TransportBLECentralClient
		if mode == ble.ModePeripheralServer {
			want = terminal.TransportBLEPeripheralServer
		}
		if e.Decision != daemon.DecisionAccept || e.Engagement != terminal.EngagementQR || e.Transport != want {
			t.Fatalf("%s: decision %s %v over %q (%s)", mode, e.Decision, e.Reasons, e.Transport, e.Engagement)
		}
		h.next(t, "kiosk", daemon.EventReady)
	}

	// A damaged code and one that is not base64url.
	for _, garbage := range []string{"mdoc:owBjMS4wAYIB2BhYS6QBAiABIVgg\n", "MDOC:!!!\n"} {
		scan(t, pw, garbage)
		e := h.next(t, "kiosk", daemon.EventDecision)
		if e.Decision != daemon.DecisionReject || !slices.Equal(e.Reasons, []string{string(verify.CodeMalformed)}) || e.Transport != "" {
			t.Fatalf("garbage %q: %s %v over %q", garbage, e.Decision, e.Reasons, e.Transport)
		}
		h.next(t, "kiosk", daemon.EventReady)
	}
	sigs := h.outputs["kiosk"].seen()
	if i := slices.Index(sigs, hardware.SignalFault); i < 1 || sigs[i-1] != hardware.SignalReading {
		t.Errorf("signals %v: want reading then fault for the damaged code", sigs)
	}

	recs := auditRecords(t, h)
	if len(recs) != 4 {
		t.Fatalf("%d audit records, want 4 (noise is not a tap)", len(recs))
	}
	for i, rec := range recs {
		if rec.Engagement != terminal.EngagementQR || (i < 2) != (rec.Decision == daemon.DecisionAccept) || (i < 2) != (rec.Transport != "") {
			t.Errorf("audit record %d: %+v", i, rec)
		}
	}

	// The scanner goes away: reader_down, then the loop opens it again.
	pw.Close()
	h.next(t, "kiosk", daemon.EventReaderDown)
	pw = p.next(t)
	h.next(t, "kiosk", daemon.EventReaderUp)
	h.next(t, "kiosk", daemon.EventReady)

	// An armed check is answered by the next scan.
	w := h.wallet(t, wallet.Config{}, h.w.Minor)
	serveBLE(t, w, link)
	text, err := w.ShowQR()
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan *daemon.CheckResult, 1)
	go func() {
		r, err := h.d.Check(context.Background(), daemon.CheckRequest{Profile: "age-21", Timeout: 10 * time.Second})
		if err != nil {
			t.Error(err)
		}
		res <- r
	}()
	waitArmed(t, h.d, "kiosk")
	scan(t, pw, text+"\n")
	r := <-res
	if r == nil || r.Decision != daemon.DecisionReject || !slices.Equal(r.Reasons, []string{policy.CodeAgeNotMet}) {
		t.Fatalf("check result %+v", r)
	}
}

// TestQRReaderNeedsRadio: a QR reader without a radio is refused, and one
// whose radio is down is reported down without opening the scanner.
func TestQRReaderNeedsRadio(t *testing.T) {
	w := world(t)
	open := func(context.Context) (*terminal.QRScanner, error) {
		return terminal.NewQRScanner(strings.NewReader("")), nil
	}
	_, err := daemon.New(daemon.Config{
		Readers:  []daemon.ReaderSpec{{Name: "qr", OpenQR: open}},
		Settings: w.Settings("age-21", "qr"),
	})
	if err == nil {
		t.Fatal("a QR reader without a BLE radio was accepted")
	}
	opened := make(chan struct{}, 1)
	h := launch(t, "age-21", daemon.Timeouts{}, func(s *daemon.ReaderSpec) {
		s.Open = nil
		s.OpenQR = func(ctx context.Context) (*terminal.QRScanner, error) {
			opened <- struct{}{}
			return open(ctx)
		}
		s.BLE = func(context.Context) (terminal.BLEConfig, error) {
			return terminal.BLEConfig{}, errors.New("bluez: no adapter hci0")
		}
	}, "qr")
	h.next(t, "qr", daemon.EventReaderDown)
	if st := h.d.Readers()[0]; st.Up || st.BLE != "bluez: no adapter hci0" {
		t.Errorf("status %+v", st)
	}
	select {
	case <-opened:
		t.Error("the scanner was opened without a radio")
	default:
	}
}
