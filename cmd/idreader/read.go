package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"time"

	"github.com/idreader/idreader/ble/bluez"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/reader/apdulog"
	"github.com/idreader/idreader/reader/pcsc"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

const readUsage = `usage: idreader read --reader NAME --trust PATH [--trust PATH ...] [--reader-cert DIR]
                     [--profile NAME] [--timeout D] [--json]
                     [--ble ADAPTER] [--transports LIST] [--qr DEVICE]
                     [--record DIR --record-personal-data]

Waits for one tap on the named PC/SC reader ("" or "first" for the first
reader present) or on a PN532 named pn532:BUS (pn532:i2c:/dev/i2c-1,
pn532:spi:/dev/spidev0.0, pn532:uart:/dev/ttyAMA0), runs NFC engagement, the
session and the request, verifies the response and prints the same report as
'idreader verify'.

  --reader NAME      PC/SC reader name, or pn532:BUS
  --trust PATH       IACA certificate (PEM, DER, hex) or a directory of them
  --reader-cert DIR  reader authentication: DIR/reader.pem and DIR/reader_key.pem
  --profile NAME     what to request: default, age-20, age-21, identity
  --timeout D        how long to wait for the tap and the exchange (default 30s)
  --json             print one JSON object; "timing" holds phase → milliseconds
  --ble ADAPTER      also offer BLE data retrieval through BlueZ (e.g. hci0)
  --transports LIST  preference order, e.g. ble-central,nfc (default nfc,ble-central,ble-peripheral)
  --qr DEVICE        QR engagement instead of NFC: read the mdoc: code from a line-oriented
                     scanner (a tty, a serial device, or - for stdin); retrieval goes over BLE
  --record DIR       write what a third party needs to verify the tap again offline
                     ('idreader replay DIR'): device_response.cbor, session_transcript.cbor
                     (tag 24), device_request.cbor, reader_ephemeral_priv.jwk, iaca.pem,
                     apdu_transcript.txt and tap.json, each mode 0600. NFC only (no --ble,
                     no --qr). The response is the holder's personal data, so --record is
                     refused without --record-personal-data
  --record-personal-data
                     confirm that the recording, which holds personal data, may be
                     written (a warning goes to stderr)

Exit status: 0 accept, 1 reject, 2 error (no tap, exchange failed, bad usage).
`

// runRead implements `idreader read`.
func runRead(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("read", readUsage, stdout, stderr)
	var trust stringList
	fs.Var(&trust, "trust", "")
	readerName := fs.String("reader", "", "")
	certDir := fs.String("reader-cert", "", "")
	profileName := fs.String("profile", "", "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	asJSON := fs.Bool("json", false, "")
	bleAdapter := fs.String("ble", "", "")
	transports := fs.String("transports", "", "")
	qrDevice := fs.String("qr", "", "")
	recordDir := fs.String("record", "", "")
	recordPersonal := fs.Bool("record-personal-data", false, "")
	usageErr := fs.usageErr
	if code, ok := fs.parseOnly(args); !ok {
		return code
	}
	if len(trust) == 0 {
		return usageErr("at least one --trust is required")
	}
	if *timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	profile, err := daemon.LookupRequestProfile(*profileName)
	if err != nil {
		return usageErr("%v", err)
	}
	store, err := verify.LoadTrustStore(trust...)
	if err != nil {
		fmt.Fprintf(stderr, "idreader read: %v\n", err)
		return exitUsage
	}
	cfg := terminal.Config{Trust: store, Request: profile}
	if *certDir != "" {
		if cfg.ReaderAuth, err = loadReaderIdentity(*certDir); err != nil {
			fmt.Fprintf(stderr, "idreader read: %v\n", err)
			return exitUsage
		}
	}
	if *transports != "" {
		for _, t := range strings.Split(*transports, ",") {
			tr, err := terminal.ParseTransport(strings.TrimSpace(t))
			if err != nil {
				return usageErr("--transports: %v", err)
			}
			cfg.Transports = append(cfg.Transports, tr)
		}
	}
	if *qrDevice != "" && *bleAdapter == "" {
		return usageErr("--qr needs --ble: after a QR engagement the data goes over BLE")
	}
	if *recordDir != "" {
		if !*recordPersonal {
			return usageErr("--record writes the holder's personal data to disk; add --record-personal-data to confirm")
		}
		if *bleAdapter != "" || *qrDevice != "" {
			return usageErr("--record records NFC taps only (no --ble, no --qr)")
		}
		cfg.Record = true
		fmt.Fprintf(stderr, "idreader read: warning: %s will hold the holder's personal data (the disclosed elements, the portrait) and the session's key; keep it safe and delete it when done\n", *recordDir)
	}
	name := *readerName
	if name == "first" {
		name = ""
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *bleAdapter != "" {
		radio, err := bluez.Open(ctx, bluez.Options{Adapter: *bleAdapter})
		if err != nil {
			fmt.Fprintf(stderr, "idreader read: %v\n", err)
			return exitUsage
		}
		defer radio.Close()
		cfg.BLE = terminal.BLEConfig{Peripheral: radio.Peripheral(), Central: radio.Central()}
	}
	var out *terminal.Outcome
	if *qrDevice != "" {
		out, err = readQR(ctx, *qrDevice, cfg)
	} else if bus, ok := strings.CutPrefix(name, pn532Prefix); ok {
		out, err = readPN532(ctx, bus, cfg)
	} else {
		var rec *recording
		out, rec, err = readOnce(ctx, name, cfg)
		if rec != nil {
			if werr := writeRecording(*recordDir, rec); werr != nil {
				fmt.Fprintf(stderr, "idreader read: %v\n", werr)
				return exitUsage
			}
		}
	}
	return reportTap(stdout, stderr, "read", out, err, *asJSON, nil)
}

// readOnce opens the reader, waits for one target and runs one tap. With
// cfg.Record it also returns the recording of the tap (once the tap got as
// far as the target).
func readOnce(ctx context.Context, name string, cfg terminal.Config) (*terminal.Outcome, *recording, error) {
	// One tap by an operator: when pcscd or the reader is missing, say so
	// at once rather than wait for them.
	prov, err := pcsc.New(pcsc.Options{FailFast: true})
	if err != nil {
		return nil, nil, fmt.Errorf("opening PC/SC: %w", err)
	}
	rd, err := prov.Open(ctx, name)
	if err != nil {
		return nil, nil, err // pcsc names the reader and the cause
	}
	defer rd.Close()
	target, err := rd.Wait(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("waiting for a tap: %w", err)
	}
	defer target.Close()
	cfg.Limits = terminal.NFCLimits(target.Limits())
	if !cfg.Record {
		out, err := terminal.Tap(ctx, target, cfg)
		return out, nil, err
	}
	return recordTap(ctx, target, cfg)
}

// recordTap runs one tap through an APDU recorder and collects the
// recording.
func recordTap(ctx context.Context, t apdulog.Transceiver, cfg terminal.Config) (*terminal.Outcome, *recording, error) {
	rec := &recording{meta: recordMeta{
		RecordedAt: time.Now().UTC(),
		Limits:     nfcLimits{Extended: cfg.Limits.ExtendedAPDU, MaxCommandData: cfg.Limits.MaxCommandData, MaxResponseData: cfg.Limits.MaxResponseData},
	}}
	r := apdulog.NewRecorder(t)
	out, err := terminal.Tap(ctx, r, cfg)
	rec.transcript = r.Transcript()
	if out != nil {
		rec.meta.Timing = out.Timing
		if out.Evidence != nil {
			rec.evidence = *out.Evidence
		}
		if out.Result != nil {
			for _, d := range out.Result.Documents {
				if d.Issuer.IACA != nil {
					rec.iaca = d.Issuer.IACA
					break
				}
			}
		}
	}
	return out, rec, err
}

// readQR waits for one mdoc: code from the scanner and runs the exchange
// over BLE.
func readQR(ctx context.Context, device string, cfg terminal.Config) (*terminal.Outcome, error) {
	sc, err := terminal.OpenQRScanner(device)
	if err != nil {
		return nil, fmt.Errorf("opening QR scanner: %w", err)
	}
	defer sc.Close()
	text, err := sc.Next(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for a QR code: %w", err)
	}
	return terminal.TapQR(ctx, text, cfg)
}

// loadReaderIdentity reads the reader certificate and key that `idreader pki`
// writes (DIR/reader.pem, DIR/reader_key.pem).
func loadReaderIdentity(dir string) (*terminal.ReaderIdentity, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, pki.FileReader))
	if err != nil {
		return nil, fmt.Errorf("reading reader certificate: %w", err)
	}
	cert, err := pki.ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("reading reader certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, pki.FileReaderKey))
	if err != nil {
		return nil, fmt.Errorf("reading reader key: %w", err)
	}
	key, err := pki.ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("reading reader key: %w", err)
	}
	return &terminal.ReaderIdentity{Key: key, Chain: []*x509.Certificate{cert}}, nil
}
