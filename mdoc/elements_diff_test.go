package mdoc

import (
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/internal/difftest"
)

// refElementValue is the generic path of DecodeElementValue: the decode
// mode into any, then normalizeValue. directElementValue must give exactly
// its result whenever it answers.
func refElementValue(raw []byte) (any, error) {
	var v any
	if err := Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return normalizeValue(v, 0)
}

// refFullDate is the generic path of FullDate.UnmarshalCBOR for tag 1004.
func refFullDate(data []byte) (FullDate, error) {
	var raw cbor.RawTag
	if err := Unmarshal(data, &raw); err != nil {
		return FullDate{}, err
	}
	if raw.Number != tagFullDate {
		return FullDate{}, ErrMalformed
	}
	var s string
	if err := Unmarshal(raw.Content, &s); err != nil {
		return FullDate{}, err
	}
	return ParseFullDate(s)
}

// checkElementValueAgainstReference: whenever directElementValue reads a
// value, the generic path reads the same; whenever fullDateText finds the
// text of a full-date, ParseFullDate and the generic path of tag 1004 agree
// on it, refusals included.
func checkElementValueAgainstReference(t testing.TB, raw []byte) {
	difftest.Agree(t, "direct element value reader", raw, difftest.Answering(directElementValue), refElementValue, difftest.DeepEqual[any])
	if s, ok := fullDateText(raw); ok {
		got, err := ParseFullDate(s)
		want, refErr := refFullDate(raw)
		if (err == nil) != (refErr == nil) || got != want {
			t.Fatalf("%x: full-date %v %v, generic %v %v", raw, got, err, want, refErr)
		}
	}
}

func elementValueSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, v := range []any{"", "Doe", "Ünïcødé", []byte{}, []byte{1, 2, 3}, true, false, nil, 0, 23, 24, -1, -25,
		int64(1) << 62, uint64(1) << 63, -(int64(1) << 62), 1.5, FullDate{2020, 1, 2}, cbor.Tag{Number: 1004, Content: "2020-02-30"},
		cbor.Tag{Number: 100, Content: 10}, cbor.Tag{Number: 0, Content: "2020-01-02T03:04:05Z"}, []any{"a", 1}, map[string]any{"a": 1}} {
		b, err := Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, []byte{0x62, 0xc3, 0x28}, []byte{0x63, 'a', 'b'}, []byte{0x61, 'a', 0x00}, []byte{0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0},
		[]byte{0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0}, []byte{0xd9, 0x03, 0xec, 0x62, 0xc3, 0x28}, []byte{0xf4, 0x00}, []byte{0x7f, 0x61, 'a', 0xff})
}

func TestDirectElementValueMatchesReference(t *testing.T) {
	difftest.Seeds(t, elementValueSeeds(t), 12, difftest.Answering(directElementValue), checkElementValueAgainstReference)
}

func FuzzDirectElementValue(f *testing.F) {
	difftest.Fuzz(f, elementValueSeeds(f), checkElementValueAgainstReference)
}

// refDecode is the generic path that a direct reader of a T replaced: the
// decode mode into a T (a coseKeyMap for directCOSEKey, DrivingPrivileges
// for directDrivingPrivileges).
func refDecode[T any](data []byte) (T, error) {
	var v T
	err := Unmarshal(data, &v)
	return v, err
}

// checkCOSEKeyAgainstReference: whenever directCOSEKey reads a key, the
// generic decoder reads the same coseKeyMap.
func checkCOSEKeyAgainstReference(t testing.TB, data []byte) {
	difftest.Agree(t, "direct COSE_Key reader", data, difftest.Answering(directCOSEKey), refDecode[coseKeyMap], difftest.DeepEqual[coseKeyMap])
}

func coseKeySeeds(tb testing.TB) [][]byte {
	out := [][]byte{annexDHex(tb, "e_device_key_cose")}
	for _, m := range []map[int]any{
		{1: 2, -1: 1, -2: make([]byte, 32), -3: make([]byte, 32), 2: []byte("kid"), 3: -7},
		{1: 1, -1: 6, -2: make([]byte, 32)},
		{1: 2, -1: 1, -2: []byte{}, -3: true},
		{1: 2, -1: 1, -2: "text x", -3: 5},
		{1: "EC2", -1: 1},
		{},
	} {
		out = append(out, mustMarshal(tb, m))
	}
	return append(out, []byte{0xa2, 0x01, 0x02, 0x18, 0x01, 0x02}, []byte{0xa1, 0x01, 0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0},
		[]byte{0xa1, 0x61, 'x', 0x00}, []byte{0xa1, 0x21, 0xd9, 0xd9, 0xf7, 0x41, 0x00})
}

func TestDirectCOSEKeyMatchesReference(t *testing.T) {
	difftest.Seeds(t, coseKeySeeds(t), 5, difftest.Answering(directCOSEKey), checkCOSEKeyAgainstReference)
}

func FuzzDirectCOSEKey(f *testing.F) {
	difftest.Fuzz(f, coseKeySeeds(f), checkCOSEKeyAgainstReference)
}

// checkDrivingPrivilegesAgainstReference: whenever directDrivingPrivileges
// reads a value, the generic decoder reads the same DrivingPrivileges.
func checkDrivingPrivilegesAgainstReference(t testing.TB, data []byte) {
	difftest.Agree(t, "direct driving_privileges reader", data, difftest.Answering(directDrivingPrivileges), refDecode[DrivingPrivileges], difftest.DeepEqual[DrivingPrivileges])
}

func drivingPrivilegesSeeds(tb testing.TB) [][]byte {
	date := cbor.Tag{Number: 1004, Content: "2021-03-04"}
	out := [][]byte{annexDHex(tb, "driving_privileges")}
	for _, v := range []any{
		[]map[string]any{{"vehicle_category_code": "A"}},
		[]map[string]any{{"vehicle_category_code": "B", "issue_date": date, "expiry_date": date},
			{"vehicle_category_code": "C", "codes": []map[string]any{{"code": "78"}, {"code": "S01", "sign": "<=", "value": "3500"}}}},
		[]map[string]any{{"vehicle_category_code": "Ä", "issue_date": cbor.Tag{Number: 1004, Content: "2021-02-30"}}},
		[]map[string]any{{"vehicle_category_code": "A", "issue_date": cbor.Tag{Number: 100, Content: 18000}}},
		[]map[string]any{{"vehicle_category_code": "A", "codes": []map[string]any{}}},
		[]map[string]any{{"vehicle_category_code": "A", "codes": []map[string]any{{"sign": "="}}}},
		[]map[string]any{{"vehicle_category_code": "A", "Codes": []map[string]any{{"code": "1"}}}},
		[]map[string]any{{"vehicle_category_code": "A", "extra": 1}},
		[]map[string]any{{"vehicle_category_code": nil}},
		[]map[string]any{{"issue_date": date}},
		[]map[string]any{{}},
		[]map[string]any{},
		map[string]any{"vehicle_category_code": "A"},
	} {
		out = append(out, mustMarshal(tb, v))
	}
	one := mustMarshal(tb, []map[string]any{{"vehicle_category_code": "A"}})
	return append(out,
		append(one, 0x00), // trailing byte
		[]byte{0x81, 0xa2, 0x75, 'v', 'e', 'h', 'i', 'c', 'l', 'e', '_', 'c', 'a', 't', 'e', 'g', 'o', 'r', 'y', '_', 'c', 'o', 'd', 'e', 0x61, 'A',
			0x75, 'v', 'e', 'h', 'i', 'c', 'l', 'e', '_', 'c', 'a', 't', 'e', 'g', 'o', 'r', 'y', '_', 'c', 'o', 'd', 'e', 0x61, 'B'}, // key twice
		[]byte{0x81, 0xa1, 0x75, 'v', 'e', 'h', 'i', 'c', 'l', 'e', '_', 'c', 'a', 't', 'e', 'g', 'o', 'r', 'y', '_', 'c', 'o', 'd', 'e', 0x62, 0xc3, 0x28}, // invalid UTF-8
		[]byte{0x9f, 0xff}, // indefinite length
		[]byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // a count far beyond the bytes
	)
}

func TestDirectDrivingPrivilegesMatchesReference(t *testing.T) {
	difftest.Seeds(t, drivingPrivilegesSeeds(t), 3, difftest.Answering(directDrivingPrivileges), checkDrivingPrivilegesAgainstReference)
}

func FuzzDirectDrivingPrivileges(f *testing.F) {
	difftest.Fuzz(f, drivingPrivilegesSeeds(f), checkDrivingPrivilegesAgainstReference)
}
