package terminal_test

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

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/memlink"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// fixture is a US PKI with an mDL, a JP PKI with a My Number card, and the
// reader-authentication identity.
type fixture struct {
	trust    *verify.TrustStore
	mdl, mnc *credential.Credential
	reader   *terminal.ReaderIdentity
	us       *pki.PKI
}

var (
	fixOnce sync.Once
	fixVal  *fixture
	fixErr  error
)

func getFixture(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() { fixVal, fixErr = newFixture() })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fixVal
}

func newFixture() (*fixture, error) {
	now := time.Now()
	issue := func(country, docType string, sample func(credential.SampleOptions) ([]credential.Element, error)) (*pki.PKI, *credential.Credential, error) {
		p, err := pki.New(pki.Options{Now: now, Country: country})
		if err != nil {
			return nil, nil, err
		}
		els, err := sample(credential.SampleOptions{Now: now, Country: country})
		if err != nil {
			return nil, nil, err
		}
		dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		c, err := credential.Issue(credential.IssueOptions{DocType: docType, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Hour)})
		return p, c, err
	}
	pus, mdl, err := issue("US", mdoc.DocTypeMDL, credential.MDL)
	if err != nil {
		return nil, err
	}
	pjp, mnc, err := issue("JP", mdoc.DocTypeMyNumberCard, credential.MyNumberCard)
	if err != nil {
		return nil, err
	}
	return &fixture{
		trust:  verify.NewTrustStore(pus.IACA, pjp.IACA),
		mdl:    mdl,
		mnc:    mnc,
		reader: &terminal.ReaderIdentity{Key: pus.ReaderKey, Chain: []*x509.Certificate{pus.Reader}},
		us:     pus,
	}, nil
}

func (f *fixture) config(t testing.TB) terminal.Config {
	t.Helper()
	return terminal.Config{Trust: f.trust, Request: terminal.DefaultRequestProfile(), ReaderAuth: f.reader}
}

// run is one exchange between the terminal and the simulated wallet: NFC
// engagement over the wallet's in-process transceiver (or QR engagement
// with qr), data retrieval over whatever they agree on, BLE on an
// in-memory link.
type run struct {
	wallet   wallet.Config
	terminal terminal.Config
	link     memlink.Config
	qr       bool
	noBLE    bool // the terminal has no BLE radio
	// during runs while the exchange is in progress, with the link.
	during func(*memlink.Link)
	// wrap, when set, stands between the terminal and the wallet's NFC
	// side (e.g. a readertest.Cut that takes the phone away).
	wrap func(nfc.Transceiver) nfc.Transceiver
}

type result struct {
	out       *terminal.Outcome
	err       error
	report    wallet.Report
	walletErr error
}

func (r run) do(t testing.TB) result {
	t.Helper()
	link, err := memlink.New(r.link)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.New(r.wallet)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tcfg := r.terminal
	if !r.noBLE {
		tcfg.BLE.Peripheral, tcfg.BLE.Central = link.Peripheral(), link.Central()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	walletErr := make(chan error, 1)
	go func() { walletErr <- w.ServeBLE(wctx, link.Central(), link.Peripheral()) }()
	if r.during != nil {
		go r.during(link)
	}
	var res result
	if r.qr {
		text, err := w.ShowQR()
		if err != nil {
			t.Fatal(err)
		}
		res.out, res.err = terminal.TapQR(ctx, text, tcfg)
	} else {
		var tr nfc.Transceiver = w.Transceiver()
		if r.wrap != nil {
			tr = r.wrap(tr)
		}
		res.out, res.err = terminal.Tap(ctx, tr, tcfg)
	}
	if res.out == nil || res.out.Transport == terminal.TransportNFC || res.out.Transport == "" {
		wcancel() // the wallet's BLE side was never used
	}
	select {
	case res.walletErr = <-walletErr:
	case <-time.After(10 * time.Second):
		t.Fatal("the wallet's BLE side did not finish")
	}
	res.report = w.Report()
	return res
}

func (f *fixture) cred(doc string) *credential.Credential {
	if doc == "mnc" {
		return f.mnc
	}
	return f.mdl
}

func modeOf(tr terminal.Transport) ble.Mode {
	if tr == terminal.TransportBLEPeripheralServer {
		return ble.ModePeripheralServer
	}
	return ble.ModeCentralClient
}

// checkAccepted checks a successful BLE exchange.
func checkAccepted(t *testing.T, r result, cred *credential.Credential, auth wallet.DeviceAuth, tr terminal.Transport) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("tap failed [%s]: %v (wallet: %v / %v)", terminal.ErrorCode(r.err), r.err, r.walletErr, r.report.Err)
	}
	if r.out.Transport != tr {
		t.Errorf("transport = %q, want %q", r.out.Transport, tr)
	}
	res := r.out.Result
	if !res.Accepted() {
		t.Fatalf("rejected: %v", res.Err())
	}
	if len(res.Documents) != 1 || res.Documents[0].DocType != cred.DocType {
		t.Fatalf("documents = %+v, want one %s", res.Documents, cred.DocType)
	}
	if got := res.Documents[0].DeviceAuth; got != string(auth) {
		t.Errorf("deviceAuth = %q, want %q", got, auth)
	}
	if r.out.TerminationErr != nil {
		t.Errorf("termination: %v", r.out.TerminationErr)
	}
	if (tr != terminal.TransportNFC && r.walletErr != nil) || r.report.Err != nil {
		// Over NFC the wallet's BLE side is stopped unused.
		t.Errorf("wallet: %v / %v", r.walletErr, r.report.Err)
	}
	if !r.report.Terminated {
		t.Error("the wallet did not see the termination")
	}
	if tr != terminal.TransportNFC && r.report.Transport != modeOf(tr).String() {
		t.Errorf("wallet transport = %q", r.report.Transport)
	}
	if len(r.report.ReaderAuth) == 0 || r.report.ReaderAuth[0].Err != nil {
		t.Errorf("reader authentication not verified by the wallet: %+v", r.report.ReaderAuth)
	}
	portrait := false
	for _, e := range res.Documents[0].Elements {
		if b, ok := e.Value.([]byte); ok && e.Identifier == "portrait" && len(b) > 100 {
			portrait = true
		}
	}
	if !portrait {
		t.Error("no portrait disclosed")
	}
}

// TestBLEBothModes: NFC engagement (static and negotiated handover) and BLE
// retrieval in both modes, mDL and My Number card, signature and MAC.
func TestBLEBothModes(t *testing.T) {
	f := getFixture(t)
	for _, tr := range []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportBLEPeripheralServer} {
		for _, hand := range []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated} {
			for _, doc := range []string{"mdl", "mnc"} {
				for _, auth := range []wallet.DeviceAuth{wallet.AuthSignature, wallet.AuthMAC} {
					t.Run(fmt.Sprintf("%s/%s/%s/%s", tr, hand, doc, auth), func(t *testing.T) {
						tcfg := f.config(t)
						tcfg.Transports = []terminal.Transport{tr}
						r := run{
							wallet: wallet.Config{
								Credentials: []*credential.Credential{f.cred(doc)},
								Handover:    hand, Auth: auth,
								OfferBLE: true, BLEMode: modeOf(tr),
							},
							terminal: tcfg,
						}.do(t)
						checkAccepted(t, r, f.cred(doc), auth, tr)
						if r.out.MTU != 517 || r.report.MTU != 517 {
							t.Errorf("mtu = %d / %d", r.out.MTU, r.report.MTU)
						}
					})
				}
			}
		}
	}
}

// TestBLEMTU: the smallest, a common and the largest ATT MTU, in both modes.
func TestBLEMTU(t *testing.T) {
	f := getFixture(t)
	for _, mtu := range []int{23, 185, 517} {
		for _, tr := range []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportBLEPeripheralServer} {
			t.Run(fmt.Sprintf("%d/%s", mtu, tr), func(t *testing.T) {
				tcfg := f.config(t)
				tcfg.Transports = []terminal.Transport{tr}
				r := run{
					wallet:   wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated, OfferBLE: true, BLEMode: modeOf(tr)},
					terminal: tcfg,
					link:     memlink.Config{MTU: mtu},
				}.do(t)
				checkAccepted(t, r, f.mdl, wallet.AuthSignature, tr)
				if r.out.MTU != mtu {
					t.Errorf("mtu = %d", r.out.MTU)
				}
			})
		}
	}
}

// TestBLEAppleShaped: a wallet shaped like Apple Wallet selects only BLE in
// mdoc central client mode, without a UUID; the terminal (default
// preferences) advertises the UUID of its own Handover Request.
func TestBLEAppleShaped(t *testing.T) {
	f := getFixture(t)
	r := run{
		wallet: wallet.Config{
			Credentials: []*credential.Credential{f.mnc}, Handover: wallet.HandoverApple,
			OfferBLE: true, BLEOnly: true,
		},
		terminal: f.config(t),
	}.do(t)
	checkAccepted(t, r, f.mnc, wallet.AuthSignature, terminal.TransportBLECentralClient)
	hs, err := nfc.ParseHandoverSelect(r.report.HandoverSelect)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := hs.CarrierSet()
	if err != nil {
		t.Fatal(err)
	}
	if cs.NFC != nil || cs.BLE == nil || cs.BLE.Role != nfc.LERoleCentralOnly || len(cs.BLE.UUIDs) != 0 {
		t.Errorf("handover select carriers: nfc %+v ble %+v", cs.NFC, cs.BLE)
	}
	hr, err := nfc.ParseHandoverRequest(r.report.HandoverRequest)
	if err != nil {
		t.Fatal(err)
	}
	hcs, err := hr.CarrierSet()
	if err != nil {
		t.Fatal(err)
	}
	// Default preference: NFC, central client, peripheral server; both
	// roles available, so "both, peripheral preferred" with the UUID.
	if hcs.NFC == nil || hcs.BLE == nil || hcs.BLE.Role != nfc.LERoleBothPeripheralFirst || len(hcs.BLE.UUIDs) != 1 {
		t.Errorf("handover request carriers: nfc %+v ble %+v", hcs.NFC, hcs.BLE)
	}
}

// TestPreference: the wallet selects NFC and BLE; the terminal follows its
// preference order, and offers only what it has.
func TestPreference(t *testing.T) {
	f := getFixture(t)
	for _, tc := range []struct {
		name  string
		pref  []terminal.Transport
		noBLE bool
		want  terminal.Transport
		role  nfc.LERole
		noHr  bool // no BLE record in the Hr
	}{
		{name: "default", want: terminal.TransportNFC, role: nfc.LERoleBothPeripheralFirst},
		{name: "ble-first", pref: []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportNFC}, want: terminal.TransportBLECentralClient, role: nfc.LERolePeripheralOnly},
		{name: "peripheral-first", pref: []terminal.Transport{terminal.TransportBLEPeripheralServer, terminal.TransportBLECentralClient, terminal.TransportNFC}, want: terminal.TransportBLECentralClient, role: nfc.LERoleBothCentralFirst},
		{name: "no-radio", pref: []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportNFC}, noBLE: true, want: terminal.TransportNFC, noHr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tcfg := f.config(t)
			tcfg.Transports = tc.pref
			r := run{
				wallet:   wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated, OfferBLE: true},
				terminal: tcfg,
				noBLE:    tc.noBLE,
			}.do(t)
			if r.err != nil {
				t.Fatalf("tap: %v", r.err)
			}
			if r.out.Transport != tc.want || !r.out.Result.Accepted() {
				t.Fatalf("transport %q accepted %v, want %q", r.out.Transport, r.out.Result.Accepted(), tc.want)
			}
			hr, err := nfc.ParseHandoverRequest(r.report.HandoverRequest)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := hr.CarrierSet()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.noHr && cs.BLE != nil:
				t.Errorf("hr offers ble without a radio: %+v", cs.BLE)
			case !tc.noHr && (cs.BLE == nil || cs.BLE.Role != tc.role):
				t.Errorf("hr ble %+v, want role %d", cs.BLE, tc.role)
			}
		})
	}
}

// TestNoUsableTransport: the wallet selects only BLE central client mode,
// the terminal can only be a BLE central.
func TestNoUsableTransport(t *testing.T) {
	f := getFixture(t)
	tcfg := f.config(t)
	tcfg.Transports = []terminal.Transport{terminal.TransportBLEPeripheralServer}
	r := run{
		wallet:   wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverStatic, OfferBLE: true},
		terminal: tcfg,
	}.do(t)
	if !errors.Is(r.err, terminal.ErrNoCarrier) || terminal.ErrorCode(r.err) != verify.CodeUnsupported {
		t.Fatalf("err = %v [%s]", r.err, terminal.ErrorCode(r.err))
	}
}

// onlyDir applies fault to values crossing in one direction.
func onlyDir(dir memlink.Direction, fault memlink.Fault) memlink.Fault {
	return func(d memlink.Direction, c ble.UUID, v []byte) ([]byte, memlink.Action) {
		if d != dir {
			return v, memlink.Deliver
		}
		return fault(d, c, v)
	}
}

// TestBLEFaults: a wallet whose link drops, stalls, reads a wrong Ident or
// sends oversized chunks ends the tap with a clear reason code.
func TestBLEFaults(t *testing.T) {
	f := getFixture(t)
	for _, tr := range []terminal.Transport{terminal.TransportBLECentralClient, terminal.TransportBLEPeripheralServer} {
		// The direction of the wallet's messages.
		fromWallet := memlink.ToServer
		if tr == terminal.TransportBLEPeripheralServer {
			fromWallet = memlink.ToClient
		}
		for _, tc := range []struct {
			name   string
			faults []memlink.Fault
			wfault wallet.Faults
			during func(*memlink.Link)
			want   string
		}{
			{name: "disconnect", faults: []memlink.Fault{memlink.DisconnectAfter(3000)}, want: string(terminal.CodeDisconnected)},
			{name: "stall", faults: []memlink.Fault{memlink.StallAfter(3000)}, want: string(terminal.CodeTimeout)},
			{name: "wallet-stall", wfault: wallet.Faults{Stall: time.Minute}, want: string(terminal.CodeTimeout)},
			{name: "oversized", faults: []memlink.Fault{onlyDir(fromWallet, memlink.OversizeChunks(600))}, want: string(terminal.CodeBLEProtocol)},
			{name: "lead-byte", faults: []memlink.Fault{onlyDir(fromWallet, memlink.LeadByte(0x07))}, want: string(terminal.CodeBLEProtocol)},
			{name: "wrong-ident", faults: []memlink.Fault{memlink.WrongIdent()}, want: string(terminal.CodeDisconnected)},
		} {
			if tc.name == "wrong-ident" && tr == terminal.TransportBLEPeripheralServer {
				continue // no Ident in peripheral server mode
			}
			t.Run(fmt.Sprintf("%s/%s", tr, tc.name), func(t *testing.T) {
				tcfg := f.config(t)
				tcfg.Transports = []terminal.Transport{tr}
				tcfg.ExchangeTimeout = 300 * time.Millisecond
				tcfg.BLE.ConnectTimeout = 2 * time.Second
				r := run{
					wallet: wallet.Config{
						Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated,
						OfferBLE: true, BLEMode: modeOf(tr), Faults: tc.wfault,
					},
					terminal: tcfg,
					link:     memlink.Config{MTU: 185, Faults: tc.faults},
				}.do(t)
				if r.err == nil {
					t.Fatalf("tap succeeded: %+v", r.out.Result.Report())
				}
				if got := string(terminal.ErrorCode(r.err)); got != tc.want {
					t.Fatalf("code %s, want %s: %v", got, tc.want, r.err)
				}
				if tc.name == "wrong-ident" && !errors.Is(r.walletErr, ble.ErrIdentMismatch) {
					t.Errorf("wallet error %v, want an ident mismatch", r.walletErr)
				}
				rep := terminal.ErrorReport(r.err)
				if rep.Verdict != verify.VerdictReject || string(rep.Errors[0].Code) != tc.want {
					t.Errorf("report %+v", rep)
				}
			})
		}
	}
}

// TestBLELinkLost: the radio drops while the wallet prepares its answer.
func TestBLELinkLost(t *testing.T) {
	f := getFixture(t)
	tcfg := f.config(t)
	tcfg.Transports = []terminal.Transport{terminal.TransportBLECentralClient}
	responded := make(chan struct{})
	r := run{
		wallet: wallet.Config{
			Credentials: []*credential.Credential{f.mdl}, Handover: wallet.HandoverNegotiated, OfferBLE: true,
			Faults: wallet.Faults{Stall: 5 * time.Second},
			Sleep: func(ctx context.Context, d time.Duration) error {
				close(responded)
				return nfc.Sleep(ctx, d)
			},
		},
		terminal: tcfg,
		during: func(l *memlink.Link) {
			<-responded
			l.Disconnect()
		},
	}.do(t)
	if got := terminal.ErrorCode(r.err); got != terminal.CodeDisconnected {
		t.Fatalf("code %s: %v", got, r.err)
	}
}
