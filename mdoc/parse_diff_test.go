package mdoc

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/internal/difftest"
)

// The reference reader below is the generic decoder (the project's decode
// mode, by reflection) followed by the shape check: the way responses were
// read before ParseDeviceResponse read them directly. FuzzParseDeviceResponse
// holds the direct reader to it: whatever the direct reader accepts, the
// reference accepts too, with the same result.

type refItemBytes struct {
	raw  []byte
	item IssuerSignedItem
}

func (b *refItemBytes) UnmarshalCBOR(data []byte) error {
	inner, err := SplitTag24(data)
	if err != nil {
		return err
	}
	b.raw = append([]byte(nil), data...)
	var w struct {
		DigestID          *uint64         `cbor:"digestID"`
		Random            []byte          `cbor:"random"`
		ElementIdentifier *string         `cbor:"elementIdentifier"`
		ElementValue      cbor.RawMessage `cbor:"elementValue"`
	}
	if err := Unmarshal(inner, &w); err != nil {
		return err
	}
	if err := checkShape(inner, issuerSignedItemShape, "IssuerSignedItem"); err != nil {
		return err
	}
	if w.DigestID == nil || w.ElementIdentifier == nil || w.ElementValue == nil || len(w.Random) < minIssuerSignedItemRandom {
		return fmt.Errorf("%w: incomplete IssuerSignedItem", ErrMalformed)
	}
	b.item = IssuerSignedItem{DigestID: *w.DigestID, Random: w.Random, ElementIdentifier: *w.ElementIdentifier, ElementValue: w.ElementValue}
	return nil
}

type refResponse struct {
	Version        *string            `cbor:"version"`
	Documents      []refDocument      `cbor:"documents,omitempty"`
	DocumentErrors []map[string]int64 `cbor:"documentErrors,omitempty"`
	Status         *uint64            `cbor:"status"`
}

type refDocument struct {
	DocType      *string `cbor:"docType"`
	IssuerSigned *struct {
		NameSpaces map[string][]refItemBytes `cbor:"nameSpaces,omitempty"`
		IssuerAuth cbor.RawMessage           `cbor:"issuerAuth"`
	} `cbor:"issuerSigned"`
	DeviceSigned *struct {
		NameSpaces *TaggedCBOR `cbor:"nameSpaces"`
		DeviceAuth *struct {
			DeviceSignature cbor.RawMessage `cbor:"deviceSignature,omitempty"`
			DeviceMac       cbor.RawMessage `cbor:"deviceMac,omitempty"`
		} `cbor:"deviceAuth"`
	} `cbor:"deviceSigned"`
	Errors map[string]map[string]int64 `cbor:"errors,omitempty"`
}

func refParse(data []byte) (*DeviceResponse, error) {
	var w refResponse
	if err := Unmarshal(data, &w); err != nil {
		return nil, err
	}
	if err := checkShape(data, deviceResponseShape, "DeviceResponse"); err != nil {
		return nil, err
	}
	if w.Version == nil || w.Status == nil || (w.Documents != nil && len(w.Documents) == 0) {
		return nil, fmt.Errorf("%w: incomplete DeviceResponse", ErrMalformed)
	}
	r := &DeviceResponse{Version: *w.Version, Status: *w.Status, DocumentErrors: w.DocumentErrors, Documents: []Document{}}
	for _, d := range w.Documents {
		if d.DocType == nil || d.IssuerSigned == nil || d.DeviceSigned == nil || len(d.IssuerSigned.IssuerAuth) == 0 ||
			d.DeviceSigned.NameSpaces == nil || d.DeviceSigned.DeviceAuth == nil {
			return nil, fmt.Errorf("%w: incomplete Document", ErrMalformed)
		}
		auth := d.DeviceSigned.DeviceAuth
		if (auth.DeviceSignature == nil) == (auth.DeviceMac == nil) {
			return nil, fmt.Errorf("%w: DeviceAuth", ErrMalformed)
		}
		doc := Document{DocType: *d.DocType, Errors: d.Errors,
			IssuerSigned: IssuerSigned{IssuerAuth: d.IssuerSigned.IssuerAuth},
			DeviceSigned: DeviceSigned{NameSpaces: *d.DeviceSigned.NameSpaces, DeviceSignature: auth.DeviceSignature, DeviceMac: auth.DeviceMac}}
		if d.IssuerSigned.NameSpaces != nil {
			doc.IssuerSigned.NameSpaces = map[string][]IssuerSignedItemBytes{}
		}
		for ns, items := range d.IssuerSigned.NameSpaces {
			if len(items) == 0 {
				return nil, fmt.Errorf("%w: empty namespace", ErrMalformed)
			}
			for _, it := range items {
				inner, _ := SplitTag24(it.raw)
				doc.IssuerSigned.NameSpaces[ns] = append(doc.IssuerSigned.NameSpaces[ns], IssuerSignedItemBytes{Bytes: TaggedCBOR{Raw: it.raw, Inner: inner}, Item: it.item})
			}
		}
		r.Documents = append(r.Documents, doc)
	}
	return r, nil
}

// sameResponse compares two parsed responses, treating a nil and an empty
// byte slice alike.
func sameResponse(a, b *DeviceResponse) bool {
	return fmt.Sprintf("%#v", normalized(a)) == fmt.Sprintf("%#v", normalized(b))
}

func normalized(r *DeviceResponse) any {
	type item struct {
		Raw, Inner, Random, Value []byte
		ID                        uint64
		Name                      string
	}
	type doc struct {
		DocType                      string
		NS                           map[string][]item
		Auth, NSRaw, NSInner, S, Mac []byte
		Errors                       map[string]map[string]int64
	}
	var docs []doc
	for _, d := range r.Documents {
		x := doc{DocType: d.DocType, Auth: d.IssuerSigned.IssuerAuth, NSRaw: d.DeviceSigned.NameSpaces.Raw,
			NSInner: d.DeviceSigned.NameSpaces.Inner, S: d.DeviceSigned.DeviceSignature, Mac: d.DeviceSigned.DeviceMac, Errors: d.Errors}
		if d.IssuerSigned.NameSpaces != nil {
			x.NS = map[string][]item{}
		}
		for ns, items := range d.IssuerSigned.NameSpaces {
			for _, it := range items {
				x.NS[ns] = append(x.NS[ns], item{Raw: it.Bytes.Raw, Inner: it.Bytes.Inner, Random: it.Item.Random,
					Value: it.Item.ElementValue, ID: it.Item.DigestID, Name: it.Item.ElementIdentifier})
			}
		}
		docs = append(docs, x)
	}
	return struct {
		V    string
		S    uint64
		E    []map[string]int64
		Docs []doc
	}{r.Version, r.Status, r.DocumentErrors, docs}
}

func checkAgainstReference(t testing.TB, data []byte) {
	difftest.Agree(t, "direct reader", data, ParseDeviceResponse, refParse, sameResponse)
}

func TestParseDeviceResponseMatchesReference(t *testing.T) {
	data := annexDHex(t, "device_response")
	// Read, by the reference too (checkAgainstReference fails on a response
	// that only the direct reader accepts).
	difftest.Seeds(t, [][]byte{data}, 1, ParseDeviceResponse, checkAgainstReference)
	got, _ := ParseDeviceResponse(data)
	if !reflect.DeepEqual(got.Documents[0].IssuerSigned.NameSpaces[NameSpaceMDL][0].Bytes.Raw[:2], []byte{0xd8, 0x18}) {
		t.Fatal("item not kept as received")
	}
	// The result does not alias the caller's buffer.
	keep := bytes.Clone(got.Documents[0].IssuerSigned.IssuerAuth)
	for i := range data {
		data[i] = 0
	}
	if !bytes.Equal(keep, got.Documents[0].IssuerSigned.IssuerAuth) {
		t.Fatal("parsed response aliases the input")
	}
}

// TestParseDeviceResponseNoCopy: the NoCopy reader reads what the copying
// one reads, over the input itself.
func TestParseDeviceResponseNoCopy(t *testing.T) {
	data := annexDHex(t, "device_response")
	want, err := ParseDeviceResponse(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseDeviceResponseNoCopy(data)
	if err != nil {
		t.Fatal(err)
	}
	if !sameResponse(got, want) {
		t.Fatal("the NoCopy reader read another response")
	}
	auth := got.Documents[0].IssuerSigned.IssuerAuth
	if i := bytes.Index(data, auth); i < 0 || &data[i] != &auth[0] {
		t.Fatal("the NoCopy result does not alias its input")
	}
	if _, err := ParseDeviceResponseNoCopy(data[:len(data)-1]); err == nil {
		t.Fatal("a truncated response was read")
	}
}

// TestParseDeviceResponseRefusesWhatTheDecoderRefused: what the decode mode
// refused while decoding (not merely well-formedness) the direct reader
// refuses too.
func TestParseDeviceResponseRefusesWhatTheDecoderRefused(t *testing.T) {
	resp := annexDHex(t, "device_response")
	top := rawMap(t, resp)
	// build {"version": "1.0", <extra>, "status": 0} by hand
	head := func(n byte) []byte { return []byte{0xa0 | n} }
	text := func(s string) []byte { return append([]byte{0x60 | byte(len(s))}, s...) }
	cases := map[string][]byte{
		"duplicate known key":      bytes.Join([][]byte{head(3), text("version"), text("1.0"), text("version"), text("1.0"), text("status"), {0}}, nil),
		"duplicate unknown key":    bytes.Join([][]byte{head(4), text("version"), text("1.0"), text("x"), {1}, text("x"), {2}, text("status"), {0}}, nil),
		"invalid UTF-8 in a value": bytes.Join([][]byte{head(2), text("version"), {0x63, 0xff, 0xfe, 0xfd}, text("status"), {0}}, nil),
		"invalid UTF-8 in a key":   bytes.Join([][]byte{head(3), text("version"), text("1.0"), {0x62, 0xc3, 0x28}, {1}, text("status"), {0}}, nil),
		"indefinite map":           bytes.Join([][]byte{{0xbf}, text("version"), text("1.0"), text("status"), {0}, {0xff}}, nil),
		"two-byte simple value 27": bytes.Join([][]byte{head(3), text("version"), text("1.0"), text("x"), {0xf8, 0x1b}, text("status"), {0}}, nil),
		"duplicate namespace": mustMarshal(t, map[string]cbor.RawMessage{"version": top["version"], "status": top["status"],
			"documents": func() []byte {
				var docs []cbor.RawMessage
				if err := Unmarshal(top["documents"], &docs); err != nil {
					t.Fatal(err)
				}
				doc := rawMap(t, docs[0])
				is := rawMap(t, doc["issuerSigned"])
				ns := rawMap(t, is["nameSpaces"])
				items := ns[NameSpaceMDL]
				// {ns: items, ns: items}
				is["nameSpaces"] = bytes.Join([][]byte{{0xa2}, mustMarshal(t, NameSpaceMDL), items, mustMarshal(t, NameSpaceMDL), items}, nil)
				doc["issuerSigned"] = mustMarshal(t, is)
				return mustMarshal(t, []cbor.RawMessage{mustMarshal(t, doc)})
			}()}),
		"nesting": bytes.Join([][]byte{head(3), text("version"), text("1.0"), text("x"),
			append(bytes.Repeat([]byte{0x81}, maxNestedLevels), 0), text("status"), {0}}, nil),
	}
	difftest.Refused(t, cases, refParse, ParseDeviceResponse)
}

func FuzzParseDeviceResponse(f *testing.F) {
	difftest.Fuzz(f, [][]byte{annexDHex(f, "device_response")}, checkAgainstReference)
}
