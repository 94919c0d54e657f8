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

// refCOSEKey is the generic path of directCOSEKey: the decode mode into a
// coseKeyMap.
func refCOSEKey(data []byte) (coseKeyMap, error) {
	var m coseKeyMap
	err := Unmarshal(data, &m)
	return m, err
}

// checkCOSEKeyAgainstReference: whenever directCOSEKey reads a key, the
// generic decoder reads the same coseKeyMap.
func checkCOSEKeyAgainstReference(t testing.TB, data []byte) {
	difftest.Agree(t, "direct COSE_Key reader", data, difftest.Answering(directCOSEKey), refCOSEKey, difftest.DeepEqual[coseKeyMap])
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
