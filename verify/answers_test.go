package verify

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/mdoc"
)

// TestNotReturnedDocumentErrors: status 0, no documents and a documentErrors
// entry is the wallet saying it does not return the doc type (ISO/IEC
// 18013-5 clause 8.3.2.1.2.3): not_returned with the doc type and the
// wallet's error code, not malformed.
func TestNotReturnedDocumentErrors(t *testing.T) {
	f := newFixture(t)
	resp, err := credential.DeviceResponse(0, map[string]int{mdoc.DocTypeMDL: 0, "org.example.other": 7})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(resp, f.options())
	wantCode(t, res, err, CodeNotReturned)
	if !errors.Is(err, ErrNotReturned) || errors.Is(err, ErrMalformed) {
		t.Errorf("error %v: want not_returned only", err)
	}
	if len(res.Failures) != 1 {
		t.Fatalf("failures %+v, want one", res.Failures)
	}
	d := res.Failures[0].Detail
	for _, want := range []string{mdoc.DocTypeMDL + " (error code 0)", "org.example.other (error code 7)"} {
		if !strings.Contains(d, want) {
			t.Errorf("detail %q does not name %q", d, want)
		}
	}
	rep := res.Report()
	if len(rep.DocumentErrors) != 2 || rep.DocumentErrors[0] != (DocumentErrorReport{"org.example.other", 7}) ||
		rep.DocumentErrors[1] != (DocumentErrorReport{mdoc.DocTypeMDL, 0}) {
		t.Errorf("documentErrors %+v", rep.DocumentErrors)
	}
	if rep.Errors[0].Code != CodeNotReturned {
		t.Errorf("report errors %+v", rep.Errors)
	}
}

// TestNoDocumentsStillMalformed: without documentErrors, or with a status
// other than 0, an empty response stays malformed.
func TestNoDocumentsStillMalformed(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		status uint
		errs   map[string]int
	}{
		{"status 0, nothing", 0, nil},
		{"status 10 with documentErrors", 10, map[string]int{mdoc.DocTypeMDL: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := credential.DeviceResponse(tc.status, tc.errs)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verify(resp, f.options())
			wantCode(t, res, err, CodeMalformed)
			if errors.Is(err, ErrNotReturned) {
				t.Errorf("error %v wraps not_returned", err)
			}
		})
	}
}

// TestNotReturnedElements: requested elements the wallet lists in the
// Document's errors are reported as not returned, apart from the disclosed
// ones; the response itself verifies.
func TestNotReturnedElements(t *testing.T) {
	f := newFixture(t)
	c := f.issue(t, issueTweak{})
	req := map[string]map[string]bool{mdoc.NameSpaceMDL: {
		"family_name": false, "age_over_65": false, "resident_city": false,
	}}
	for _, id := range []string{"age_over_65", "resident_city"} {
		if c.Has(mdoc.NameSpaceMDL, id) {
			t.Fatalf("sample credential holds %s; pick another element", id)
		}
	}
	resp := f.present(t, c, credential.PresentOptions{Requested: req})
	res, err := Verify(resp, f.options())
	if err != nil {
		t.Fatal(err)
	}
	d := res.Documents[0]
	want := []NotReturned{{mdoc.NameSpaceMDL, "age_over_65", 0}, {mdoc.NameSpaceMDL, "resident_city", 0}}
	if len(d.NotReturned) != len(want) || d.NotReturned[0] != want[0] || d.NotReturned[1] != want[1] {
		t.Errorf("not returned %+v, want %+v", d.NotReturned, want)
	}
	if len(d.Elements) != 1 || d.Elements[0].Identifier != "family_name" {
		t.Errorf("elements %+v", d.Elements)
	}
	rep := res.Report()
	if n := rep.Documents[0].NotReturned; len(n) != 2 || n[0].Element != "age_over_65" || n[1].Element != "resident_city" {
		t.Errorf("report notReturned %+v", n)
	}

	// An element listed in errors but disclosed anyway counts as disclosed.
	r, err := mdoc.ParseDeviceResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	r.Documents[0].Errors[mdoc.NameSpaceMDL]["family_name"] = 0
	enc, err := r.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	res, err = Verify(enc, f.options())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Documents[0].NotReturned {
		if n.Identifier == "family_name" {
			t.Error("disclosed family_name reported as not returned")
		}
	}

	// With a request, errors for elements nobody asked for are not reported.
	opts := f.options()
	opts.Request = []mdoc.ItemsRequest{{DocType: mdoc.DocTypeMDL, NameSpaces: map[string]map[string]bool{
		mdoc.NameSpaceMDL: {"family_name": false, "age_over_65": false}}}}
	res, err = Verify(resp, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Documents[0].NotReturned; len(n) != 1 || n[0].Identifier != "age_over_65" {
		t.Errorf("with request: not returned %+v", n)
	}
}

// TestUnrequestedElementsDropped: a wallet that discloses every element for
// a two-element request is reported with exactly the two; the rest are
// verified against the MSO, counted in the value_digests detail, and their
// values appear nowhere.
func TestUnrequestedElementsDropped(t *testing.T) {
	f := newFixture(t)
	c := f.issue(t, issueTweak{})
	req := map[string]map[string]bool{mdoc.NameSpaceMDL: {"family_name": false, "age_over_18": false}}
	resp := f.present(t, c, credential.PresentOptions{Requested: req, Faults: credential.Faults{DiscloseAll: true}})
	held := 0
	for _, items := range c.Items {
		held += len(items)
	}
	if held <= 2 {
		t.Fatalf("sample credential holds %d elements", held)
	}

	// Without a request every proven element is kept (offline verify).
	res, err := Verify(resp, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Documents[0].Elements); n != held {
		t.Fatalf("without request: %d elements, want %d", n, held)
	}

	opts := f.options()
	opts.Request = []mdoc.ItemsRequest{{DocType: mdoc.DocTypeMDL, NameSpaces: req}}
	res, err = Verify(resp, opts)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Documents[0]
	if len(d.Elements) != 2 || d.Unrequested != held-2 {
		t.Fatalf("%d elements, %d unrequested; want 2 and %d", len(d.Elements), d.Unrequested, held-2)
	}
	for _, e := range d.Elements {
		if _, ok := req[e.Namespace][e.Identifier]; !ok {
			t.Errorf("unrequested %s kept", e.Identifier)
		}
	}
	var detail string
	for _, ch := range d.Checks {
		if ch.Name == CheckValueDigests {
			detail = ch.Detail
		}
	}
	wantDetail := strconv.Itoa(held-2) + " unrequested elements ignored"
	if !strings.Contains(detail, wantDetail) {
		t.Errorf("value_digests detail %q, want %q", detail, wantDetail)
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"given_name", "birth_date", "portrait", "issuing_country"} {
		if strings.Contains(string(js), `"`+id+`":`) || strings.Contains(string(js), id+" ") {
			t.Errorf("report names unrequested %s: %s", id, js)
		}
	}
	if rep := res.Report(); rep.Documents[0].Unrequested != held-2 {
		t.Errorf("report unrequested %d", rep.Documents[0].Unrequested)
	}

	// A tampered unrequested element still fails its digest.
	tampered := f.present(t, c, credential.PresentOptions{Requested: req,
		Faults: credential.Faults{DiscloseAll: true, TamperValue: "given_name"}})
	res, err = Verify(tampered, opts)
	wantCode(t, res, err, CodeValueDigest)

	// A doc type the request did not name keeps no element at all.
	opts.Request = []mdoc.ItemsRequest{{DocType: "org.example.other", NameSpaces: req}}
	res, err = Verify(resp, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Documents[0]; len(d.Elements) != 0 || d.Unrequested != held {
		t.Errorf("unrequested doc type: %d elements, %d unrequested", len(d.Elements), d.Unrequested)
	}
}

// BenchmarkVerifyUnrequested verifies an over-disclosed response (every
// element held, two requested) with the request, so unrequested elements
// are verified, counted and dropped.
func BenchmarkVerifyUnrequested(b *testing.B) {
	f := newFixture(b)
	c := f.issue(b, issueTweak{})
	req := map[string]map[string]bool{mdoc.NameSpaceMDL: {"family_name": false, "age_over_18": false}}
	resp := f.present(b, c, credential.PresentOptions{Requested: req, Faults: credential.Faults{DiscloseAll: true}})
	opts := f.options()
	opts.Request = []mdoc.ItemsRequest{{DocType: mdoc.DocTypeMDL, NameSpaces: req}}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := Verify(resp, opts); err != nil || len(res.Documents[0].Elements) != 2 {
			b.Fatal(err)
		}
	}
}
