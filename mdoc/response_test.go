package mdoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/testvectors"
)

// annexDHex reads one ISO/IEC 18013-5 Annex D vector from testdata/annexd.
func annexDHex(tb testing.TB, name string) []byte {
	tb.Helper()
	return testvectors.AnnexD(tb, name)
}

// TestParseDeviceResponseAnnexD parses the D.4.1.2 DeviceResponse.
func TestParseDeviceResponseAnnexD(t *testing.T) {
	r, err := ParseDeviceResponse(annexDHex(t, "device_response"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "1.0" || r.Status != StatusOK || len(r.Documents) != 1 {
		t.Fatalf("version %q status %d documents %d", r.Version, r.Status, len(r.Documents))
	}
	d := r.Documents[0]
	if d.DocType != DocTypeMDL {
		t.Errorf("docType %q", d.DocType)
	}
	items := d.IssuerSigned.NameSpaces[NameSpaceMDL]
	if len(items) != 6 {
		t.Fatalf("%d items, want 6", len(items))
	}
	wantIDs := []string{"family_name", "issue_date", "expiry_date", "document_number", "portrait", "driving_privileges"}
	wantDigestIDs := []uint64{0, 3, 4, 7, 8, 9}
	for i, it := range items {
		if it.Item.ElementIdentifier != wantIDs[i] || it.Item.DigestID != wantDigestIDs[i] {
			t.Errorf("item %d: %s/%d", i, it.Item.ElementIdentifier, it.Item.DigestID)
		}
	}
	// The first item kept exactly as received (D.4.1.2), and its digest is
	// the published valueDigests["org.iso.18013.5.1"][0].
	if !bytes.Equal(items[0].Bytes.Raw, annexDHex(t, "issuer_signed_item_bytes_family_name")) {
		t.Error("family_name IssuerSignedItemBytes not kept as received")
	}
	sum := sha256.Sum256(items[0].Bytes.Raw)
	if !bytes.Equal(sum[:], annexDHex(t, "value_digest_family_name")) {
		t.Error("family_name digest differs")
	}
	if !bytes.Equal(items[5].Item.ElementValue, annexDHex(t, "driving_privileges")) {
		t.Error("driving_privileges elementValue not kept raw")
	}
	if !bytes.Equal(d.DeviceSigned.NameSpaces.Raw, annexDHex(t, "device_name_spaces_bytes")) {
		t.Error("DeviceNameSpacesBytes not kept as received")
	}
	if !bytes.Equal(d.DeviceSigned.DeviceMac, annexDHex(t, "device_mac")) || d.DeviceSigned.DeviceSignature != nil {
		t.Error("deviceMac not kept as received")
	}
	if !bytes.Equal(d.IssuerSigned.IssuerAuth, annexDHex(t, "issuer_auth")) {
		t.Error("issuerAuth not kept as received")
	}
	dns, err := d.DeviceSigned.DeviceNameSpaces()
	if err != nil || len(dns) != 0 {
		t.Errorf("device namespaces %v, %v", dns, err)
	}
	// Re-encoding keeps every signed part byte for byte.
	enc, err := r.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ParseDeviceResponse(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r2.Documents[0].IssuerSigned.IssuerAuth, d.IssuerSigned.IssuerAuth) ||
		!bytes.Equal(r2.Documents[0].IssuerSigned.NameSpaces[NameSpaceMDL][4].Bytes.Raw, items[4].Bytes.Raw) {
		t.Error("round trip changed signed bytes")
	}
}

func TestParseMSOAnnexD(t *testing.T) {
	m, err := ParseMobileSecurityObjectBytes(annexDHex(t, "mobile_security_object_bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != MSOVersion || m.DigestAlgorithm != DigestSHA256 || m.DocType != DocTypeMDL {
		t.Errorf("%q %q %q", m.Version, m.DigestAlgorithm, m.DocType)
	}
	if len(m.ValueDigests.NameSpace(NameSpaceMDL)) != 13 || len(m.ValueDigests.NameSpace("org.iso.18013.5.1.US")) != 4 {
		t.Errorf("digest counts %d %d", len(m.ValueDigests.NameSpace(NameSpaceMDL)), len(m.ValueDigests.NameSpace("org.iso.18013.5.1.US")))
	}
	if !bytes.Equal(m.ValueDigests.NameSpace(NameSpaceMDL)[0].Digest, annexDHex(t, "value_digest_family_name")) {
		t.Error("valueDigests[0]")
	}
	if !bytes.Equal(m.DeviceKeyInfo.DeviceKey.X, annexDHex(t, "s_device_key_x")) ||
		!bytes.Equal(m.DeviceKeyInfo.DeviceKey.Y, annexDHex(t, "s_device_key_y")) {
		t.Error("deviceKey is not SDeviceKey")
	}
	want := time.Date(2020, 10, 1, 13, 30, 2, 0, time.UTC)
	if !m.ValidityInfo.Signed.Equal(want) || !m.ValidityInfo.ValidFrom.Equal(want) ||
		!m.ValidityInfo.ValidUntil.Equal(want.AddDate(1, 0, 0)) || m.ValidityInfo.Expected != nil {
		t.Errorf("validity %+v", m.ValidityInfo)
	}
	if m.DeviceKeyInfo.KeyAuthorizations.Authorizes(NameSpaceMDL, "family_name") {
		t.Error("absent keyAuthorizations authorize nothing")
	}
	// Encoding and parsing again gives the same MSO (the Annex D map is not
	// in deterministic key order, so the bytes differ).
	enc, err := m.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseMSO(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Errorf("MSO round trip differs:\n%+v\n%+v", m, m2)
	}
}

// TestParseMSOStatus: the optional status member is kept as received, for a
// revocation checker to read; absent, it is nil.
func TestParseMSOStatus(t *testing.T) {
	m, err := ParseMobileSecurityObjectBytes(annexDHex(t, "mobile_security_object_bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != nil {
		t.Errorf("Annex D MSO has no status, got %x", m.Status)
	}
	status, err := Marshal(map[string]any{"status_list": map[string]any{"idx": 412, "uri": "https://example.com/statuslists/1"}})
	if err != nil {
		t.Fatal(err)
	}
	m.Status = status
	enc, err := m.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseMSO(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m2.Status, status) {
		t.Errorf("status %x, want %x", m2.Status, status)
	}
}

func TestParseMSORejects(t *testing.T) {
	mso := annexDHex(t, "mobile_security_object")
	cases := map[string][]byte{
		"truncated":     mso[:len(mso)-1],
		"trailing":      append(append([]byte(nil), mso...), 0),
		"not a map":     {0x80},
		"empty map":     {0xa0},
		"untagged bstr": {0x41, 0xa0},
	}
	for name, in := range cases {
		if _, err := ParseMSO(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseMobileSecurityObjectBytes(mso); !errors.Is(err, ErrMalformed) {
		t.Errorf("untagged MSO accepted as MobileSecurityObjectBytes: %v", err)
	}
	// validFrom as an untagged string is rejected: tdate needs tag 0.
	bad := bytes.Replace(mso, []byte("\xc0\x74\x32\x30\x32\x30"), []byte("\x74\x32\x30\x32\x30\x2d"), 1)
	if _, err := ParseMSO(bad); err == nil {
		t.Error("untagged tdate accepted")
	}
}

func TestParseDeviceResponseRejects(t *testing.T) {
	resp := annexDHex(t, "device_response")
	cases := map[string][]byte{
		"empty":       {},
		"truncated":   resp[:len(resp)/2],
		"last byte":   resp[:len(resp)-1],
		"trailing":    append(append([]byte(nil), resp...), 0x00),
		"not a map":   {0x80},
		"no status":   mustHex("a16776657273696f6e63312e30"),
		"no version":  mustHex("a166737461747573 00"),
		"empty docs":  mustHex("a36776657273696f6e63312e3069646f63756d656e74738066737461747573 00"),
		"garbage":     []byte("this is not cbor at all"),
		"indefinite":  mustHex("bf6776657273696f6e63312e30ff"),
		"dup key":     mustHex("a3667374617475730066737461747573006776657273696f6e63312e30"),
		"huge length": mustHex("a16776657273696f6e7b7fffffffffffffff"),
	}
	for name, in := range cases {
		if _, err := ParseDeviceResponse(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func mustHex(s string) []byte {
	s = strings.ReplaceAll(s, " ", "")
	if len(s)%2 == 1 {
		s += "0"
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestIssuerSignedItemRejects(t *testing.T) {
	good := annexDHex(t, "issuer_signed_item_bytes_family_name")
	if _, err := ParseIssuerSignedItemBytes(good); err != nil {
		t.Fatal(err)
	}
	inner, _ := Marshal(map[string]any{"digestID": 1, "random": make([]byte, 8), "elementIdentifier": "x", "elementValue": 1})
	short, _ := NewTaggedCBOR(inner)
	noValue, _ := WrapCBOR(map[string]any{"digestID": 1, "random": make([]byte, 16), "elementIdentifier": "x"})
	cases := map[string][]byte{
		"untagged":     good[2:],
		"short random": short.Raw,
		"no value":     noValue.Raw,
		"truncated":    good[:len(good)-3],
	}
	for name, in := range cases {
		if _, err := ParseIssuerSignedItemBytes(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewIssuerSignedItemBytes(t *testing.T) {
	random := bytes.Repeat([]byte{7}, 32)
	b, err := NewIssuerSignedItemBytes(3, random, "issue_date", FullDate{2019, 10, 20})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseIssuerSignedItemBytes(b.Bytes.Raw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := DecodeElementValue(p.Item.ElementIdentifier, p.Item.ElementValue)
	if err != nil || v != (FullDate{2019, 10, 20}) || p.Item.DigestID != 3 {
		t.Errorf("%v %v", v, err)
	}
	if _, err := NewIssuerSignedItemBytes(3, random[:15], "x", 1); err == nil {
		t.Error("short random accepted")
	}
}

func FuzzDeviceResponse(f *testing.F) {
	f.Add(annexDHex(f, "device_response"))
	f.Add(mustHex("a26776657273696f6e63312e30667374617475730a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseDeviceResponse(data)
		if err != nil {
			return
		}
		enc, err := r.MarshalCBOR()
		if err != nil {
			t.Fatalf("re-encoding a parsed response: %v", err)
		}
		if _, err := ParseDeviceResponse(enc); err != nil {
			t.Fatalf("re-parsing: %v", err)
		}
		for _, d := range r.Documents {
			_, _ = d.DeviceSigned.DeviceNameSpaces()
		}
	})
}

func FuzzMSO(f *testing.F) {
	f.Add(annexDHex(f, "mobile_security_object_bytes"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMobileSecurityObjectBytes(data)
		if err != nil {
			return
		}
		if _, err := m.MarshalCBOR(); err != nil {
			// Dates outside 0000..9999 cannot be re-encoded; nothing else may fail.
			if !strings.Contains(err.Error(), "out of range") {
				t.Fatal(err)
			}
		}
	})
}

func FuzzIssuerSignedItem(f *testing.F) {
	f.Add(annexDHex(f, "issuer_signed_item_bytes_family_name"))
	r, err := ParseDeviceResponse(annexDHex(f, "device_response"))
	if err != nil {
		f.Fatal(err)
	}
	for _, it := range r.Documents[0].IssuerSigned.NameSpaces[NameSpaceMDL] {
		f.Add(it.Bytes.Raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseIssuerSignedItemBytes(data)
		if err != nil {
			return
		}
		if !bytes.Equal(b.Bytes.Raw, data) {
			t.Fatal("raw bytes not kept")
		}
	})
}

// TestDeviceAuthenticationBytesAnnexD rebuilds the published
// DeviceAuthenticationBytes from the transcript and DeviceNameSpacesBytes.
func TestDeviceAuthenticationBytesAnnexD(t *testing.T) {
	got := DeviceAuthenticationBytes(annexDHex(t, "session_transcript"), DocTypeMDL, annexDHex(t, "device_name_spaces_bytes"))
	if !bytes.Equal(got, annexDHex(t, "device_authentication_bytes")) {
		t.Errorf("got %x", got)
	}
	if _, err := ParseTaggedCBOR(got); err != nil {
		t.Error(err)
	}
	long := DeviceAuthenticationBytes(annexDHex(t, "session_transcript"), strings.Repeat("x", 70000), annexDHex(t, "device_name_spaces_bytes"))
	if _, err := ParseTaggedCBOR(long); err != nil {
		t.Error(err)
	}
}

// TestIdentifierSharesKnownStrings: identifier gives the text it is given,
// and for a table 5 identifier or age_over_NN without allocating.
func TestIdentifierSharesKnownStrings(t *testing.T) {
	for _, id := range []string{"family_name", "portrait", "driving_privileges", "age_over_18", "age_over_00", "age_over_99", "signature_usual_mark"} {
		b := []byte(id)
		if got := identifier(b); got != id {
			t.Errorf("identifier(%q) = %q", id, got)
		}
		if n := testing.AllocsPerRun(10, func() { identifier(b) }); n != 0 {
			t.Errorf("identifier(%q) allocates %v times", id, n)
		}
	}
	for _, id := range []string{"", "age_over_", "age_over_1", "age_over_1a", "age_over_100", "age_over_-1", "Age_over_21", "family_name ", "x", "given_name\\x00"} {
		if got := identifier([]byte(id)); got != id {
			t.Errorf("identifier(%q) = %q", id, got)
		}
	}
}
