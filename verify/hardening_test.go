package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/mdoc"
)

// TestReportKeepsDeviceSignedApart: with keyAuthorizations covering the mDL
// namespace, the device may sign any mDL element. An issuer-signed
// age_over_21 = false and a device-signed age_over_21 = true must both be
// reported, each under its own key: documents[].elements holds what the
// issuer signed, documents[].deviceSigned what the device signed.
func TestReportKeepsDeviceSignedApart(t *testing.T) {
	f := newFixture(t)
	els, err := credential.MDL(credential.SampleOptions{Now: testNow, BirthDate: testNow.AddDate(-19, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	devKey, err := ecdsa.GenerateKey(elliptic.P256(), seeded(3))
	if err != nil {
		t.Fatal(err)
	}
	c, err := credential.Issue(credential.IssueOptions{
		Rand: seeded(4), DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: devKey,
		DSCert: f.pki.DS, DSKey: f.pki.DSKey, Signed: testNow.Add(-time.Hour),
		KeyAuthorizations: &mdoc.KeyAuthorizations{NameSpaces: []string{mdoc.NameSpaceMDL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, mac := range []bool{false, true} {
		resp := f.present(t, c, credential.PresentOptions{
			MAC:          mac,
			Requested:    map[string]map[string]bool{mdoc.NameSpaceMDL: {"age_over_21": false, "family_name": false}},
			DeviceSigned: map[string]map[string]any{mdoc.NameSpaceMDL: {"age_over_21": true}},
		})
		res, err := Verify(resp, f.options())
		if err != nil {
			t.Fatalf("mac=%v: %v", mac, err)
		}
		js, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Documents []struct {
				Elements     map[string]map[string]any `json:"elements"`
				DeviceSigned map[string]map[string]any `json:"deviceSigned"`
			} `json:"documents"`
		}
		if err := json.Unmarshal(js, &rep); err != nil {
			t.Fatal(err)
		}
		d := rep.Documents[0]
		if v, ok := d.Elements[mdoc.NameSpaceMDL]["age_over_21"]; !ok || v != false {
			t.Errorf("mac=%v: elements age_over_21 = %v (present %v), want the issuer's false", mac, v, ok)
		}
		if v := d.DeviceSigned[mdoc.NameSpaceMDL]["age_over_21"]; v != true {
			t.Errorf("mac=%v: deviceSigned age_over_21 = %v, want true", mac, v)
		}
		if _, ok := d.DeviceSigned[mdoc.NameSpaceMDL]["family_name"]; ok {
			t.Errorf("mac=%v: issuer-signed family_name listed as device-signed", mac)
		}
	}
	// Without device-signed elements the key is still there, empty.
	res, err := Verify(f.present(t, c, credential.PresentOptions{}), f.options())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(res)
	if !bytes.Contains(js, []byte(`"deviceSigned":{}`)) {
		t.Errorf("no empty deviceSigned in %s", js)
	}
}

// annexDWith rebuilds the Annex D response after edit changed its document.
func annexDWith(t testing.TB, edit func(doc map[string]cbor.RawMessage)) []byte {
	t.Helper()
	var top map[string]cbor.RawMessage
	if err := mdoc.Unmarshal(vec(t, "device_response"), &top); err != nil {
		t.Fatal(err)
	}
	var docs []map[string]cbor.RawMessage
	if err := mdoc.Unmarshal(top["documents"], &docs); err != nil {
		t.Fatal(err)
	}
	edit(docs[0])
	var err error
	if top["documents"], err = mdoc.Marshal(docs); err != nil {
		t.Fatal(err)
	}
	out, err := mdoc.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// boundedResult checks what a hostile response can make a Result say: no
// control character anywhere, the error text and the JSON report small.
func boundedResult(t *testing.T, res *Result, err error, maxJSON int) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted")
	}
	if n := len(err.Error()); n > 64<<10 {
		t.Errorf("error text of %d bytes", n)
	}
	if len(res.Failures) > MaxErrorEntries+1 {
		t.Errorf("%d failures", len(res.Failures))
	}
	for _, f := range res.Failures {
		if strings.ContainsAny(f.Detail, "\x1b\n\r\u009b\u202e") || len(f.Detail) > maxErrorText+32 {
			t.Errorf("failure detail of %d bytes: %.80q", len(f.Detail), f.Detail)
		}
	}
	if strings.ContainsAny(err.Error(), "\x1b\u009b\u202e") {
		t.Errorf("control characters in the error text: %.120q", err.Error())
	}
	js, jerr := json.Marshal(res)
	if jerr != nil {
		t.Fatal(jerr)
	}
	if len(js) > maxJSON {
		t.Errorf("report of %d bytes", len(js))
	}
	if bytes.Contains(js, []byte(`\u001b`)) || bytes.Contains(js, []byte("\u009b")) {
		t.Error("escape sequence in the JSON report")
	}
}

// TestHugeDocTypeBounded: a 1 MB docType holding ESC[2J reaches neither the
// error text nor the report whole, and never raw.
func TestHugeDocTypeBounded(t *testing.T) {
	docType := "\x1b[2J\x1b[32mverdict: accept\u202e" + strings.Repeat("A", 1<<20)
	resp := annexDWith(t, func(doc map[string]cbor.RawMessage) {
		doc["docType"], _ = mdoc.Marshal(docType)
	})
	res, err := Verify(resp, annexDOptions(t))
	wantCode(t, res, err, CodeDocTypeMismatch)
	boundedResult(t, res, err, 64<<10)
	if got := res.Documents[0].ReportedDocType(); len(got) > 100 || strings.Contains(got, "\x1b") {
		t.Errorf("reported doc type %.100q (%d bytes)", got, len(got))
	}
	// A proven doc type is reported as it is.
	res, err = Verify(vec(t, "device_response"), annexDOptions(t))
	if err != nil || res.Documents[0].ReportedDocType() != mdoc.DocTypeMDL {
		t.Errorf("%v %q", err, res.Documents[0].ReportedDocType())
	}
}

// TestManyItemsBounded: 53,000 issuer-signed items, none in the MSO, make
// one failure per check whose text lists at most MaxErrorEntries entries and
// then "… N more" (they made 3.9 MB of error detail).
func TestManyItemsBounded(t *testing.T) {
	const total, perNS = 53000, 4000
	item := func(id uint64) cbor.RawMessage {
		b, err := mdoc.WrapCBOR(map[string]any{"digestID": id, "random": make([]byte, 16), "elementIdentifier": "\x1b[2Ja", "elementValue": 0})
		if err != nil {
			t.Fatal(err)
		}
		return b.Raw
	}
	resp := annexDWith(t, func(doc map[string]cbor.RawMessage) {
		var is map[string]cbor.RawMessage
		if err := mdoc.Unmarshal(doc["issuerSigned"], &is); err != nil {
			t.Fatal(err)
		}
		ns := map[string][]cbor.RawMessage{}
		for i := uint64(0); i < total; i++ {
			name := fmt.Sprintf("ns%d", i/perNS)
			ns[name] = append(ns[name], item(1000+i))
		}
		var err error
		if is["nameSpaces"], err = mdoc.Marshal(ns); err != nil {
			t.Fatal(err)
		}
		if doc["issuerSigned"], err = mdoc.Marshal(is); err != nil {
			t.Fatal(err)
		}
	})
	if len(resp) > mdoc.MaxMessageSize {
		t.Fatalf("response of %d bytes does not fit the message limit", len(resp))
	}
	res, err := Verify(resp, annexDOptions(t))
	wantCode(t, res, err, CodeValueDigest)
	boundedResult(t, res, err, 64<<10)
	if !strings.Contains(err.Error(), fmt.Sprintf("… %d more", total-MaxErrorEntries)) {
		t.Errorf("no count of the left-out entries in %.300q", err.Error())
	}
}

func TestJoinBounded(t *testing.T) {
	if joinBounded(nil) != nil {
		t.Error("nil list gave an error")
	}
	errs := make([]error, 100)
	for i := range errs {
		errs[i] = fmt.Errorf("%w: entry %d %s", ErrValueDigest, i, strings.Repeat("x", 1000))
	}
	err := joinBounded(errs)
	if n := strings.Count(err.Error(), "entry "); n != MaxErrorEntries {
		t.Errorf("%d entries", n)
	}
	if !strings.HasSuffix(err.Error(), "… 68 more") {
		t.Errorf("tail %q", err.Error()[len(err.Error())-20:])
	}
	if CodeOf(fmt.Errorf("%w: %w", ErrValueDigest, err)) != CodeValueDigest {
		t.Error("code lost")
	}
}
