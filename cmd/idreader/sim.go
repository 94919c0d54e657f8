package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idreader/idreader/ble/bluez"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/verify"
)

const simUsage = `usage: idreader sim (--pki DIR [--doctype mdl|mnc] | --credential DIR) [--vpcd HOST:PORT]
       [--handover static|negotiated|apple] [--auth signature|mac] [--curve p256|p384|p521|x25519]
       [--ble] [--reader-trust PATH] [--fault NAME] [--hostile MODE] [--stall D] [--taps N]
       [--tap-timeout D] [--linger D] [--gap D]
       [--ble-adapter ADAPTER [--ble-mode central-client|peripheral-server]
        [--engagement nfc|qr --qr-out FILE]]

Runs the simulated wallet as a card behind vsmartcard's vpcd (pcscd's virtual
reader): it enters the field, answers the reader's NFC engagement and NFC data
transfer like a phone, leaves the field when the exchange is over, and comes
back for the next tap.

  --pki DIR          issue a fresh sample credential with the test PKI in DIR
                     (see idreader pki) and a fresh device key
  --doctype NAME     mdl (org.iso.18013.5.1.mDL, default) or mnc (My Number
                     Card, org.iso.23220.1.jp.mnc; needs a PKI with --country JP)
  --credential DIR   present DIR/issuer_signed.cbor with DIR/device_key.pem
  --vpcd HOST:PORT   vpcd slot to connect to (default 127.0.0.1:35963)
  --handover MODE    static (default), negotiated (TNEP) or apple (Apple Wallet shape)
  --auth METHOD      signature (default) or mac
  --curve NAME       EDeviceKey curve (default p256)
  --ble              also offer a BLE carrier in the Handover Select (no BLE transport)
  --reader-trust P   reader-authentication root(s): refuse requests whose readerAuth
                     does not chain to them
  --fault NAME       tamper, other-transcript, wrong-key, stall, vanish, garbage,
                     undecryptable, withhold (answer with documentErrors only) or
                     overdisclose (return every element held, requested or not)
  --hostile MODE     attack the reader inside a valid session: oversized-length,
                     wrong-counter, replay, status-10, status-11, status-20,
                     deep-cbor, huge-doctype (2 MB) or many-elements (10,000)
  --stall D          how long the stall fault waits (default 30s)
  --taps N           serve N taps, then exit (default 0: until SIGINT/SIGTERM)
  --tap-timeout D    leave the field when a tap is not over after D (default 30s)
  --linger D         after the response, wait D for the reader's termination (default 2s)
  --gap D            time out of the field between taps (default 1s; pcscd polls
                     for card presence every 400 ms)
  --ble-adapter NAME serve BLE data retrieval through BlueZ on this adapter (e.g. hci1)
                     and offer it in the Handover Select
  --ble-mode MODE    central-client (default; the wallet is GATT client, as Apple
                     Wallet) or peripheral-server (the wallet advertises and serves)
  --engagement E     nfc (default: through vpcd) or qr: no NFC; each tap writes a
                     fresh mdoc: code to --qr-out and waits for the reader over BLE
  --qr-out FILE      where --engagement qr writes the QR code's text (one line)

Exit status: 0 done (or interrupted), 1 failure, 2 usage.
`

// simFlags are the parsed options of `idreader sim`.
type simFlags struct {
	addr, pkiDir, credDir, docType string
	handover, auth, curve, fault   string
	hostile                        string
	readerTrust                    string
	ble                            bool
	bleAdapter, bleMode            string // simble.go
	engagement, qrOut              string
	radio                          *bluez.Adapter // --ble-adapter with NFC engagement
	stall, tapTimeout, linger, gap time.Duration
	taps                           int
}

// runSim implements `idreader sim`.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sim", simUsage, stdout, stderr)
	var f simFlags
	fs.StringVar(&f.addr, "vpcd", vpcd.DefaultAddr, "")
	fs.StringVar(&f.pkiDir, "pki", "", "")
	fs.StringVar(&f.credDir, "credential", "", "")
	fs.StringVar(&f.docType, "doctype", "mdl", "")
	fs.StringVar(&f.handover, "handover", string(wallet.HandoverStatic), "")
	fs.StringVar(&f.auth, "auth", string(wallet.AuthSignature), "")
	fs.StringVar(&f.curve, "curve", "p256", "")
	fs.StringVar(&f.fault, "fault", "", "")
	fs.StringVar(&f.hostile, "hostile", "", "")
	fs.StringVar(&f.readerTrust, "reader-trust", "", "")
	fs.BoolVar(&f.ble, "ble", false, "")
	fs.StringVar(&f.bleAdapter, "ble-adapter", "", "")
	fs.StringVar(&f.bleMode, "ble-mode", "central-client", "")
	fs.StringVar(&f.engagement, "engagement", simEngagementNFC, "")
	fs.StringVar(&f.qrOut, "qr-out", "", "")
	fs.DurationVar(&f.stall, "stall", 30*time.Second, "")
	fs.DurationVar(&f.tapTimeout, "tap-timeout", 30*time.Second, "")
	fs.DurationVar(&f.linger, "linger", 2*time.Second, "")
	fs.DurationVar(&f.gap, "gap", time.Second, "")
	fs.IntVar(&f.taps, "taps", 0, "")
	usageErr := fs.usageErr
	if code, ok := fs.parseOnly(args); !ok {
		return code
	}
	if (f.pkiDir == "") == (f.credDir == "") {
		return usageErr("exactly one of --pki and --credential is required")
	}
	if f.taps < 0 || f.tapTimeout <= 0 || f.linger < 0 || f.gap < 0 || f.stall < 0 {
		return usageErr("--taps, --tap-timeout, --linger, --gap and --stall must not be negative")
	}
	cfg := wallet.Config{OfferBLE: f.ble}
	var err error
	if cfg.Handover, err = wallet.ParseHandoverMode(f.handover); err != nil {
		return usageErr("--handover: %v", err)
	}
	if cfg.Auth, err = wallet.ParseDeviceAuth(f.auth); err != nil {
		return usageErr("--auth: %v", err)
	}
	if cfg.Curve, err = wallet.ParseCurve(f.curve); err != nil {
		return usageErr("--curve: %v", err)
	}
	if cfg.Faults, err = parseFault(f.fault, f.stall); err != nil {
		return usageErr("--fault: %v", err)
	}
	if err := checkSimBLEFlags(&f, &cfg); err != nil {
		return usageErr("%v", err)
	}
	if cfg.Faults.Hostile, err = wallet.ParseHostile(f.hostile); err != nil {
		return usageErr("--hostile: %v", err)
	}
	if f.readerTrust != "" {
		store, err := verify.LoadTrustStore(f.readerTrust)
		if err != nil {
			fmt.Fprintf(stderr, "idreader sim: reading --reader-trust: %v\n", err)
			return exitUsage
		}
		cfg.ReaderTrust = store.Certificates()
	}
	var cred *credential.Credential
	if f.pkiDir != "" {
		if f.docType != "mdl" && f.docType != "mnc" {
			return usageErr("--doctype %q: want mdl or mnc", f.docType)
		}
		cred, err = issueSample(f.pkiDir, f.docType, time.Now(), stderr)
	} else {
		cred, err = credential.Load(f.credDir)
		if err == nil && cred.DeviceKey == nil {
			err = fmt.Errorf("%s has no %s: %w", f.credDir, credential.FileDeviceKey, credential.ErrNoDeviceKey)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "idreader sim: %v\n", err)
		return exitUsage
	}
	cfg.Credentials = []*credential.Credential{cred}
	if f.bleAdapter == "" {
		return simulate(ctx, f, cfg, stdout, stderr)
	}
	radio, err := openSimRadio(ctx, f.bleAdapter)
	if err != nil {
		fmt.Fprintf(stderr, "idreader sim: %v\n", err)
		return exitUsage
	}
	defer radio.Close()
	if f.engagement == simEngagementQR {
		return simulateQR(ctx, f, cfg, radio, stdout, stderr)
	}
	f.radio = radio
	return simulate(ctx, f, cfg, stdout, stderr)
}

// parseFault maps a --fault name to wallet.Faults.
func parseFault(name string, stall time.Duration) (wallet.Faults, error) {
	switch name {
	case "":
		return wallet.Faults{}, nil
	case "tamper":
		return wallet.Faults{Tamper: true}, nil
	case "other-transcript":
		return wallet.Faults{SignOtherTranscript: true}, nil
	case "wrong-key":
		return wallet.Faults{WrongDeviceKey: true}, nil
	case "stall":
		return wallet.Faults{Stall: stall}, nil
	case "vanish":
		return wallet.Faults{Vanish: true}, nil
	case "garbage":
		return wallet.Faults{Garbage: wallet.GarbageNotCBOR}, nil
	case "undecryptable":
		return wallet.Faults{Garbage: wallet.GarbageUndecryptable}, nil
	case "withhold":
		return wallet.Faults{WithholdAll: true}, nil
	case "overdisclose":
		return wallet.Faults{DiscloseAll: true}, nil
	}
	return wallet.Faults{}, fmt.Errorf("unknown fault %q (tamper, other-transcript, wrong-key, stall, vanish, garbage, undecryptable, withhold, overdisclose)", name)
}

// issueSample issues the sample mDL or My Number Card with the PKI in dir
// and a fresh P-256 device key.
func issueSample(dir, kind string, now time.Time, stderr io.Writer) (*credential.Credential, error) {
	p, err := pki.Load(dir)
	if err != nil {
		return nil, err
	}
	country := pki.DefaultCountry
	if len(p.DS.Subject.Country) > 0 {
		country = p.DS.Subject.Country[0]
	}
	docType, sample := mdoc.DocTypeMDL, credential.MDL
	if kind == "mnc" {
		docType, sample = mdoc.DocTypeMyNumberCard, credential.MyNumberCard
		if country != "JP" {
			fmt.Fprintf(stderr, "idreader sim: warning: the My Number Card says issuing_country JP but the PKI in %s is %s; readers will reject it (make one with idreader pki --country JP)\n", dir, country)
		}
	}
	els, err := sample(credential.SampleOptions{Now: now, Country: country})
	if err != nil {
		return nil, err
	}
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return credential.Issue(credential.IssueOptions{DocType: docType, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Minute)})
}

// simulate serves taps through vpcd until f.taps are done or ctx ends.
func simulate(ctx context.Context, f simFlags, cfg wallet.Config, stdout, stderr io.Writer) int {
	var (
		mu     sync.Mutex
		leave  context.CancelFunc
		linger *time.Timer
	)
	endTap := func() {
		mu.Lock()
		defer mu.Unlock()
		if leave != nil {
			leave()
		}
	}
	cfg.OnDone = func(wallet.Report) { endTap() }
	cfg.OnResponse = func(wallet.Report) {
		mu.Lock()
		defer mu.Unlock()
		if linger != nil {
			linger.Stop()
		}
		linger = time.AfterFunc(f.linger, endTap)
	}
	w, err := wallet.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "idreader sim: %v\n", err)
		return exitUsage
	}
	stopClose := context.AfterFunc(ctx, func() { w.Close() })
	defer stopClose()
	if f.radio != nil {
		bctx, stopBLE := context.WithCancel(ctx)
		defer stopBLE()
		go serveBLELoop(bctx, w, f.radio, stderr)
	}

	fmt.Fprintf(stdout, "sim: %s wallet (%s handover, %s) on vpcd %s\n", cfg.Credentials[0].DocType, cfg.Handover, cfg.Auth, f.addr)
	for n := 1; f.taps == 0 || n <= f.taps; n++ {
		tapCtx, cancel := context.WithTimeout(ctx, f.tapTimeout)
		mu.Lock()
		leave = cancel
		mu.Unlock()
		err := vpcd.Tap(tapCtx, f.addr, w)
		timedOut := errors.Is(tapCtx.Err(), context.DeadlineExceeded)
		cancel()
		mu.Lock()
		leave = nil
		if linger != nil {
			linger.Stop()
			linger = nil
		}
		mu.Unlock()
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "sim: interrupted")
			return exitOK
		}
		switch {
		case errors.Is(err, vpcd.ErrDisconnected):
			fmt.Fprintf(stdout, "tap %d: vpcd closed the connection\n", n)
		case err != nil && !timedOut:
			fmt.Fprintf(stderr, "idreader sim: tap %d: %v\n", n, err)
			return exitReject
		default:
			printTap(stdout, n, w.Report(), timedOut)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "sim: interrupted")
			return exitOK
		case <-time.After(f.gap):
		}
	}
	return exitOK
}

// printTap writes one line per tap.
func printTap(w io.Writer, n int, r wallet.Report, timedOut bool) {
	var parts []string
	for _, q := range r.Requests {
		k := 0
		for _, ids := range q.NameSpaces {
			k += len(ids)
		}
		parts = append(parts, fmt.Sprintf("%s (%d elements)", q.DocType, k))
	}
	req := "no request"
	if len(parts) > 0 {
		req = "requested " + strings.Join(parts, ", ")
	}
	var state []string
	if r.Responses > 0 {
		state = append(state, fmt.Sprintf("%d response(s)", r.Responses))
	}
	if r.NotReadyReads > 0 {
		state = append(state, fmt.Sprintf("NLEN 0 read %d times", r.NotReadyReads))
	}
	for _, a := range r.ReaderAuth {
		switch {
		case a.Err == nil:
			state = append(state, "reader authenticated")
		case a.Refused:
			state = append(state, "reader refused: "+a.Err.Error())
		default:
			state = append(state, "reader auth failed: "+a.Err.Error())
		}
	}
	if len(r.Received) > 0 {
		st := make([]string, len(r.Received))
		for i, s := range r.Received {
			st[i] = strconv.FormatUint(uint64(s), 10)
		}
		state = append(state, "received status "+strings.Join(st, ", "))
	}
	switch {
	case r.Terminated:
		state = append(state, "terminated by reader")
	case r.Vanished:
		state = append(state, "left the field (vanish)")
	case r.HasStatus:
		state = append(state, fmt.Sprintf("sent status %v", r.Status))
	case timedOut:
		state = append(state, "timed out")
	default:
		state = append(state, "left after the response")
	}
	if r.Err != nil && !r.HasStatus {
		state = append(state, "error: "+r.Err.Error())
	}
	fmt.Fprintf(w, "tap %d: %s; %s\n", n, req, strings.Join(state, "; "))
}
