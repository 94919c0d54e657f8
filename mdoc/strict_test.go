package mdoc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// rawMap decodes a CBOR map with text keys, keeping every value as received.
func rawMap(tb testing.TB, b []byte) map[string]cbor.RawMessage {
	tb.Helper()
	var m map[string]cbor.RawMessage
	if err := Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// tagged wraps an encoded item in tag n.
func tagged(tb testing.TB, n uint64, item []byte) cbor.RawMessage {
	tb.Helper()
	return mustMarshal(tb, cbor.RawTag{Number: n, Content: item})
}

// responseVariant rebuilds the Annex D response after edit changes the
// top-level map, the (only) document map, its issuerSigned map and its
// issuerAuth array.
func responseVariant(tb testing.TB, edit func(top, doc, issuerSigned map[string]cbor.RawMessage, issuerAuth []cbor.RawMessage)) []byte {
	return responseVariantPost(tb, edit, nil)
}

// responseVariantPost is responseVariant with post run on the rebuilt
// top-level and document maps, for edits of the containers themselves.
func responseVariantPost(tb testing.TB, edit func(top, doc, issuerSigned map[string]cbor.RawMessage, issuerAuth []cbor.RawMessage), post func(top, doc map[string]cbor.RawMessage)) []byte {
	tb.Helper()
	top := rawMap(tb, annexDHex(tb, "device_response"))
	var docs []cbor.RawMessage
	if err := Unmarshal(top["documents"], &docs); err != nil {
		tb.Fatal(err)
	}
	doc := rawMap(tb, docs[0])
	is := rawMap(tb, doc["issuerSigned"])
	var auth []cbor.RawMessage
	if err := Unmarshal(is["issuerAuth"], &auth); err != nil {
		tb.Fatal(err)
	}
	edit(top, doc, is, auth)
	is["issuerAuth"] = mustMarshal(tb, auth)
	doc["issuerSigned"] = mustMarshal(tb, is)
	if post != nil {
		post(nil, doc)
	}
	docs[0] = mustMarshal(tb, doc)
	top["documents"] = mustMarshal(tb, docs)
	if post != nil {
		post(top, nil)
	}
	return mustMarshal(tb, top)
}

func rename(m map[string]cbor.RawMessage, from, to string) {
	m[to] = m[from]
	delete(m, from)
}

// TestParseDeviceResponseStrictCDDL: each variant is accepted by a lenient
// CBOR decoder but departs from the CDDL of ISO/IEC 18013-5 clause
// 8.3.2.1.2.2 (case-sensitive keys, tags only where the CDDL has them,
// bstr where it says bstr, uint as major type 0).
func TestParseDeviceResponseStrictCDDL(t *testing.T) {
	if _, err := ParseDeviceResponse(responseVariant(t, func(_, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {})); err != nil {
		t.Fatalf("unchanged rebuild rejected: %v", err)
	}
	type edit = func(top, doc, is map[string]cbor.RawMessage, auth []cbor.RawMessage)
	cases := map[string]edit{
		"DOCUMENTS": func(top, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) { rename(top, "documents", "DOCUMENTS") },
		"Version":   func(top, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) { rename(top, "version", "Version") },
		"DOCTYPE":   func(_, doc, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) { rename(doc, "docType", "DOCTYPE") },
		"IssuerSigned": func(_, doc, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			rename(doc, "issuerSigned", "IssuerSigned")
		},
		"NAMESPACES": func(_, _, is map[string]cbor.RawMessage, _ []cbor.RawMessage) { rename(is, "nameSpaces", "NAMESPACES") },
		"deviceSIGNED": func(_, doc, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			rename(doc, "deviceSigned", "deviceSIGNED")
		},
		"bignum status": func(top, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			top["status"] = tagged(t, 2, []byte{0x41, 0x00})
		},
		"55799 status": func(top, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			top["status"] = tagged(t, 55799, top["status"])
		},
		"tagged version": func(top, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			top["version"] = tagged(t, 32, top["version"])
		},
		"tagged docType": func(_, doc, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			doc["docType"] = tagged(t, 55799, doc["docType"])
		},
		"status as text": func(top, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) { top["status"] = mustMarshal(t, "0") },
		"docType as bstr": func(_, doc, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			doc["docType"] = mustMarshal(t, []byte(DocTypeMDL))
		},
		"negative status": func(top, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) { top["status"] = mustMarshal(t, -1) },
		"protected as tstr": func(_, _, _ map[string]cbor.RawMessage, auth []cbor.RawMessage) {
			var p []byte
			if err := Unmarshal(auth[0], &p); err != nil {
				t.Fatal(err)
			}
			auth[0] = mustMarshal(t, string(p))
		},
		"tagged signature": func(_, _, _ map[string]cbor.RawMessage, auth []cbor.RawMessage) { auth[3] = tagged(t, 55799, auth[3]) },
		"tagged ns array": func(_, _, is map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			ns := rawMap(t, is["nameSpaces"])
			for k, v := range ns {
				ns[k] = tagged(t, 55799, v)
			}
			is["nameSpaces"] = mustMarshal(t, ns)
		},
		"untagged item": func(_, _, is map[string]cbor.RawMessage, _ []cbor.RawMessage) {
			ns := rawMap(t, is["nameSpaces"])
			for k, v := range ns {
				var items []cbor.RawMessage
				if err := Unmarshal(v, &items); err != nil {
					t.Fatal(err)
				}
				var rt cbor.RawTag
				if err := Unmarshal(items[0], &rt); err != nil {
					t.Fatal(err)
				}
				items[0] = tagged(t, 25, rt.Content)
				ns[k] = mustMarshal(t, items)
			}
			is["nameSpaces"] = mustMarshal(t, ns)
		},
	}
	for name, e := range cases {
		in := responseVariant(t, e)
		if _, err := ParseDeviceResponse(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
	noEdit := func(_, _, _ map[string]cbor.RawMessage, _ []cbor.RawMessage) {}
	posts := map[string]func(top, doc map[string]cbor.RawMessage){
		"tagged documents": func(top, _ map[string]cbor.RawMessage) {
			if top != nil {
				top["documents"] = tagged(t, 55799, top["documents"])
			}
		},
		"tagged IssuerSigned map": func(_, doc map[string]cbor.RawMessage) {
			if doc != nil {
				doc["issuerSigned"] = tagged(t, 259, doc["issuerSigned"])
			}
		},
		"issuerAuth tagged 17": func(_, doc map[string]cbor.RawMessage) {
			if doc != nil {
				is := rawMap(t, doc["issuerSigned"])
				is["issuerAuth"] = tagged(t, 17, is["issuerAuth"])
				doc["issuerSigned"] = mustMarshal(t, is)
			}
		},
	}
	for name, p := range posts {
		if _, err := ParseDeviceResponse(responseVariantPost(t, noEdit, p)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

// TestParseMSOStrictCDDL: the MSO of clause 9.1.2.4 with case-variant keys
// or tags where its CDDL has none.
func TestParseMSOStrictCDDL(t *testing.T) {
	mso := annexDHex(t, "mobile_security_object")
	if _, err := ParseMSO(mustMarshal(t, rawMap(t, mso))); err != nil {
		t.Fatalf("unchanged rebuild rejected: %v", err)
	}
	cases := map[string]func(m map[string]cbor.RawMessage){
		"DOCTYPE":        func(m map[string]cbor.RawMessage) { rename(m, "docType", "DOCTYPE") },
		"ValidityInfo":   func(m map[string]cbor.RawMessage) { rename(m, "validityInfo", "ValidityInfo") },
		"tagged docType": func(m map[string]cbor.RawMessage) { m["docType"] = tagged(t, 55799, m["docType"]) },
		"tagged version": func(m map[string]cbor.RawMessage) { m["version"] = tagged(t, 32, m["version"]) },
		"epoch signed": func(m map[string]cbor.RawMessage) {
			vi := rawMap(t, m["validityInfo"])
			vi["signed"] = tagged(t, 1, mustMarshal(t, 1600000000))
			m["validityInfo"] = mustMarshal(t, vi)
		},
		"SIGNED": func(m map[string]cbor.RawMessage) {
			vi := rawMap(t, m["validityInfo"])
			rename(vi, "signed", "SIGNED")
			m["validityInfo"] = mustMarshal(t, vi)
		},
		"keyAuthorizations NAMESPACES": func(m map[string]cbor.RawMessage) {
			dki := rawMap(t, m["deviceKeyInfo"])
			dki["keyAuthorizations"] = mustMarshal(t, map[string]any{"NAMESPACES": []string{NameSpaceMDL}})
			m["deviceKeyInfo"] = mustMarshal(t, dki)
		},
	}
	for name, e := range cases {
		m := rawMap(t, mso)
		e(m)
		if _, err := ParseMSO(mustMarshal(t, m)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

// TestIssuerSignedItemStrictCDDL: IssuerSignedItem keys are case-sensitive
// and random is a bstr.
func TestIssuerSignedItemStrictCDDL(t *testing.T) {
	good := map[string]any{"digestID": 1, "random": make([]byte, 16), "elementIdentifier": "x", "elementValue": 1}
	cases := map[string]func(m map[string]any){
		"DIGESTID":      func(m map[string]any) { m["DIGESTID"] = m["digestID"]; delete(m, "digestID") },
		"random tstr":   func(m map[string]any) { m["random"] = "0123456789abcdef" },
		"bignum digest": func(m map[string]any) { m["digestID"] = cbor.Tag{Number: 2, Content: []byte{1}} },
	}
	ok, err := WrapCBOR(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseIssuerSignedItemBytes(ok.Raw); err != nil {
		t.Fatal(err)
	}
	for name, e := range cases {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		e(m)
		b, err := WrapCBOR(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseIssuerSignedItemBytes(b.Raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

// scanHeaders collects what ScanCOSEHeaderMap visits into a map.
func scanHeaders(data []byte) (map[int64]cbor.RawMessage, error) {
	out := map[int64]cbor.RawMessage{}
	err := ScanCOSEHeaderMap(data, func(label int64, value []byte) { out[label] = value })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkScanMatchesParse holds ScanCOSEHeaderMap to ParseCOSEHeaderMap: the
// same input accepted, the same labels and values.
func checkScanMatchesParse(t testing.TB, data []byte) {
	want, errP := ParseCOSEHeaderMap(data)
	got, errS := scanHeaders(data)
	if (errP == nil) != (errS == nil) {
		t.Fatalf("%x: ParseCOSEHeaderMap error %v, ScanCOSEHeaderMap error %v", data, errP, errS)
	}
	if errP != nil {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("%x: scan saw %d labels, parse %d", data, len(got), len(want))
	}
	for l, v := range want {
		if !bytes.Equal(got[l], v) {
			t.Fatalf("%x: label %d: scan %x, parse %x", data, l, got[l], v)
		}
	}
}

func scanSeeds() [][]byte {
	return [][]byte{
		{0xa0}, {0xa1, 0x01, 0x26}, {0xa2, 0x01, 0x26, 0x01, 0x26}, {0xa2, 0x01, 0x05, 0x18, 0x21, 0x43, 1, 2, 3},
		{0xa1, 0x61, 'x', 0x00}, {0xa1, 0x01}, {0xbf, 0x01, 0x26, 0xff}, {0xa1, 0x01, 0x26, 0x00},
		append([]byte{0xb1}, bytes.Repeat([]byte{0x00, 0x00}, 17)...),
	}
}

func TestScanCOSEHeaderMapMatchesParse(t *testing.T) {
	for _, s := range scanSeeds() {
		checkScanMatchesParse(t, s)
	}
	// Seventeen distinct labels, then the first again: the duplicate is
	// found after the set has left its array.
	m := []byte{0xb2}
	for l := range byte(17) {
		m = append(m, l, 0x00)
	}
	m = append(m, 0x00, 0x00)
	if _, err := scanHeaders(m); err == nil {
		t.Error("a label repeated after sixteen others was not refused")
	}
	checkScanMatchesParse(t, m)
}

func FuzzScanCOSEHeaderMap(f *testing.F) {
	for _, s := range scanSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkScanMatchesParse(t, data) })
}

func TestReadBytes(t *testing.T) {
	for in, want := range map[string]string{"\x40": "", "\x43abc": "abc", "\x58\x01z": "z"} {
		if got, ok := ReadBytes([]byte(in)); !ok || string(got) != want {
			t.Errorf("ReadBytes(%x) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "\x43ab", "\x43abcd", "\x5f\x41a\xff", "\x63abc", "\xd8\x18\x41a", "\x58"} {
		if _, ok := ReadBytes([]byte(in)); ok {
			t.Errorf("ReadBytes(%x) accepted", in)
		}
	}
}

// TestSameKeyByValue: sameKey compares keys by major type and value, in
// any head length, as the decoder's duplicate check does.
func TestSameKeyByValue(t *testing.T) {
	type key struct {
		major byte
		value uint64
		enc   []byte
	}
	var keys []key
	for _, major := range []byte{majorUint, majorNint, majorBytes, majorText} {
		for _, v := range []uint64{0, 1, 23, 24, 30, 255, 256} {
			for _, width := range []int{0, 1, 2, 4, 8} {
				var head []byte
				switch {
				case width == 0 && v < 24:
					head = []byte{major<<5 | byte(v)}
				case width == 0:
					continue
				case width == 1 && v > 0xff:
					continue
				default:
					ai := map[int]byte{1: 24, 2: 25, 4: 26, 8: 27}[width]
					head = []byte{major<<5 | ai}
					for i := width - 1; i >= 0; i-- {
						head = append(head, byte(v>>(8*i)))
					}
				}
				enc := head
				if major == majorBytes || major == majorText {
					enc = append(bytes.Clone(head), bytes.Repeat([]byte{'k'}, int(v))...)
				}
				keys = append(keys, key{major, v, enc})
				if (major == majorBytes || major == majorText) && v > 0 {
					other := bytes.Clone(enc)
					other[len(other)-1] = 'x' // same length, other content
					keys = append(keys, key{major, v + 1000, other})
				}
			}
		}
	}
	for _, a := range keys {
		for _, b := range keys {
			want := a.major == b.major && a.value == b.value
			if got := sameKey(a.enc, b.enc); got != want {
				t.Fatalf("sameKey(%x, %x) = %v, want %v", a.enc, b.enc, got, want)
			}
		}
	}
}
