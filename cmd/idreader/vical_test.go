package main

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/verify"
	"github.com/idreader/idreader/vical"
	"github.com/idreader/idreader/vical/vicaltest"
)

const aamvaVICAL = "../../testdata/interop/aamva_vical.hex"

// aamvaNow lies between the AAMVA VICAL's date and its nextUpdate.
const aamvaNow = "2025-11-18T20:00:00Z"

func writePEM(t *testing.T, dir, name string, c *x509.Certificate) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// aamvaAnchor writes the root of the AAMVA VICAL's own x5chain as PEM.
func aamvaAnchor(t *testing.T) (string, []byte) {
	t.Helper()
	data, err := readInput(aamvaVICAL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vical.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, t.TempDir(), "aamva-root.pem", v.Chain[len(v.Chain)-1]), data
}

func decodeVICALJSON(t *testing.T, s string) vicalJSON {
	t.Helper()
	var v vicalJSON
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	// The exact member set of the contract.
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil || len(m) != 6 {
		t.Fatalf("members %v", m)
	}
	for _, k := range []string{"provider", "date", "issueID", "nextUpdate", "certificates", "errors"} {
		if _, ok := m[k]; !ok {
			t.Errorf("member %q missing", k)
		}
	}
	return v
}

func TestVicalCommandAAMVA(t *testing.T) {
	anchor, data := aamvaAnchor(t)
	code, out, errOut := runCmd(t, "vical", "--anchor", anchor, "--now", aamvaNow, "--json", aamvaVICAL)
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	v := decodeVICALJSON(t, out)
	if v.Provider != "AAMVA" || *v.Date != "2025-11-18T18:38:12Z" || *v.NextUpdate != "2025-11-19T18:38:12Z" || *v.IssueID != 227602 {
		t.Errorf("%+v", v)
	}
	if len(v.Certificates) != 14 || len(v.Errors) != 0 {
		t.Fatalf("%d certificates, errors %v", len(v.Certificates), v.Errors)
	}
	c := v.Certificates[0]
	if !strings.Contains(c.Subject, "CN=Fast Enterprises Root") || c.Country != "US" ||
		len(c.DocTypes) != 1 || c.DocTypes[0] != mdoc.DocTypeMDL || c.NotBefore != "2024-01-05T05:00:00Z" {
		t.Errorf("first certificate %+v", c)
	}
	// Binary CBOR works as hex text does; the text form lists them all.
	bin := filepath.Join(t.TempDir(), "vical.cbor")
	if err := os.WriteFile(bin, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "vical", "--anchor", anchor, "--now", aamvaNow, bin)
	if code != exitOK || !strings.Contains(out, "VICAL: verified") || !strings.Contains(out, "certificates: 14") || !strings.Contains(out, "14. ") {
		t.Errorf("text: %d %s", code, out)
	}
}

func TestVicalCommandRejects(t *testing.T) {
	anchor, data := aamvaAnchor(t)
	dir := t.TempDir()
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0x01
	flipped := filepath.Join(dir, "flipped.hex")
	if err := os.WriteFile(flipped, []byte(hex.EncodeToString(bad)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, "vical", "--anchor", anchor, "--now", aamvaNow, "--json", flipped)
	if v := decodeVICALJSON(t, out); code != exitReject || len(v.Errors) == 0 || len(v.Certificates) != 14 {
		t.Errorf("flipped byte: exit %d %s", code, out)
	}
	// A day after nextUpdate.
	code, out, _ = runCmd(t, "vical", "--anchor", anchor, "--now", "2025-11-20T20:00:00Z", "--json", aamvaVICAL)
	if v := decodeVICALJSON(t, out); code != exitReject || len(v.Errors) != 1 || v.Errors[0].Code != "vical_stale" {
		t.Errorf("stale: exit %d %s", code, out)
	}
	// Before its date.
	code, out, _ = runCmd(t, "vical", "--anchor", anchor, "--now", "2025-11-18T00:00:00Z", "--json", aamvaVICAL)
	if v := decodeVICALJSON(t, out); code != exitReject || v.Errors[0].Code != "vical_validity" {
		t.Errorf("early: exit %d %s", code, out)
	}
	// Another anchor (the Annex D IACA).
	code, out, _ = runCmd(t, "vical", "--anchor", annexd+"iaca_cert.hex", "--now", aamvaNow, "--json", aamvaVICAL)
	if v := decodeVICALJSON(t, out); code != exitReject || v.Errors[0].Code != "vical_untrusted" {
		t.Errorf("other anchor: exit %d %s", code, out)
	}
	// Garbage decodes to nothing: exit 1, nothing listed.
	garbage := filepath.Join(dir, "garbage.hex")
	if err := os.WriteFile(garbage, []byte("a0"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "vical", "--anchor", anchor, "--json", garbage)
	if v := decodeVICALJSON(t, out); code != exitReject || v.Errors[0].Code != "vical_malformed" || v.Date != nil {
		t.Errorf("garbage: exit %d %s", code, out)
	}
	// Unreadable input and usage errors: 2.
	for _, args := range [][]string{
		{"vical", "--anchor", anchor, filepath.Join(dir, "missing")},
		{"vical", "--anchor", filepath.Join(dir, "missing"), aamvaVICAL},
		{"vical", aamvaVICAL},
		{"vical", "--anchor", anchor},
		{"vical", "--anchor", anchor, "--now", "yesterday", aamvaVICAL},
	} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func seeded(n byte) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = n
	return rand.NewChaCha8(seed)
}

// testVICAL writes a VICAL listing the Annex D IACA for docTypes, signed by
// a fresh VICAL PKI, and its anchor.
func testVICAL(t *testing.T, o vicaltest.Options, provider string, docTypes ...string) (file, anchor string) {
	t.Helper()
	p, err := vicaltest.NewPKI(seeded(1), o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(annexd + "iaca_cert.hex")
	if err != nil {
		t.Fatal(err)
	}
	iaca, err := verify.ParseCertificates(b)
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.Sign(seeded(2), vicaltest.List{Provider: provider,
		Date: time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC), NextUpdate: time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC),
		Entries: []vicaltest.Entry{{Certificate: iaca[0], DocTypes: docTypes, Country: "US"}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file = filepath.Join(dir, "vical.cbor")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file, writePEM(t, dir, "vical-root.pem", p.Root)
}

// TestVicalCommandEscapes: text from the file cannot drive the terminal.
func TestVicalCommandEscapes(t *testing.T) {
	file, anchor := testVICAL(t, vicaltest.Options{}, "Evil\x1b[2J\u202eProvider", mdoc.DocTypeMDL)
	code, out, _ := runCmd(t, "vical", "--anchor", anchor, "--now", "2021-01-01T00:00:00Z", file)
	if code != exitOK || strings.ContainsAny(out, "\x1b\u202e") || !strings.Contains(out, `provider: Evil\x1b[2J\u202eProvider`) {
		t.Errorf("exit %d: %q", code, out)
	}
}

// TestVerifyWithVICAL: `verify --vical` trusts the IACAs of a verified
// VICAL for the doc types it lists, and refuses a VICAL that does not
// verify as an input error.
func TestVerifyWithVICAL(t *testing.T) {
	args := func(extra ...string) []string {
		return append([]string{"verify",
			"--transcript", annexd + "session_transcript_bytes.hex",
			"--reader-key", annexd + "e_reader_key.pem",
			"--now", "2021-01-01T00:00:00Z", "--json"}, extra...)
	}
	file, anchor := testVICAL(t, vicaltest.Options{}, "Test", mdoc.DocTypeMDL)
	code, out, errOut := runCmd(t, args("--vical", file, "--vical-anchor", anchor, annexd+"device_response.hex")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	// Listed for another doc type only: the IACA does not vouch for an mDL.
	file, anchor = testVICAL(t, vicaltest.Options{}, "Test", mdoc.DocTypeMyNumberCard)
	code, out, _ = runCmd(t, args("--vical", file, "--vical-anchor", anchor, annexd+"device_response.hex")...)
	r := decodeReport(t, out)
	if code != exitReject || len(r.Documents) != 1 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var found bool
	for _, c := range r.Documents[0].Checks {
		if c.Check == verify.CheckAnchorDocType {
			found = !c.OK && strings.Contains(c.Detail, "VICAL Test 2020-12-01")
		}
	}
	if !found || r.Errors[0].Code != "issuer_untrusted" {
		t.Errorf("anchor_doctype: %s", out)
	}
	// The same IACA given with --trust too: the VICAL's limits apply.
	code, _, _ = runCmd(t, args("--trust", annexd+"iaca_cert.hex", "--vical", file, "--vical-anchor", anchor, annexd+"device_response.hex")...)
	if code != exitReject {
		t.Errorf("--trust and a VICAL limiting the same IACA: exit %d", code)
	}
	// A VICAL whose signer lacks the EKU: input error naming the file.
	file, anchor = testVICAL(t, vicaltest.Options{NoEKU: true}, "Test", mdoc.DocTypeMDL)
	code, _, errOut = runCmd(t, args("--vical", file, "--vical-anchor", anchor, annexd+"device_response.hex")...)
	if code != exitUsage || !strings.Contains(errOut, file) || !strings.Contains(errOut, "vical_profile") {
		t.Errorf("no EKU: exit %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, args("--vical", file, annexd+"device_response.hex")...); code != exitUsage {
		t.Errorf("--vical without anchor: exit %d", code)
	}
}
