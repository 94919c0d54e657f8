package main

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// recordInProcess records one tap with the simulated wallet into a new
// directory, as `read --record` does with a PC/SC target.
func recordInProcess(t *testing.T, mode wallet.HandoverMode, auth wallet.DeviceAuth, curve ecdh.Curve) (string, *terminal.Outcome) {
	t.Helper()
	now := time.Now()
	p, err := pki.New(pki.Options{Now: now, Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	els, err := credential.MDL(credential.SampleOptions{Now: now, Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	// A deviceMac needs the device key on the curve of the session keys.
	ec := map[ecdh.Curve]elliptic.Curve{ecdh.P384(): elliptic.P384(), ecdh.P521(): elliptic.P521()}[curve]
	if ec == nil {
		ec = elliptic.P256()
	}
	dk, err := ecdsa.GenerateKey(ec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mdl, err := credential.Issue(credential.IssueOptions{DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{mdl}, Handover: mode, Auth: auth, Curve: curve})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	prof := terminal.DefaultRequestProfile()
	cfg := terminal.Config{
		Trust: verify.NewTrustStore(p.IACA), Request: prof, Limits: nfc.Limits{ExtendedAPDU: true}, Record: true,
		ReaderAuth: &terminal.ReaderIdentity{Key: p.ReaderKey, Chain: []*x509.Certificate{p.Reader}},
		Sleep:      func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
	out, rec, err := recordTap(context.Background(), w.Transceiver(), cfg)
	if err != nil || !out.Result.Accepted() {
		t.Fatalf("tap: %v %+v", err, out.Result.Failures)
	}
	dir := filepath.Join(t.TempDir(), "tap")
	if err := writeRecording(dir, rec); err != nil {
		t.Fatal(err)
	}
	return dir, out
}

// A recorded tap replays offline to the verdict and elements of the tap,
// for each curve and device authentication; its files are private.
func TestRecordThenReplay(t *testing.T) {
	for _, tc := range []struct {
		mode  wallet.HandoverMode
		auth  wallet.DeviceAuth
		curve ecdh.Curve
	}{
		{wallet.HandoverNegotiated, wallet.AuthSignature, ecdh.P256()},
		{wallet.HandoverStatic, wallet.AuthMAC, ecdh.P384()},
		{wallet.HandoverApple, wallet.AuthMAC, ecdh.P521()},
		{wallet.HandoverNegotiated, wallet.AuthSignature, ecdh.X25519()},
	} {
		t.Run(string(tc.mode)+"/"+string(tc.auth)+"/"+tc.curve.(interface{ String() string }).String(), func(t *testing.T) {
			dir, out := recordInProcess(t, tc.mode, tc.auth, tc.curve)
			for _, name := range []string{recDeviceResponse, recSessionTranscript, recDeviceRequest, recReaderKey, recIACA, recTranscript, recMeta} {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v", name, fi.Mode().Perm())
				}
			}
			st, err := os.ReadFile(filepath.Join(dir, recSessionTranscript))
			if err != nil || st[0] != 0xd8 || st[1] != 0x18 {
				t.Errorf("session transcript is not tag-24 wrapped: %x", st[:2])
			}
			code, stdout, stderr := runCmd(t, "replay", "--json", dir)
			if code != exitOK {
				t.Fatalf("replay exit %d: %s", code, stderr)
			}
			want, err := json.Marshal(out.Result.Report())
			if err != nil {
				t.Fatal(err)
			}
			var got verify.Report
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			var wantRep verify.Report
			json.Unmarshal(want, &wantRep)
			wantJSON, _ := json.Marshal(wantRep)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("replay report differs from the tap's:\n%s\n%s", gotJSON, wantJSON)
			}
			if !strings.Contains(stderr, "same verdict and elements") {
				t.Errorf("stderr %q", stderr)
			}
			// The same verdict from `idreader verify` on the files.
			code, vout, _ := runCmd(t, "verify", "--json", "--trust", filepath.Join(dir, recIACA),
				"--transcript", filepath.Join(dir, recSessionTranscript), "--reader-key", filepath.Join(dir, recReaderKey),
				filepath.Join(dir, recDeviceResponse))
			if code != exitOK || vout != stdout {
				t.Errorf("verify on the recording: exit %d, report differs: %v", code, vout != stdout)
			}
		})
	}
}

// A recording whose transcript or response was altered does not replay.
func TestReplayRejectsAlteredRecordings(t *testing.T) {
	dir, _ := recordInProcess(t, wallet.HandoverNegotiated, wallet.AuthSignature, ecdh.P256())
	tr := filepath.Join(dir, recTranscript)
	orig, err := os.ReadFile(tr)
	if err != nil {
		t.Fatal(err)
	}
	// Drop the last exchange (the termination).
	lines := strings.Split(strings.TrimSpace(string(orig)), "\n")
	if err := os.WriteFile(tr, []byte(strings.Join(lines[:len(lines)-2], "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "replay", dir); code != exitUsage || !strings.Contains(stderr, "mismatch") {
		t.Errorf("truncated transcript: exit %d, %s", code, stderr)
	}
	if err := os.WriteFile(tr, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	// Another response: the offline verification rejects it, the replayed
	// transcript does not agree.
	resp := filepath.Join(dir, recDeviceResponse)
	b, err := os.ReadFile(resp)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(resp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "replay", dir); code != exitUsage || !strings.Contains(stderr, "another report") {
		t.Errorf("altered response: exit %d, %s", code, stderr)
	}
	os.Remove(filepath.Join(dir, recReaderKey))
	if code, _, _ := runCmd(t, "replay", dir); code != exitUsage {
		t.Errorf("missing key: exit %d", code)
	}
}

func TestReadRecordNeedsConsent(t *testing.T) {
	iaca := "../../testdata/annexd/iaca_cert.hex"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"read", "--trust", iaca, "--record", t.TempDir()}, "--record-personal-data"},
		{[]string{"read", "--trust", iaca, "--record", t.TempDir(), "--record-personal-data", "--ble", "hci0"}, "NFC taps only"},
		{[]string{"replay"}, "exactly one DIR"},
		{[]string{"replay", t.TempDir()}, "reading recording"},
	} {
		code, _, stderr := runCmd(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, stderr)
		}
	}
}
