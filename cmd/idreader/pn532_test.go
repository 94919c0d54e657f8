package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/idreader/idreader/verify"
)

func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestSelftestPN532 runs the selftest through the PN532 driver and the
// emulated chip on every bus, for both doc types and every handover mode,
// and checks the verify report on stdout and the chip's traffic on stderr.
func TestSelftestPN532(t *testing.T) {
	stats := regexp.MustCompile(`pn532: (i2c|spi|uart) bus, .*, (\d+) frames \(\d+ bytes\) on the bus, (\d+) bytes on the air .*, 424 kbit/s`)
	for _, bus := range []string{"i2c", "spi", "uart"} {
		for _, doc := range []string{"mdl", "mnc"} {
			for _, h := range []string{"static", "negotiated", "apple"} {
				args := []string{"selftest", "--reader", "pn532", "--bus", bus, "--doctype", doc, "--handover", h, "--json"}
				t.Run(fmt.Sprintf("%s/%s/%s", bus, doc, h), func(t *testing.T) {
					code, out, errOut := runArgs(t, args...)
					if code != exitOK {
						t.Fatalf("exit %d\n%s%s", code, out, errOut)
					}
					var rep verify.Report
					if err := json.Unmarshal([]byte(out), &rep); err != nil {
						t.Fatalf("json: %v\n%s", err, out)
					}
					if rep.Verdict != verify.VerdictAccept || len(rep.Documents) != 1 {
						t.Fatalf("report %+v", rep)
					}
					if m := stats.FindStringSubmatch(errOut); m == nil || m[1] != bus || m[2] == "0" || m[3] == "0" {
						t.Fatalf("stderr %q", errOut)
					}
				})
			}
		}
	}
}

// TestSelftestPN532Reject: a tampered credential through the PN532 is a
// reject (exit 1), in the text report.
func TestSelftestPN532Reject(t *testing.T) {
	code, out, _ := runArgs(t, "selftest", "--reader", "pn532", "--bus", "spi", "--fault", "tamper")
	if code != exitReject || !strings.Contains(out, "verdict: reject") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestSelftestPN532Usage(t *testing.T) {
	for _, tc := range [][]string{
		{"--bus", "i2c"},
		{"--reader", "acr122"},
		{"--reader", "pn532", "--bus", "usb"},
		{"--reader", "pn532", "--transport", "ble-central", "--engagement", "qr"},
	} {
		if code, _, errOut := runArgs(t, append([]string{"selftest"}, tc...)...); code != exitUsage || !strings.Contains(errOut, "usage:") {
			t.Errorf("%v: exit %d, stderr %q", tc, code, errOut)
		}
	}
}

// TestReaders probes the emulated chip on each bus; PC/SC may or may not
// be there and does not change the outcome.
func TestReaders(t *testing.T) {
	for _, bus := range []string{"i2c", "spi", "uart"} {
		code, out, errOut := runArgs(t, "readers", "--json", "--pn532", "emulated:"+bus)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", bus, code, out, errOut)
		}
		var rep readersReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.PN532 == nil {
			t.Fatalf("%s: %v\n%s", bus, err, out)
		}
		if p := rep.PN532; p.Error != "" || p.IC != 0x32 || p.Version != "1.6" || len(p.BitRates) != 3 {
			t.Fatalf("%s: %+v", bus, p)
		}
	}
	code, out, _ := runArgs(t, "readers", "--pn532", "emulated:spi")
	if code != exitOK || !strings.Contains(out, "pn532:emulated:spi: PN532 v1.6") {
		t.Fatalf("text: exit %d\n%s", code, out)
	}
	for _, bad := range []string{"i2c:/nonexistent/i2c-9", "usb:/dev/x", "emulated:can"} {
		code, out, _ := runArgs(t, "readers", "--json", "--pn532", bad)
		var rep readersReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitUsage || rep.PN532 == nil || rep.PN532.Error == "" {
			t.Errorf("%s: exit %d %v\n%s", bad, code, err, out)
		}
	}
}

// TestReadPN532: read names a PN532 like a PC/SC reader; an empty field
// runs into the timeout (exit 2), a missing bus fails at once.
func TestReadPN532(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runArgs(t, "pki", "--out", dir); code != exitOK {
		t.Fatalf("pki: %d %s", code, errOut)
	}
	trust := dir + "/iaca.pem"
	code, out, _ := runArgs(t, "read", "--reader", "pn532:emulated:i2c", "--trust", trust, "--timeout", "300ms", "--json")
	var rep verify.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitUsage || len(rep.Errors) != 1 {
		t.Fatalf("empty field: exit %d %v\n%s", code, err, out)
	}
	code, out, _ = runArgs(t, "read", "--reader", "pn532:spi:/nonexistent/spidev9.9", "--trust", trust, "--timeout", "2s")
	if code != exitUsage || !strings.Contains(out, "verdict: reject") {
		t.Fatalf("missing bus: exit %d\n%s", code, out)
	}
	// A bus that is not there: reader_unavailable, in one operator's line.
	code, out, _ = runArgs(t, "read", "--reader", "pn532:i2c:/dev/nonexist", "--trust", trust, "--timeout", "2s", "--json")
	rep = verify.Report{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitUsage || len(rep.Errors) != 1 ||
		rep.Errors[0].Code != "reader_unavailable" ||
		rep.Errors[0].Detail != "no I2C bus /dev/nonexist (enable it: raspi-config → Interface Options → I2C)" {
		t.Fatalf("missing i2c bus: exit %d %v\n%s", code, err, out)
	}
}
