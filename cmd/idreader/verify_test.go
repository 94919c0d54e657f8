package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const annexd = "../../testdata/annexd/"

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// annexDArgs verifies the ISO/IEC 18013-5 Annex D DeviceResponse (D.4.1.2)
// with its IACA, transcript (D.5.1) and EReaderKey.
func annexDArgs(extra ...string) []string {
	return append([]string{"verify", "--trust", annexd + "iaca_cert.hex",
		"--transcript", annexd + "session_transcript_bytes.hex",
		"--reader-key", annexd + "e_reader_key.pem",
		"--now", "2021-01-01T00:00:00Z"}, extra...)
}

type report struct {
	Verdict   string `json:"verdict"`
	Documents []struct {
		DocType string `json:"docType"`
		Issuer  struct {
			Subject, Country string
		} `json:"issuer"`
		DeviceAuth   string                                `json:"deviceAuth"`
		Elements     map[string]map[string]json.RawMessage `json:"elements"`
		DeviceSigned map[string]map[string]json.RawMessage `json:"deviceSigned"`
		Checks       []struct {
			Check  string `json:"check"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
		NotReturned []struct {
			Namespace string `json:"namespace"`
			Element   string `json:"element"`
			ErrorCode int64  `json:"errorCode"`
		} `json:"notReturned"`
		Unrequested int `json:"unrequested"`
	} `json:"documents"`
	Errors []struct {
		Code, Detail string
	} `json:"errors"`
	DocumentErrors []struct {
		DocType   string `json:"docType"`
		ErrorCode int64  `json:"errorCode"`
	} `json:"documentErrors"`
	// Timing is in the reports of taps (read, selftest), not of verify.
	Timing map[string]float64 `json:"timing"`
}

func decodeReport(t *testing.T, s string) report {
	t.Helper()
	var r report
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	if dec.More() {
		t.Fatal("more than one JSON value")
	}
	return r
}

func TestVerifyCommandAnnexD(t *testing.T) {
	code, out, errs := runCmd(t, annexDArgs("--json", annexd+"device_response.hex")...)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	r := decodeReport(t, out)
	if r.Verdict != "accept" || len(r.Documents) != 1 || r.Errors == nil || len(r.Errors) != 0 {
		t.Fatalf("%+v", r)
	}
	d := r.Documents[0]
	if d.DocType != "org.iso.18013.5.1.mDL" || d.Issuer.Country != "US" || d.Issuer.Subject != "CN=utopia ds,C=US" || d.DeviceAuth != "mac" {
		t.Errorf("%+v", d)
	}
	els := d.Elements["org.iso.18013.5.1"]
	want := map[string]string{
		"family_name":     `"Doe"`,
		"issue_date":      `"2019-10-20"`,
		"expiry_date":     `"2024-10-20"`,
		"document_number": `"123456789"`,
		"driving_privileges": `[{"expiry_date":"2024-10-20","issue_date":"2018-08-09","vehicle_category_code":"A"},` +
			`{"expiry_date":"2024-10-20","issue_date":"2017-02-23","vehicle_category_code":"B"}]`,
	}
	for k, v := range want {
		var compact bytes.Buffer
		_ = json.Compact(&compact, els[k])
		if compact.String() != v {
			t.Errorf("%s = %s, want %s", k, compact.String(), v)
		}
	}
	portrait, _ := os.ReadFile(annexd + "portrait.hex")
	pb, _ := hex.DecodeString(strings.TrimSpace(string(portrait)))
	var got []byte
	if err := json.Unmarshal(els["portrait"], &got); err != nil || !bytes.Equal(got, pb) {
		t.Errorf("portrait: %v", err)
	}
	if len(d.Checks) != 13 {
		t.Errorf("%d checks", len(d.Checks))
	}
	// The summary form.
	code, out, _ = runCmd(t, annexDArgs(annexd+"device_response.hex")...)
	if code != 0 || !strings.Contains(out, "verdict: accept") || !strings.Contains(out, "portrait: <1042 bytes>") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestVerifyCommandBinaryInputsAndFlagOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"device_response", "session_transcript", "iaca_cert"} {
		h, _ := os.ReadFile(annexd + n + ".hex")
		b, _ := hex.DecodeString(strings.TrimSpace(string(h)))
		if err := os.WriteFile(filepath.Join(dir, n+".bin"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(filepath.Join(dir, "iaca_cert.bin"), filepath.Join(dir, "iaca.der")); err != nil {
		t.Fatal(err)
	}
	jwk := `{"kty":"EC","crv":"P-256","d":"3jtLnl9y3ZtYQGrjCRQ02kim-f0BDYj8sJWOLOvslHw"}`
	if err := os.WriteFile(filepath.Join(dir, "reader.jwk"), []byte(jwk), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "verify", filepath.Join(dir, "device_response.bin"), "--json",
		"--trust", dir, "--transcript", filepath.Join(dir, "session_transcript.bin"),
		"--reader-key", filepath.Join(dir, "reader.jwk"), "--now", "2021-06-01T12:00:00+02:00")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
}

func TestVerifyCommandReject(t *testing.T) {
	dir := t.TempDir()
	h, _ := os.ReadFile(annexd + "device_response.hex")
	// "Doe" (63 446f65) → "Dou".
	bad := strings.Replace(string(h), "63446f65", "63446f75", 1)
	p := filepath.Join(dir, "bad.hex")
	os.WriteFile(p, []byte(bad), 0o600)
	code, out, _ := runCmd(t, annexDArgs("--json", p)...)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	r := decodeReport(t, out)
	if r.Verdict != "reject" || len(r.Errors) == 0 || r.Errors[0].Code != "value_digest" {
		t.Errorf("%+v", r.Errors)
	}
	if _, ok := r.Documents[0].Elements["org.iso.18013.5.1"]["family_name"]; ok {
		t.Error("tampered element shown")
	}
	// No transcript: device authentication not proven.
	code, out, _ = runCmd(t, "verify", "--json", "--trust", annexd+"iaca_cert.hex", "--now", "2021-01-01T00:00:00Z", annexd+"device_response.hex")
	if r := decodeReport(t, out); code != 1 || r.Errors[0].Code != "device_auth" {
		t.Errorf("exit %d %+v", code, r.Errors)
	}
	// Garbage response.
	g := filepath.Join(dir, "garbage.bin")
	os.WriteFile(g, []byte("\xff\xfe garbage"), 0o600)
	code, out, _ = runCmd(t, annexDArgs("--json", g)...)
	if r := decodeReport(t, out); code != 1 || r.Errors[0].Code != "malformed" || r.Documents == nil {
		t.Errorf("exit %d %+v", code, r)
	}
	// Wrong time: MSO and DS expired.
	code, out, _ = runCmd(t, "verify", "--json", "--trust", annexd+"iaca_cert.hex", "--transcript", annexd+"session_transcript_bytes.hex",
		"--reader-key", annexd+"e_reader_key.pem", "--now", "2025-01-01T00:00:00Z", annexd+"device_response.hex")
	if code != 1 || !strings.Contains(out, "mso_validity") || !strings.Contains(out, "certificate_validity") {
		t.Errorf("exit %d %s", code, out)
	}
}

func TestVerifyCommandUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no file":          {"verify", "--trust", annexd + "iaca_cert.hex"},
		"two files":        {"verify", "--trust", annexd + "iaca_cert.hex", "a", "b"},
		"no trust":         {"verify", annexd + "device_response.hex"},
		"bad now":          annexDArgs("--now", "yesterday", annexd+"device_response.hex"),
		"missing response": annexDArgs("/nonexistent/response"),
		"missing trust":    {"verify", "--trust", "/nonexistent", annexd + "device_response.hex"},
		"bad trust":        {"verify", "--trust", annexd + "device_response.hex", annexd + "device_response.hex"},
		"bad reader key":   annexDArgs("--reader-key", annexd+"iaca_cert.hex", annexd+"device_response.hex"),
		"unknown flag":     {"verify", "--frobnicate", annexd + "device_response.hex"},
		"unknown command":  {"frobnicate"},
		"nothing":          {},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
}

// TestVerifyCommandEscapesPhoneText: a docType holding ESC[2J and a green
// "accept" is printed escaped, never as a control sequence, in the text
// output (and in the JSON it stays a proper string).
func TestVerifyCommandEscapesPhoneText(t *testing.T) {
	dir := t.TempDir()
	h, _ := os.ReadFile(annexd + "device_response.hex")
	evil := "\x1b[2J\x1b[32mOK accept!!!" // 21 bytes, as long as the mDL doc type
	if len(evil) != len("org.iso.18013.5.1.mDL") {
		t.Fatal("payload length")
	}
	bad := strings.Replace(strings.TrimSpace(string(h)), hex.EncodeToString([]byte("org.iso.18013.5.1.mDL")), hex.EncodeToString([]byte(evil)), 1)
	p := filepath.Join(dir, "evil.hex")
	os.WriteFile(p, []byte(bad), 0o600)
	code, out, errs := runCmd(t, annexDArgs(p)...)
	if code != 1 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if strings.ContainsAny(out+errs, "\x1b\u009b") {
		t.Errorf("control characters printed:\n%q", out)
	}
	if !strings.Contains(out, `document: \x1b[2J\x1b[32mOK accept!!!`) {
		t.Errorf("doc type not shown escaped:\n%s", out)
	}
	if !strings.HasPrefix(out, "verdict: reject\n") {
		t.Errorf("verdict line:\n%s", out)
	}
}
