package main

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/ble/bluez"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
)

// startDaemon runs the daemon on the configuration text until the test
// ends; it returns the app, the directory and the log.
func startDaemon(t *testing.T, text string) (*app, string, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "idreaderd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	o, err := parseFlags([]string{"--config", path}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(o, stdout, stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, make(chan os.Signal)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(stopTimeout + time.Second):
			t.Error("no stop")
		}
	})
	return a, dir, stderr
}

// TestDaemonSimulatedBLE: a simulated reader with the simulated radio; its
// wallets select BLE only, one in each role, and the audit shows the
// transport of each tap.
func TestDaemonSimulatedBLE(t *testing.T) {
	_, dir, stderr := startDaemon(t, `readers:
  - name: sim
    driver: simulated
    interval: 20ms
    profile: age-21
    ble: {adapter: simulated}
    timeouts: {hold: 1ms}
http: {listen: "off"}
logging: {audit: audit.jsonl}
demo: true
`)
	audit := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
		return string(b)
	}
	waitFor(t, "a tap in each BLE role", func() bool {
		a := audit()
		return strings.Contains(a, `"transport":"ble-central"`) && strings.Contains(a, `"transport":"ble-peripheral"`)
	})
	for line := range strings.Lines(audit()) {
		switch {
		case strings.Contains(line, `"transport":"ble-central"`):
			if !strings.Contains(line, `"decision":"accept"`) {
				t.Errorf("central client mode tap: %s", line)
			}
		case strings.Contains(line, `"transport":"ble-peripheral"`):
			if !strings.Contains(line, `"reasons":["age_not_met"]`) {
				t.Errorf("peripheral server mode tap: %s", line)
			}
		default:
			t.Errorf("tap not over BLE: %s\nlog:\n%s", line, stderr.String())
		}
	}
	portrait, err := credential.Portrait()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(portrait)
	for _, secret := range []string{"Robin", "Sample", "TEST0000001", "1990-04-15", b64[:40], b64[len(b64)/2 : len(b64)/2+40]} {
		if strings.Contains(stderr.String(), secret) || strings.Contains(audit(), secret) {
			t.Errorf("log or audit carries %q", secret)
		}
	}
}

// TestDaemonRadioMissing: with no D-Bus the daemon starts, says why BLE is
// off, and its qr reader is down with the reason in its status.
func TestDaemonRadioMissing(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	a, _, stderr := startDaemon(t, `readers:
  - name: sim
    driver: simulated
    interval: 1h
    profile: age-21
  - name: kiosk
    driver: qr
    device: `+filepath.Join(os.TempDir(), "idreaderd-no-scanner")+`
    profile: age-21
ble: {adapter: hci0}
http: {listen: "off"}
demo: true
`)
	waitFor(t, "the radio error in the log", func() bool { return strings.Contains(stderr.String(), "bluetooth LE unavailable") })
	waitFor(t, "the qr reader down", func() bool {
		for _, st := range a.d.Readers() {
			if st.Name == "kiosk" && !st.Up && st.State == daemon.EventReaderDown && strings.Contains(st.BLE, "opening bluetooth adapter hci0") {
				return true
			}
		}
		return false
	})
	for _, st := range a.d.Readers() {
		if st.Name == "sim" && (!st.Up || st.BLE != "") {
			t.Errorf("the NFC reader without BLE: %+v", st)
		}
	}
}

// TestRadioRetry: a failed adapter is tried again only after radioRetry.
func TestRadioRetry(t *testing.T) {
	now := time.Unix(1000, 0)
	opens := 0
	r := &radio{adapter: "hci0", now: func() time.Time { return now }, open: func(context.Context, string) (*bluez.Adapter, error) {
		opens++
		return nil, bluez.ErrNoBus
	}}
	for range 3 {
		if _, err := r.get(context.Background(), 0); !errors.Is(err, bluez.ErrNoBus) || !strings.Contains(err.Error(), "hci0") {
			t.Fatalf("err %v", err)
		}
	}
	if opens != 1 {
		t.Errorf("%d opens within the retry interval", opens)
	}
	now = now.Add(radioRetry)
	r.get(context.Background(), 0)
	if opens != 2 {
		t.Errorf("%d opens after the retry interval", opens)
	}
	if err := r.close(); err != nil {
		t.Error(err)
	}
}
