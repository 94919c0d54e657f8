package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/memlink"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

const selftestUsage = `usage: idreader selftest [--transport nfc|ble-central|ble-peripheral] [--engagement nfc|qr]
                         [--handover static|negotiated|apple] [--doctype mdl|mnc] [--auth signature|mac]
                         [--profile NAME] [--mtu N] [--fault NAME] [--timeout D] [--json]
                         [--reader pn532 --bus i2c|spi|uart]

Runs one full exchange in this process between the reader (terminal) and the
simulated wallet, with a fresh test PKI and credential, no radio and no
pcscd: NFC engagement over the wallet's in-process card, or a QR engagement;
data retrieval over NFC data transfer or over BLE on an in-memory GATT link.
It verifies the response and prints the same report as 'idreader verify'.

  --transport T      nfc (default), ble-central (mdoc central client mode: the
                     reader is the GATT server, as with Apple Wallet) or
                     ble-peripheral (mdoc peripheral server mode)
  --engagement E     nfc (default) or qr (needs a BLE transport)
  --handover MODE    NFC engagement: static (default), negotiated or apple
  --doctype NAME     mdl (default) or mnc (My Number Card)
  --auth METHOD      signature (default) or mac
  --profile NAME     what to request (default: default)
  --mtu N            ATT MTU of the BLE link, 23..517 (default 517)
  --fault NAME       break the wallet: tamper, other-transcript, wrong-key, stall,
                     vanish, garbage, undecryptable, withhold (documentErrors only)
                     or overdisclose (every element held, requested or not)
  --timeout D        limit for the whole exchange (default 30s)
  --json             print one JSON object
  --reader pn532     carry the NFC exchange through the PN532 driver and an emulated
                     PN532 (reader/pn532/pn532test) instead of straight to the wallet;
                     frame count, bytes on the air and bit rate go to stderr
  --bus B            the emulated chip's bus with --reader pn532: i2c (default), spi or
                     uart (a pseudo-terminal opened as a serial port)

Exit status: 0 accept, 1 reject, 2 error (exchange failed, bad usage).
`

// selftestOptions are the parsed flags of `idreader selftest`.
type selftestOptions struct {
	transport  terminal.Transport
	qr         bool
	handover   wallet.HandoverMode
	docType    string
	auth       wallet.DeviceAuth
	profile    terminal.RequestProfile
	mtu        int
	faults     wallet.Faults
	timeout    time.Duration
	jsonOutput bool
	// pn532Bus is the emulated PN532's bus with --reader pn532, empty
	// without.
	pn532Bus string
	stderr   io.Writer
}

// runSelftest implements `idreader selftest`.
func runSelftest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("selftest", selftestUsage, stdout, stderr)
	transport := fs.String("transport", string(terminal.TransportNFC), "")
	engagement := fs.String("engagement", "nfc", "")
	handover := fs.String("handover", string(wallet.HandoverStatic), "")
	docType := fs.String("doctype", "mdl", "")
	auth := fs.String("auth", string(wallet.AuthSignature), "")
	profile := fs.String("profile", "", "")
	mtu := fs.Int("mtu", ble.MaxMTU, "")
	fault := fs.String("fault", "", "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	asJSON := fs.Bool("json", false, "")
	readerKind := fs.String("reader", "", "")
	bus := fs.String("bus", "", "")
	usageErr := fs.usageErr
	if code, ok := fs.parseOnly(args); !ok {
		return code
	}
	var err error
	o := selftestOptions{mtu: *mtu, timeout: *timeout, jsonOutput: *asJSON, docType: *docType, stderr: stderr}
	if o.pn532Bus, err = selftestBus(*readerKind, *bus, *engagement); err != nil {
		return usageErr("%v", err)
	}
	if o.transport, err = terminal.ParseTransport(*transport); err != nil {
		return usageErr("--transport: %v", err)
	}
	switch *engagement {
	case "nfc":
	case "qr":
		o.qr = true
		if o.transport == terminal.TransportNFC {
			return usageErr("--engagement qr needs a BLE transport (QR retrieval goes over BLE)")
		}
	default:
		return usageErr("--engagement %q: want nfc or qr", *engagement)
	}
	if o.handover, err = wallet.ParseHandoverMode(*handover); err != nil {
		return usageErr("--handover: %v", err)
	}
	if o.docType != "mdl" && o.docType != "mnc" {
		return usageErr("--doctype %q: want mdl or mnc", o.docType)
	}
	if o.auth, err = wallet.ParseDeviceAuth(*auth); err != nil {
		return usageErr("--auth: %v", err)
	}
	if o.profile, err = daemon.LookupRequestProfile(*profile); err != nil {
		return usageErr("%v", err)
	}
	if o.mtu < ble.MinMTU || o.mtu > ble.MaxMTU {
		return usageErr("--mtu %d: want %d..%d", o.mtu, ble.MinMTU, ble.MaxMTU)
	}
	if o.faults, err = parseFault(*fault, time.Hour); err != nil {
		return usageErr("--fault: %v", err)
	}
	if o.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	out, err := selftest(ctx, o)
	return reportTap(stdout, stderr, "selftest", out, err, o.jsonOutput, func(w io.Writer) {
		engaged := "nfc engagement"
		if o.qr {
			engaged = "qr engagement"
		}
		retrieval := string(out.Transport)
		if out.MTU > 0 {
			retrieval += fmt.Sprintf(" (MTU %d)", out.MTU)
		}
		fmt.Fprintf(w, "selftest: %s, retrieval over %s\n", engaged, retrieval)
	})
}

// selftest issues a fresh test PKI and credential, and runs one exchange
// between the terminal and the simulated wallet.
func selftest(ctx context.Context, o selftestOptions) (*terminal.Outcome, error) {
	now := time.Now()
	country, kind, sample := "US", mdoc.DocTypeMDL, credential.MDL
	if o.docType == "mnc" {
		// The My Number Card says issuing_country JP, so its PKI is Japanese.
		country, kind, sample = "JP", mdoc.DocTypeMyNumberCard, credential.MyNumberCard
	}
	p, err := pki.New(pki.Options{Now: now, Country: country})
	if err != nil {
		return nil, fmt.Errorf("making the test PKI: %w", err)
	}
	els, err := sample(credential.SampleOptions{Now: now, Country: country})
	if err != nil {
		return nil, fmt.Errorf("making the sample elements: %w", err)
	}
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cred, err := credential.Issue(credential.IssueOptions{DocType: kind, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Minute)})
	if err != nil {
		return nil, fmt.Errorf("issuing the credential: %w", err)
	}

	useBLE := o.transport != terminal.TransportNFC
	wcfg := wallet.Config{
		Credentials: []*credential.Credential{cred},
		Handover:    o.handover,
		Auth:        o.auth,
		OfferBLE:    useBLE,
		Faults:      o.faults,
	}
	if o.transport == terminal.TransportBLEPeripheralServer {
		wcfg.BLEMode = ble.ModePeripheralServer
	}
	w, err := wallet.New(wcfg)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	tcfg := terminal.Config{
		Trust:      verify.NewTrustStore(p.IACA),
		Request:    o.profile,
		ReaderAuth: &terminal.ReaderIdentity{Key: p.ReaderKey, Chain: []*x509.Certificate{p.Reader}},
		Transports: []terminal.Transport{o.transport},
	}

	walletDone := make(chan error, 1)
	walletCtx, stopWallet := context.WithCancel(ctx)
	defer func() {
		stopWallet()
		if useBLE {
			<-walletDone
		}
	}()
	if useBLE {
		link, err := memlink.New(memlink.Config{MTU: o.mtu})
		if err != nil {
			return nil, err
		}
		tcfg.BLE = terminal.BLEConfig{Peripheral: link.Peripheral(), Central: link.Central()}
		go func() { walletDone <- w.ServeBLE(walletCtx, link.Central(), link.Peripheral()) }()
	}
	if o.qr {
		text, err := w.ShowQR()
		if err != nil {
			return nil, err
		}
		return terminal.TapQR(ctx, text, tcfg)
	}
	if o.pn532Bus != "" {
		return selftestPN532(ctx, o, w, tcfg)
	}
	return terminal.Tap(ctx, w.Transceiver(), tcfg)
}
