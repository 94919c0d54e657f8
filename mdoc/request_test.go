package mdoc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
)

// Annex D.4.1.1: the DeviceRequest with one DocRequest and readerAuth.
func TestDeviceRequestAnnexD(t *testing.T) {
	raw := deVector(t, "annexd", "device_request")
	req, err := mdoc.ParseDeviceRequest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if req.Version != "1.0" || len(req.DocRequests) != 1 || !bytes.Equal(req.Raw, raw) {
		t.Fatalf("request %+v", req)
	}
	dr := req.DocRequests[0]
	if !bytes.Equal(dr.ItemsRequestBytes.Raw, deVector(t, "annexd", "items_request_bytes")) {
		t.Error("ItemsRequestBytes differ")
	}
	if !bytes.Equal(dr.ItemsRequestBytes.Inner, deVector(t, "annexd", "items_request")) {
		t.Error("ItemsRequest differs")
	}
	if !bytes.Equal(dr.ReaderAuth, deVector(t, "annexd", "reader_auth")) {
		t.Error("readerAuth differs")
	}
	ir := dr.ItemsRequest
	if ir.DocType != "org.iso.18013.5.1.mDL" {
		t.Errorf("docType %q", ir.DocType)
	}
	want := map[string]bool{"family_name": true, "document_number": true, "driving_privileges": true, "issue_date": true, "expiry_date": true, "portrait": false}
	got := ir.NameSpaces["org.iso.18013.5.1"]
	if len(ir.NameSpaces) != 1 || len(got) != len(want) {
		t.Fatalf("nameSpaces %v", ir.NameSpaces)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: %v, want %v", k, g, v)
		}
	}
	// Rebuilding from the kept bytes keeps ItemsRequestBytes and readerAuth
	// exactly (the map order of the rebuilt DocRequest is deterministic).
	again, err := mdoc.BuildDeviceRequest(dr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.DocRequests[0].ItemsRequestBytes.Raw, dr.ItemsRequestBytes.Raw) || !bytes.Equal(again.DocRequests[0].ReaderAuth, dr.ReaderAuth) {
		t.Error("rebuild changed signed bytes")
	}
	if len(again.Raw) != len(raw) {
		t.Errorf("rebuilt length %d, want %d", len(again.Raw), len(raw))
	}
}

func TestItemsRequestAnnexD(t *testing.T) {
	ir, err := mdoc.ParseItemsRequest(deVector(t, "annexd", "items_request"))
	if err != nil {
		t.Fatal(err)
	}
	if ir.DocType != "org.iso.18013.5.1.mDL" || len(ir.NameSpaces["org.iso.18013.5.1"]) != 6 || ir.RequestInfo != nil {
		t.Errorf("%+v", ir)
	}
	tagged, err := mdoc.ParseTaggedCBOR(deVector(t, "annexd", "items_request_bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tagged.Inner, deVector(t, "annexd", "items_request")) {
		t.Error("items_request_bytes does not wrap items_request")
	}
}

func TestBuildDeviceRequestSeveral(t *testing.T) {
	a, err := mdoc.NewDocRequest(mdoc.ItemsRequest{DocType: "org.iso.18013.5.1.mDL", NameSpaces: map[string]map[string]bool{"org.iso.18013.5.1": {"age_over_21": false, "portrait": false}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := mdoc.NewDocRequest(mdoc.ItemsRequest{DocType: "eu.europa.ec.eudi.pid.1", NameSpaces: map[string]map[string]bool{"eu.europa.ec.eudi.pid.1": {"family_name": true}},
		RequestInfo: map[string]cbor.RawMessage{"purpose": {0x63, 'a', 'g', 'e'}}})
	if err != nil {
		t.Fatal(err)
	}
	b.ReaderAuth = deVector(t, "annexd", "reader_auth")
	req, err := mdoc.BuildDeviceRequest(a, b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := mdoc.ParseDeviceRequest(req.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.DocRequests) != 2 || back.DocRequests[0].ReaderAuth != nil || !bytes.Equal(back.DocRequests[1].ReaderAuth, b.ReaderAuth) {
		t.Fatalf("%+v", back)
	}
	if back.DocRequests[1].ItemsRequest.DocType != "eu.europa.ec.eudi.pid.1" || !bytes.Equal(back.DocRequests[1].ItemsRequest.RequestInfo["purpose"], []byte{0x63, 'a', 'g', 'e'}) {
		t.Errorf("%+v", back.DocRequests[1].ItemsRequest)
	}
	if _, err := mdoc.NewDocRequest(mdoc.ItemsRequest{DocType: "x"}); err == nil {
		t.Error("ItemsRequest without namespaces accepted")
	}
}

// EncodeDeviceRequest, which the terminal sends without reading back, writes
// what BuildDeviceRequest checks: the same bytes, which ParseDeviceRequest
// reads into the same DocRequests, with and without readerAuth; the Annex D
// DocRequest (its ItemsRequestBytes and readerAuth) is carried over as
// received.
func TestEncodeDeviceRequest(t *testing.T) {
	annexD, err := mdoc.ParseDeviceRequest(deVector(t, "annexd", "device_request"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := mdoc.EncodeDeviceRequest(annexD.DocRequests[0], annexD.DocRequests[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	again, err := mdoc.ParseDeviceRequest(raw)
	if err != nil || !bytes.Equal(again.DocRequests[0].ItemsRequestBytes.Raw, annexD.DocRequests[0].ItemsRequestBytes.Raw) ||
		!bytes.Equal(again.DocRequests[0].ReaderAuth, annexD.DocRequests[0].ReaderAuth) {
		t.Fatalf("Annex D DocRequest not carried over as received: %v", err)
	}
	a, err := mdoc.NewDocRequest(mdoc.ItemsRequest{DocType: mdoc.DocTypeMDL, NameSpaces: map[string]map[string]bool{mdoc.NameSpaceMDL: {"age_over_21": false, "portrait": true}}})
	if err != nil {
		t.Fatal(err)
	}
	b := a
	b.ReaderAuth = deVector(t, "annexd", "reader_auth")
	for _, docs := range [][]mdoc.DocRequest{{a}, {b}, {a, b}, {b, a, b}} {
		raw, err := mdoc.EncodeDeviceRequest(docs[0], docs[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		built, err := mdoc.BuildDeviceRequest(docs[0], docs[1:]...)
		if err != nil || !bytes.Equal(raw, built.Raw) || len(built.DocRequests) != len(docs) {
			t.Fatalf("%d DocRequests: encoded and built differ (%v)", len(docs), err)
		}
		for i, d := range built.DocRequests {
			if !bytes.Equal(d.ItemsRequestBytes.Raw, docs[i].ItemsRequestBytes.Raw) || !bytes.Equal(d.ReaderAuth, docs[i].ReaderAuth) {
				t.Errorf("DocRequest %d of %d not read back as written", i, len(docs))
			}
		}
	}
	if _, err := mdoc.EncodeDeviceRequest(mdoc.DocRequest{}); err == nil {
		t.Error("a DocRequest without ItemsRequestBytes was encoded")
	}
}

func TestDeviceRequestRejects(t *testing.T) {
	good := deVector(t, "annexd", "device_request")
	irb := deVector(t, "annexd", "items_request_bytes")
	var items mdoc.TaggedCBOR
	_ = items.UnmarshalCBOR(irb)
	enc := func(v any) []byte {
		b, err := mdoc.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	noDocType, _ := mdoc.WrapCBOR(map[string]any{"nameSpaces": map[string]any{}})
	badIntent, _ := mdoc.WrapCBOR(map[string]any{"docType": "x", "nameSpaces": map[string]any{"ns": map[string]any{"e": 1}}})
	cases := map[string][]byte{
		"empty":             nil,
		"truncated":         good[:len(good)-1],
		"no version":        enc(map[string]any{"docRequests": []any{map[string]any{"itemsRequest": items}}}),
		"version 2.0":       enc(map[string]any{"version": "2.0", "docRequests": []any{map[string]any{"itemsRequest": items}}}),
		"no docRequests":    enc(map[string]any{"version": "1.0"}),
		"empty docRequests": enc(map[string]any{"version": "1.0", "docRequests": []any{}}),
		"untagged items":    enc(map[string]any{"version": "1.0", "docRequests": []any{map[string]any{"itemsRequest": irb[4:]}}}),
		"no itemsRequest":   enc(map[string]any{"version": "1.0", "docRequests": []any{map[string]any{}}}),
		"no docType":        enc(map[string]any{"version": "1.0", "docRequests": []any{map[string]any{"itemsRequest": noDocType}}}),
		"intent not bool":   enc(map[string]any{"version": "1.0", "docRequests": []any{map[string]any{"itemsRequest": badIntent}}}),
		"readerAuth 3":      enc(map[string]any{"version": "1.0", "docRequests": []any{map[string]any{"itemsRequest": items, "readerAuth": []any{1, 2, 3}}}}),
	}
	for name, in := range cases {
		if _, err := mdoc.ParseDeviceRequest(in); !errors.Is(err, mdoc.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	for i := range good {
		if _, err := mdoc.ParseDeviceRequest(good[:i]); err == nil {
			t.Errorf("prefix of %d bytes accepted", i)
		}
	}
}

func FuzzDeviceRequest(f *testing.F) {
	f.Add(deVector(f, "annexd", "device_request"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := mdoc.ParseDeviceRequest(data)
		if err != nil {
			return
		}
		again, err := mdoc.BuildDeviceRequest(req.DocRequests[0], req.DocRequests[1:]...)
		if err != nil {
			t.Fatalf("rebuilding a parsed request: %v", err)
		}
		for i := range req.DocRequests {
			if !bytes.Equal(again.DocRequests[i].ItemsRequestBytes.Raw, req.DocRequests[i].ItemsRequestBytes.Raw) {
				t.Fatal("ItemsRequestBytes changed")
			}
		}
	})
}
