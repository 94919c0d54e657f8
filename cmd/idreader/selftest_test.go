package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/idreader/idreader/verify"
)

func runSelftestArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"selftest"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestSelftest runs every transport and engagement in-process and checks
// the exit code and the JSON report.
func TestSelftest(t *testing.T) {
	for _, tc := range [][]string{
		{"--transport", "nfc"},
		{"--transport", "nfc", "--handover", "negotiated", "--doctype", "mnc", "--auth", "mac"},
		{"--transport", "ble-central"},
		{"--transport", "ble-central", "--handover", "apple", "--mtu", "23"},
		{"--transport", "ble-peripheral", "--handover", "negotiated", "--auth", "mac"},
		{"--transport", "ble-central", "--engagement", "qr", "--doctype", "mnc"},
		{"--transport", "ble-peripheral", "--engagement", "qr", "--mtu", "185"},
	} {
		t.Run(strings.Join(tc, " "), func(t *testing.T) {
			code, out, errOut := runSelftestArgs(t, append(tc, "--json")...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			var rep verify.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
			if rep.Verdict != verify.VerdictAccept || len(rep.Documents) != 1 || len(rep.Errors) != 0 {
				t.Fatalf("report %+v", rep)
			}
		})
	}
}

func TestSelftestSummary(t *testing.T) {
	code, out, _ := runSelftestArgs(t, "--transport", "ble-peripheral", "--mtu", "185")
	if code != exitOK || !strings.Contains(out, "retrieval over ble-peripheral (MTU 185)") || !strings.Contains(out, "verdict: accept") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestSelftestReject: a tampered element is a reject (exit 1); a wallet
// sending garbage is an exchange error (exit 2) with a reason code.
func TestSelftestReject(t *testing.T) {
	code, out, _ := runSelftestArgs(t, "--transport", "ble-central", "--fault", "tamper", "--json")
	var rep verify.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitReject || rep.Verdict != verify.VerdictReject {
		t.Fatalf("tamper: exit %d, %v\n%s", code, err, out)
	}
	code, out, _ = runSelftestArgs(t, "--transport", "ble-peripheral", "--fault", "undecryptable", "--json")
	rep = verify.Report{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitUsage || len(rep.Errors) != 1 || rep.Errors[0].Code != "session" {
		t.Fatalf("undecryptable: exit %d, %v\n%s", code, err, out)
	}
}

func TestSelftestUsage(t *testing.T) {
	for _, tc := range [][]string{
		{"--transport", "nfc", "--engagement", "qr"},
		{"--transport", "wifi"},
		{"--engagement", "bluetooth"},
		{"--mtu", "22"},
		{"--doctype", "passport"},
		{"extra"},
	} {
		if code, _, errOut := runSelftestArgs(t, tc...); code != exitUsage || !strings.Contains(errOut, "usage:") {
			t.Errorf("%v: exit %d, stderr %q", tc, code, errOut)
		}
	}
	if code, out, _ := runSelftestArgs(t, "-h"); code != exitOK || !strings.Contains(out, "--transport") {
		t.Errorf("-h: exit %d", code)
	}
}
