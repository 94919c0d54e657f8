package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/mdoc"
)

// TestSelftestWithheld: a wallet answering with documentErrors only is a
// reject (exit 1) with not_returned, naming the doc type and error code.
func TestSelftestWithheld(t *testing.T) {
	for _, tr := range []string{"nfc", "ble-central"} {
		code, out, errs := runSelftestArgs(t, "--transport", tr, "--fault", "withhold", "--profile", "age-21", "--json")
		if code != exitReject {
			t.Fatalf("%s: exit %d: %s %s", tr, code, out, errs)
		}
		r := decodeReport(t, out)
		if len(r.Errors) != 1 || r.Errors[0].Code != "not_returned" || !strings.Contains(r.Errors[0].Detail, mdoc.DocTypeMDL+" (error code 0)") {
			t.Errorf("%s: errors %+v", tr, r.Errors)
		}
		if len(r.DocumentErrors) != 1 || r.DocumentErrors[0].DocType != mdoc.DocTypeMDL {
			t.Errorf("%s: documentErrors %+v", tr, r.DocumentErrors)
		}
	}
	code, out, _ := runSelftestArgs(t, "--fault", "withhold")
	if code != exitReject || !strings.Contains(out, "error [not_returned]") {
		t.Errorf("summary: exit %d\n%s", code, out)
	}
}

// TestSelftestOverDisclosure: all elements for an age-21 request; the
// report holds only age_over_21 (and what else age-21 asks for).
func TestSelftestOverDisclosure(t *testing.T) {
	code, out, errs := runSelftestArgs(t, "--fault", "overdisclose", "--profile", "age-21", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	r := decodeReport(t, out)
	d := r.Documents[0]
	els := d.Elements[mdoc.NameSpaceMDL]
	if _, ok := els["age_over_21"]; !ok || d.Unrequested == 0 {
		t.Fatalf("elements %v, %d unrequested", els, d.Unrequested)
	}
	for _, id := range []string{"family_name", "given_name", "birth_date", "document_number"} {
		if _, ok := els[id]; ok {
			t.Errorf("unrequested %s reported", id)
		}
	}
	code, out, _ = runSelftestArgs(t, "--fault", "overdisclose", "--profile", "age-21")
	if code != exitOK || !strings.Contains(out, "elements ignored") || strings.Contains(out, "family_name") {
		t.Errorf("summary: exit %d\n%s", code, out)
	}
}

// TestVerifyCommandRequest: --request keeps only what the DeviceRequest
// asked for; the Annex D request asks for everything its response holds.
func TestVerifyCommandRequest(t *testing.T) {
	code, out, errs := runCmd(t, annexDArgs("--json", "--request", annexd+"device_request.hex", annexd+"device_response.hex")...)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	r := decodeReport(t, out)
	if n := len(r.Documents[0].Elements[mdoc.NameSpaceMDL]); n != 6 || r.Documents[0].Unrequested != 0 {
		t.Errorf("annex D request: %d elements, %d unrequested", n, r.Documents[0].Unrequested)
	}

	dr, err := mdoc.NewDocRequest(mdoc.ItemsRequest{DocType: mdoc.DocTypeMDL,
		NameSpaces: map[string]map[string]bool{mdoc.NameSpaceMDL: {"family_name": false}}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := mdoc.BuildDeviceRequest(dr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"req.cbor": req.Raw, "req.hex": []byte(hex.EncodeToString(req.Raw))} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errs = runCmd(t, annexDArgs("--json", "--request", p, annexd+"device_response.hex")...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s %s", name, code, out, errs)
		}
		r = decodeReport(t, out)
		els := r.Documents[0].Elements[mdoc.NameSpaceMDL]
		if len(els) != 1 || els["family_name"] == nil || r.Documents[0].Unrequested != 5 {
			t.Errorf("%s: elements %v, %d unrequested", name, els, r.Documents[0].Unrequested)
		}
		if strings.Contains(out, "document_number") || strings.Contains(out, "portrait") {
			t.Errorf("%s: unrequested element named: %s", name, out)
		}
	}
	code, out, _ = runCmd(t, annexDArgs("--request", filepath.Join(dir, "req.hex"), annexd+"device_response.hex")...)
	if code != 0 || !strings.Contains(out, "unrequested: 5 elements ignored") || strings.Contains(out, "document_number") {
		t.Errorf("summary: exit %d\n%s", code, out)
	}

	// A request file that is not a DeviceRequest is an input error.
	bad := filepath.Join(dir, "bad.hex")
	if err := os.WriteFile(bad, []byte("a0"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, annexDArgs("--request", bad, annexd+"device_response.hex")...); code != exitUsage || !strings.Contains(errs, "reading request") {
		t.Errorf("bad request: exit %d %q", code, errs)
	}
}

// TestVerifyCommandNotReturned: a response with only documentErrors is
// exit 1 with not_returned; without documentErrors it stays malformed.
func TestVerifyCommandNotReturned(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		errs map[string]int
		want string
	}{
		{"withheld", map[string]int{mdoc.DocTypeMDL: 0}, "not_returned"},
		{"empty", nil, "malformed"},
	} {
		resp, err := credential.DeviceResponse(0, tc.errs)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, tc.name+".cbor")
		if err := os.WriteFile(p, resp, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCmd(t, annexDArgs("--json", p)...)
		r := decodeReport(t, out)
		if code != exitReject || len(r.Errors) != 1 || r.Errors[0].Code != tc.want {
			t.Errorf("%s: exit %d %+v", tc.name, code, r.Errors)
		}
		if tc.want == "not_returned" && (!strings.Contains(r.Errors[0].Detail, mdoc.DocTypeMDL) || len(r.DocumentErrors) != 1) {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
}
