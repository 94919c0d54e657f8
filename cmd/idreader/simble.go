package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/bluez"
	"github.com/idreader/idreader/holder/wallet"
)

// Engagements of `idreader sim --engagement`.
const (
	simEngagementNFC = "nfc"
	simEngagementQR  = "qr"
)

// parseSimBLEMode maps --ble-mode onto ble.Mode.
func parseSimBLEMode(s string) (ble.Mode, error) {
	switch s {
	case "", "central-client":
		return ble.ModeCentralClient, nil
	case "peripheral-server":
		return ble.ModePeripheralServer, nil
	}
	return 0, fmt.Errorf("unknown BLE mode %q (central-client, peripheral-server)", s)
}

// checkSimBLEFlags validates the BLE and engagement flags of `idreader sim`
// and fills in cfg's BLE settings.
func checkSimBLEFlags(f *simFlags, cfg *wallet.Config) error {
	mode, err := parseSimBLEMode(f.bleMode)
	if err != nil {
		return fmt.Errorf("--ble-mode: %w", err)
	}
	cfg.BLEMode = mode
	switch f.engagement {
	case simEngagementNFC:
		if f.qrOut != "" {
			return errors.New("--qr-out needs --engagement qr")
		}
	case simEngagementQR:
		if f.bleAdapter == "" {
			return errors.New("--engagement qr needs --ble-adapter: after a QR engagement the data goes over BLE")
		}
		if f.qrOut == "" {
			return errors.New("--engagement qr needs --qr-out FILE (where the QR code's text is written)")
		}
		if f.handover != string(wallet.HandoverStatic) || f.ble {
			return errors.New("--handover and --ble are NFC engagement options")
		}
	default:
		return fmt.Errorf("--engagement %q: want nfc or qr", f.engagement)
	}
	if f.bleAdapter != "" && f.engagement == simEngagementNFC {
		cfg.OfferBLE = true // the radio is there: offer it in the Handover Select
	}
	return nil
}

// openSimRadio opens the BlueZ adapter of --ble-adapter.
func openSimRadio(ctx context.Context, name string) (*bluez.Adapter, error) {
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a, err := bluez.Open(octx, bluez.Options{Adapter: name})
	if err != nil {
		return nil, fmt.Errorf("opening bluetooth adapter: %w", err)
	}
	return a, nil
}

// serveBLELoop runs the wallet's BLE side over the adapter for every
// engagement that selects BLE, until ctx ends.
func serveBLELoop(ctx context.Context, w *wallet.Wallet, a *bluez.Adapter, stderr io.Writer) {
	for ctx.Err() == nil {
		if err := w.ServeBLE(ctx, a.Central(), a.Peripheral()); err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "idreader sim: BLE: %v\n", err)
		}
	}
}

// writeQR writes the QR code's text (one line) to path atomically, so a
// reader polling for the file never sees half of it.
func writeQR(path, text string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".qr-*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(text + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// simulateQR serves taps engaged by QR code: for each tap the wallet shows
// a fresh mdoc: code (written to f.qrOut) and serves the data retrieval over
// the BlueZ adapter, in f.bleMode, until f.taps are done or ctx ends.
func simulateQR(ctx context.Context, f simFlags, cfg wallet.Config, a *bluez.Adapter, stdout, stderr io.Writer) int {
	w, err := wallet.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "idreader sim: %v\n", err)
		return exitUsage
	}
	defer w.Close()
	fmt.Fprintf(stdout, "sim: %s wallet (QR engagement, %s, %s) on %s %s\n",
		cfg.Credentials[0].DocType, cfg.Auth, cfg.BLEMode, a.Name(), a.Address())
	for n := 1; f.taps == 0 || n <= f.taps; n++ {
		text, err := w.ShowQR()
		if err != nil {
			fmt.Fprintf(stderr, "idreader sim: tap %d: %v\n", n, err)
			return exitReject
		}
		if err := writeQR(f.qrOut, text); err != nil {
			fmt.Fprintf(stderr, "idreader sim: writing --qr-out: %v\n", err)
			return exitUsage
		}
		tapCtx, cancel := context.WithTimeout(ctx, f.tapTimeout)
		start := time.Now()
		err = w.ServeBLE(tapCtx, a.Central(), a.Peripheral())
		timedOut := errors.Is(tapCtx.Err(), context.DeadlineExceeded)
		cancel()
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "sim: interrupted")
			return exitOK
		}
		r := w.Report()
		printTap(stdout, n, r, timedOut)
		if r.Transport != "" {
			fmt.Fprintf(stdout, "tap %d: BLE %s, MTU %d, %d ms from QR shown to session end\n",
				n, r.Transport, r.MTU, time.Since(start).Milliseconds())
		}
		if err != nil && !timedOut {
			fmt.Fprintf(stderr, "idreader sim: tap %d: %v\n", n, err)
			if f.taps != 0 && n == f.taps {
				return exitReject
			}
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
