package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestReadUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"read", "--reader", "x"}, "at least one --trust"},
		{[]string{"read", "--trust", "t.pem", "extra"}, "unexpected argument"},
		{[]string{"read", "--trust", "t.pem", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"read", "--trust", "t.pem", "--profile", "nope"}, "unknown profile"},
		{[]string{"read", "--trust", "../../testdata/annexd/iaca_cert.hex", "--transports", "nfc,carrier-pigeon"}, "--transports"},
		{[]string{"read", "--trust", "../../testdata/annexd/iaca_cert.hex", "--qr", "-"}, "--qr needs --ble"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q does not say %q", tc.args, stderr.String(), tc.want)
		}
	}
}

// TestReadBLEWithoutBlueZ: asking for BLE on a machine without a system
// D-Bus (CI, this sandbox) is a clear error, not a hang.
func TestReadBLEWithoutBlueZ(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"read", "--trust", "../../testdata/annexd/iaca_cert.hex",
		"--ble", "hci0", "--timeout", "3s"}, &stdout, &stderr)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, stderr.String())
	}
	if !strings.Contains(stderr.String(), "bluez") {
		t.Errorf("stderr %q does not name bluez", stderr.String())
	}
}
