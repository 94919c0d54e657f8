package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/holder/wallet"
)

func TestSimBLEFlags(t *testing.T) {
	ok := []struct {
		f        simFlags
		mode     ble.Mode
		offerBLE bool
	}{
		{simFlags{engagement: "nfc", handover: "static"}, ble.ModeCentralClient, false},
		{simFlags{engagement: "nfc", handover: "static", bleAdapter: "hci1", bleMode: "peripheral-server"}, ble.ModePeripheralServer, true},
		{simFlags{engagement: "qr", handover: "static", bleAdapter: "hci1", qrOut: "qr.txt", bleMode: "central-client"}, ble.ModeCentralClient, false},
	}
	for _, c := range ok {
		var cfg wallet.Config
		if err := checkSimBLEFlags(&c.f, &cfg); err != nil {
			t.Errorf("%+v: %v", c.f, err)
			continue
		}
		if cfg.BLEMode != c.mode || cfg.OfferBLE != c.offerBLE {
			t.Errorf("%+v: mode %v offer %v, want %v %v", c.f, cfg.BLEMode, cfg.OfferBLE, c.mode, c.offerBLE)
		}
	}
	bad := []struct {
		f    simFlags
		want string
	}{
		{simFlags{engagement: "nfc", handover: "static", bleMode: "both"}, "--ble-mode"},
		{simFlags{engagement: "nfc", handover: "static", qrOut: "x"}, "--qr-out needs --engagement qr"},
		{simFlags{engagement: "qr", handover: "static", qrOut: "x"}, "needs --ble-adapter"},
		{simFlags{engagement: "qr", handover: "static", bleAdapter: "hci1"}, "needs --qr-out"},
		{simFlags{engagement: "qr", handover: "apple", bleAdapter: "hci1", qrOut: "x"}, "NFC engagement options"},
		{simFlags{engagement: "qr", handover: "static", ble: true, bleAdapter: "hci1", qrOut: "x"}, "NFC engagement options"},
		{simFlags{engagement: "bluetooth", handover: "static"}, "want nfc or qr"},
	}
	for _, c := range bad {
		var cfg wallet.Config
		if err := checkSimBLEFlags(&c.f, &cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one saying %q", c.f, err, c.want)
		}
	}
}

// TestSimBLEUsage: bad BLE flags are usage errors, and a missing bus is an
// error of the run, both exit 2 without serving anything.
func TestSimBLEUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if code, _, errOut := runCmd(t, "pki", "--out", dir); code != exitOK {
		t.Fatalf("pki: %d %s", code, errOut)
	}
	for _, args := range [][]string{
		{"sim", "--pki", dir, "--engagement", "qr"},
		{"sim", "--pki", dir, "--engagement", "qr", "--ble-adapter", "hci1"},
		{"sim", "--pki", dir, "--ble-adapter", "hci1", "--ble-mode", "sideways"},
	} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	qr := filepath.Join(t.TempDir(), "qr")
	code, _, errOut := runCmd(t, "sim", "--pki", dir, "--engagement", "qr", "--ble-adapter", "hci1", "--qr-out", qr)
	if code != exitUsage || !strings.Contains(errOut, "no system D-Bus") {
		t.Errorf("without a bus: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(qr); !os.IsNotExist(err) {
		t.Errorf("a QR code was written without a radio: %v", err)
	}
}

func TestWriteQR(t *testing.T) {
	p := filepath.Join(t.TempDir(), "qr.txt")
	for _, text := range []string{"mdoc:first", "mdoc:second"} {
		if err := writeQR(p, text); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != text+"\n" {
			t.Fatalf("file %q %v, want %q", b, err, text+"\n")
		}
	}
	if err := writeQR(filepath.Join(t.TempDir(), "missing", "qr.txt"), "mdoc:x"); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}
