package mdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// TestDrivingPrivilegesAnnexD decodes the D.2.1 driving_privileges value.
func TestDrivingPrivilegesAnnexD(t *testing.T) {
	v, err := DecodeElementValue(ElementDrivingPrivs, annexDHex(t, "driving_privileges"))
	if err != nil {
		t.Fatal(err)
	}
	dp, ok := v.(DrivingPrivileges)
	if !ok || len(dp) != 2 {
		t.Fatalf("%T %v", v, v)
	}
	if dp[0].VehicleCategoryCode != "A" || *dp[0].IssueDate != (FullDate{2018, 8, 9}) || *dp[0].ExpiryDate != (FullDate{2024, 10, 20}) {
		t.Errorf("%+v", dp[0])
	}
	if dp[1].VehicleCategoryCode != "B" || *dp[1].IssueDate != (FullDate{2017, 2, 23}) {
		t.Errorf("%+v", dp[1])
	}
	enc, err := EncodeElementValue(dp)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeElementValue(ElementDrivingPrivs, enc)
	if err != nil || !reflect.DeepEqual(back, v) {
		t.Errorf("round trip: %v %v", back, err)
	}
	j, _ := json.Marshal(dp[0])
	if string(j) != `{"vehicle_category_code":"A","issue_date":"2018-08-09","expiry_date":"2024-10-20"}` {
		t.Errorf("json %s", j)
	}
	// Under another identifier the same value decodes generically.
	g, err := DecodeElementValue("other", annexDHex(t, "driving_privileges"))
	if err != nil {
		t.Fatal(err)
	}
	arr := g.([]any)
	if arr[0].(map[string]any)["issue_date"] != (FullDate{2018, 8, 9}) {
		t.Errorf("%v", g)
	}
}

func TestDecodeElementValueTypes(t *testing.T) {
	tdate := time.Date(2020, 10, 1, 13, 30, 2, 0, time.UTC)
	cases := []struct {
		hex  string
		want any
	}{
		{"63446f65", "Doe"},
		{"f5", true},
		{"f4", false},
		{"f6", nil},
		{"1818", int64(24)},
		{"38 63", int64(-100)},
		{"43010203", []byte{1, 2, 3}},
		{"d903ec6a323031392d31302d3230", FullDate{2019, 10, 20}},
		{"d86419 4800", FullDate{2020, 6, 19}},
		{"c074323032302d31302d30315431333a33303a30325a", TDate{tdate}},
		{"fb3ff8000000000000", 1.5},
		{"a1616101", map[string]any{"a": int64(1)}},
		{"a10102", map[any]any{int64(1): int64(2)}},
		{"820163616263", []any{int64(1), "abc"}},
		{"c249010000000000000000", new(big.Int).Lsh(big.NewInt(1), 64)},
		{"d82063616263", cbor.Tag{Number: 32, Content: "abc"}},
	}
	for _, c := range cases {
		got, err := DecodeElementValue("x", mustHex(c.hex))
		if err != nil {
			t.Errorf("%s: %v", c.hex, err)
			continue
		}
		if g, ok := got.(TDate); ok {
			if !g.Equal(c.want.(TDate).Time) {
				t.Errorf("%s: %v", c.hex, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v want %#v", c.hex, got, c.want)
		}
	}
}

func TestTDateParsing(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2020-10-01T13:30:02Z":        time.Date(2020, 10, 1, 13, 30, 2, 0, time.UTC),
		"2020-10-01T13:30:02.250Z":    time.Date(2020, 10, 1, 13, 30, 2, 250e6, time.UTC),
		"2020-10-01T15:30:02+02:00":   time.Date(2020, 10, 1, 13, 30, 2, 0, time.UTC),
		"2020-10-01T08:30:02.5-05:00": time.Date(2020, 10, 1, 13, 30, 2, 5e8, time.UTC),
	} {
		d, err := ParseTDate(s)
		if err != nil || !d.Equal(want) {
			t.Errorf("%s: %v %v", s, d, err)
		}
	}
	for _, s := range []string{"2020-10-01", "2020-10-01 13:30:02Z", "yesterday", ""} {
		if _, err := ParseTDate(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	enc, err := TDate{time.Date(2020, 10, 1, 15, 30, 2, 7, time.FixedZone("x", 7200))}.MarshalCBOR()
	if err != nil || !bytes.Equal(enc, mustHex("c074323032302d31302d30315431333a33303a30325a")) {
		t.Errorf("%x %v", enc, err)
	}
}

func TestFullDate(t *testing.T) {
	d, err := ParseFullDate("2024-02-29")
	if err != nil || d.String() != "2024-02-29" {
		t.Fatal(d, err)
	}
	for _, s := range []string{"2023-02-29", "24-02-29", "2024-2-29", "2024-02-29T00:00:00Z"} {
		if _, err := ParseFullDate(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	enc, _ := d.MarshalCBOR()
	var back FullDate
	if err := Unmarshal(enc, &back); err != nil || back != d {
		t.Error(back, err)
	}
	if err := Unmarshal(mustHex("6a323031392d31302d3230"), &back); err == nil {
		t.Error("untagged full-date accepted")
	}
}

func FuzzElementValue(f *testing.F) {
	f.Add(ElementDrivingPrivs, annexDHex(f, "driving_privileges"))
	f.Add("portrait", annexDHex(f, "portrait"))
	f.Add("issue_date", mustHex("d903ec6a323031392d31302d3230"))
	f.Add("x", mustHex("c074323032302d31302d30315431333a33303a30325a"))
	f.Add("x", mustHex("a10102"))
	f.Fuzz(func(t *testing.T, id string, data []byte) {
		v, err := DecodeElementValue(id, data)
		if err != nil {
			return
		}
		// Whatever decodes must encode again (maps with non-text keys
		// too), except a tdate whose UTC year leaves 0000..9999 (a
		// "9999-12-31T23:00:00-02:00" decodes, but cannot be written in
		// the Z form MarshalCBOR uses).
		if _, err := EncodeElementValue(v); err != nil && !hasUnwritableTDate(v) {
			t.Fatalf("re-encoding %T: %v", v, err)
		}
	})
}

// hasUnwritableTDate reports whether v holds, at any depth, a TDate whose UTC
// year MarshalCBOR refuses.
func hasUnwritableTDate(v any) bool {
	switch x := v.(type) {
	case TDate:
		y := x.UTC().Year()
		return y < 0 || y > 9999
	case []any:
		for _, e := range x {
			if hasUnwritableTDate(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasUnwritableTDate(e) {
				return true
			}
		}
	case map[any]any:
		for k, e := range x {
			if hasUnwritableTDate(k) || hasUnwritableTDate(e) {
				return true
			}
		}
	case cbor.Tag:
		// Under a tag the element value does not define, e.g.
		// 22(1(-3472328296227680305)) (found by fuzzing).
		return hasUnwritableTDate(x.Content)
	}
	return false
}

func TestHasUnwritableTDate(t *testing.T) {
	late, err := ParseTDate("9999-12-31T23:00:00-02:00")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EncodeElementValue(late); err == nil {
		t.Fatal("a tdate in year 10000 UTC encoded")
	}
	ok, _ := ParseTDate("2024-01-02T03:04:05Z")
	for _, c := range []struct {
		v    any
		want bool
	}{
		{late, true},
		{ok, false},
		{[]any{1, map[string]any{"a": late}}, true},
		{map[any]any{late: 1}, true},
		{map[any]any{1: []any{ok}}, false},
	} {
		if got := hasUnwritableTDate(c.v); got != c.want {
			t.Errorf("hasUnwritableTDate(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

// checkFullDate holds readFullDate to time.Parse with time.DateOnly: the
// same dates, except that a year written with a sign ("+123", "-001"),
// which time.Parse takes and RFC 3339's 4DIGIT does not, is refused.
func checkFullDate(t *testing.T, s string) {
	got, ok := readFullDate(s)
	if gotB, okB := readFullDate([]byte(s)); gotB != got || okB != ok {
		t.Fatalf("%q: the string and the bytes are read differently", s)
	}
	ref, err := time.Parse(time.DateOnly, s)
	signed := len(s) > 0 && (s[0] == '+' || s[0] == '-')
	switch {
	case ok && err != nil:
		t.Fatalf("%q: read as %v, time.Parse refuses it: %v", s, got, err)
	case ok && got != FullDateOf(ref):
		t.Fatalf("%q: read as %v, time.Parse gives %v", s, got, FullDateOf(ref))
	case !ok && err == nil && len(s) == 10 && !signed:
		t.Fatalf("%q: refused, time.Parse gives %v", s, ref)
	}
	if _, perr := ParseFullDate(s); (perr == nil) != ok {
		t.Fatalf("%q: ParseFullDate error %v, readFullDate %v", s, perr, ok)
	}
}

func fullDateSeeds() []string {
	return []string{"2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-02-29", "9999-12-31",
		"2024-04-31", "2024-13-01", "2024-00-10", "2024-01-00", "2024-1-010", "+123-01-01", "-001-01-01",
		"2024/01/01", "2024-01-01Z", "", "20240101", "２０２４-01-01", "2024-01-1a"}
}

func TestReadFullDateMatchesTimeParse(t *testing.T) {
	for _, s := range fullDateSeeds() {
		checkFullDate(t, s)
	}
	for y := 1896; y <= 2004; y += 4 {
		for m := 1; m <= 12; m++ {
			for d := 27; d <= 32; d++ {
				checkFullDate(t, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
}

func FuzzReadFullDate(f *testing.F) {
	for _, s := range fullDateSeeds() {
		f.Add(s)
	}
	f.Fuzz(checkFullDate)
}

// checkUTCDateTime holds readUTCDateTime to time.Parse with
// time.RFC3339Nano: what it reads, time.Parse reads to the same instant and
// location; the plain UTC form that time.Parse reads, it reads too.
func checkUTCDateTime(t *testing.T, s string) {
	got, ok := readUTCDateTime(s)
	if gotB, okB := readUTCDateTime([]byte(s)); !gotB.Equal(got) || okB != ok {
		t.Fatalf("%q: the string and the bytes are read differently", s)
	}
	ref, err := time.Parse(time.RFC3339Nano, s)
	plain := len(s) == 20 && s[19] == 'Z' && s[0] != '+' && s[0] != '-'
	switch {
	case ok && err != nil:
		t.Fatalf("%q: read as %v, time.Parse refuses it: %v", s, got, err)
	case ok && (got != ref):
		t.Fatalf("%q: read as %#v, time.Parse gives %#v", s, got, ref)
	case !ok && err == nil && plain:
		t.Fatalf("%q: refused, time.Parse gives %v", s, ref)
	}
	if d, err := ParseTDate(s); err == nil && (ok && d.Time != got) {
		t.Fatalf("%q: ParseTDate gives %v", s, d)
	}
}

func utcDateTimeSeeds() []string {
	return []string{"2020-10-01T13:30:02Z", "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z",
		"2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z", "2024-01-01t23:59:59Z", "2024-01-01T23:59:59z",
		"2024-01-01T23:59:59.5Z", "2024-01-01T23:59:59+01:00", "+024-01-01T23:59:59Z", "2024-01-01T2a:59:59Z", ""}
}

func TestReadUTCDateTimeMatchesTimeParse(t *testing.T) {
	for _, s := range utcDateTimeSeeds() {
		checkUTCDateTime(t, s)
	}
}

func FuzzReadUTCDateTime(f *testing.F) {
	for _, s := range utcDateTimeSeeds() {
		f.Add(s)
	}
	f.Fuzz(checkUTCDateTime)
}
