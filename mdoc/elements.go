package mdoc

import (
	"errors"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// CBOR tags used by data element values (ISO/IEC 18013-5 clause 7.2.1 and
// RFC 8943).
const (
	// tagTDate is tag 0, a standard date/time string (RFC 8949 3.4.1): tdate.
	tagTDate = 0
	// tagFullDate is tag 1004, an RFC 3339 full-date string (RFC 8943): full-date.
	tagFullDate = 1004
	// tagDaysSinceEpoch is tag 100, days since 1970-01-01 (RFC 8943), an
	// alternative full-date form accepted when decoding.
	tagDaysSinceEpoch = 100
)

// The mDL element identifiers this package decodes to dedicated types
// (ISO/IEC 18013-5 clause 7.2.1, table 5).
const (
	ElementDrivingPrivs   = "driving_privileges"
	ElementIssuingCountry = "issuing_country"
	ElementPortrait       = "portrait"
)

// FullDate is full-date = #6.1004(tstr) "YYYY-MM-DD" (RFC 8943, ISO/IEC
// 18013-5 clause 7.2.1), a calendar date without time or zone.
type FullDate struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseFullDate parses "YYYY-MM-DD" strictly (RFC 3339 full-date).
func ParseFullDate(s string) (FullDate, error) {
	if d, ok := readFullDate(s); ok {
		return d, nil
	}
	if len(s) != 10 {
		return FullDate{}, fmt.Errorf("%w: full-date %q is not YYYY-MM-DD", ErrMalformed, s)
	}
	// Refused: time.Parse says why, in its words; what it takes and
	// readFullDate does not is a year with a sign.
	_, err := time.Parse(time.DateOnly, s)
	if err == nil {
		err = errors.New("the year is not four digits")
	}
	return FullDate{}, fmt.Errorf("%w: full-date %q: %v", ErrMalformed, s, err)
}

// readFullDate reads "YYYY-MM-DD" as time.Parse with time.DateOnly does
// (four-digit year, month 01–12, a day that exists in that month of that
// year), without converting bytes to a string or building a time.Time.
func readFullDate[T string | []byte](s T) (FullDate, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return FullDate{}, false
	}
	y, okY := decimal(s[0:4])
	m, okM := decimal(s[5:7])
	d, okD := decimal(s[8:10])
	if !okY || !okM || !okD || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return FullDate{}, false
	}
	return FullDate{Year: y, Month: time.Month(m), Day: d}, true
}

// decimal reads s, ASCII digits only, as a non-negative number.
func decimal[T string | []byte](s T) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// daysIn is the number of days of month m in year y of the proleptic
// Gregorian calendar.
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// FullDateOf returns the calendar date of t in t's location.
func FullDateOf(t time.Time) FullDate {
	y, m, d := t.Date()
	return FullDate{Year: y, Month: m, Day: d}
}

// String returns "YYYY-MM-DD".
func (d FullDate) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Time returns midnight UTC of the date.
func (d FullDate) Time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// MarshalCBOR encodes the date as #6.1004("YYYY-MM-DD").
func (d FullDate) MarshalCBOR() ([]byte, error) {
	if d.Year < 0 || d.Year > 9999 {
		return nil, fmt.Errorf("mdoc: full-date year %d out of range", d.Year)
	}
	return encMode.Marshal(cbor.Tag{Number: tagFullDate, Content: d.String()})
}

// UnmarshalCBOR decodes #6.1004(tstr) or #6.100(int) (RFC 8943).
func (d *FullDate) UnmarshalCBOR(data []byte) error {
	if s, ok := fullDateText(data); ok {
		v, err := ParseFullDate(s)
		if err != nil {
			return err
		}
		*d = v
		return nil
	}
	var raw cbor.RawTag
	if err := Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decoding full-date: %w", err)
	}
	switch raw.Number {
	case tagFullDate:
		var s string
		if err := Unmarshal(raw.Content, &s); err != nil {
			return fmt.Errorf("decoding full-date: %w", err)
		}
		v, err := ParseFullDate(s)
		if err != nil {
			return err
		}
		*d = v
	case tagDaysSinceEpoch:
		var n int64
		if err := Unmarshal(raw.Content, &n); err != nil {
			return fmt.Errorf("decoding full-date: %w", err)
		}
		// ±3 million days keeps years within 4 digits either side of 1970.
		if n < -719162 || n > 2932896 {
			return fmt.Errorf("%w: full-date day count %d out of range", ErrMalformed, n)
		}
		*d = FullDateOf(time.Unix(0, 0).UTC().AddDate(0, 0, int(n)))
	default:
		return fmt.Errorf("%w: tag %d where full-date (tag 1004) is required", ErrMalformed, raw.Number)
	}
	return nil
}

// MarshalJSON encodes the date as the JSON string "YYYY-MM-DD".
func (d FullDate) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// TDate is tdate = #6.0(tstr), an RFC 3339 date-time (ISO/IEC 18013-5 clause
// 7.2.1 and 9.1.2.4). Decoding accepts fractional seconds and zone offsets;
// encoding writes UTC with "Z" and no fractional seconds, as 18013-5 asks.
type TDate struct {
	time.Time
}

// ParseTDate parses an RFC 3339 date-time, allowing fractions and offsets.
func ParseTDate(s string) (TDate, error) {
	if t, ok := readUTCDateTime(s); ok {
		return TDate{t}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return TDate{}, fmt.Errorf("%w: tdate %q: %v", ErrMalformed, s, err)
	}
	return TDate{t}, nil
}

// readUTCDateTime reads the form issuers write, "YYYY-MM-DDThh:mm:ssZ"
// (clause 9.1.2.4 asks for no fraction and UTC), as time.Parse with
// time.RFC3339Nano reads it, without a string conversion. Any other form,
// and any string it refuses, is left to time.Parse.
func readUTCDateTime[T string | []byte](s T) (time.Time, bool) {
	if len(s) != len("2006-01-02T15:04:05Z") || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return time.Time{}, false
	}
	d, ok := readFullDate(s[:10])
	if !ok {
		return time.Time{}, false
	}
	clock := [3]int{}
	for i := range clock {
		if clock[i], ok = decimal(s[11+3*i : 13+3*i]); !ok {
			return time.Time{}, false
		}
	}
	if clock[0] > 23 || clock[1] > 59 || clock[2] > 59 {
		return time.Time{}, false
	}
	return time.Date(d.Year, d.Month, d.Day, clock[0], clock[1], clock[2], 0, time.UTC), true
}

// String returns the RFC 3339 form written by MarshalCBOR.
func (t TDate) String() string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// MarshalCBOR encodes #6.0("YYYY-MM-DDThh:mm:ssZ").
func (t TDate) MarshalCBOR() ([]byte, error) {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("mdoc: tdate year %d out of range", y)
	}
	return encMode.Marshal(cbor.Tag{Number: tagTDate, Content: t.String()})
}

// UnmarshalCBOR decodes #6.0(tstr). Untagged strings and epoch times (tag 1)
// are rejected: 18013-5 requires tag 0.
func (t *TDate) UnmarshalCBOR(data []byte) error {
	var raw cbor.RawTag
	if err := Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decoding tdate: %w", err)
	}
	if raw.Number != tagTDate {
		return fmt.Errorf("%w: tag %d where tdate (tag 0) is required", ErrMalformed, raw.Number)
	}
	var s string
	if err := Unmarshal(raw.Content, &s); err != nil {
		return fmt.Errorf("decoding tdate: %w", err)
	}
	v, err := ParseTDate(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalJSON encodes the time as an RFC 3339 JSON string (fractions kept).
func (t TDate) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.Format(time.RFC3339Nano) + `"`), nil
}

// DrivingPrivilege is one entry of the driving_privileges element (ISO/IEC
// 18013-5 clause 7.2.4):
//
//	DrivingPrivilege = {"vehicle_category_code": tstr, ? "issue_date": full-date,
//	                    ? "expiry_date": full-date, ? "codes": [+ Code]}
type DrivingPrivilege struct {
	VehicleCategoryCode string      `cbor:"vehicle_category_code" json:"vehicle_category_code"`
	IssueDate           *FullDate   `cbor:"issue_date,omitempty" json:"issue_date,omitempty"`
	ExpiryDate          *FullDate   `cbor:"expiry_date,omitempty" json:"expiry_date,omitempty"`
	Codes               []DriveCode `cbor:"codes,omitempty" json:"codes,omitempty"`
}

// DriveCode is Code = {"code": tstr, ? "sign": tstr, ? "value": tstr} inside a
// DrivingPrivilege (ISO/IEC 18013-5 clause 7.2.4).
type DriveCode struct {
	Code  string `cbor:"code" json:"code"`
	Sign  string `cbor:"sign,omitempty" json:"sign,omitempty"`
	Value string `cbor:"value,omitempty" json:"value,omitempty"`
}

// DrivingPrivileges is the driving_privileges element value: an array of
// DrivingPrivilege.
type DrivingPrivileges []DrivingPrivilege

// ErrUnsupportedValue is wrapped when an element value holds CBOR that has no
// Go form here (a simple value other than false/true/null/undefined, an
// integer beyond int64 that is not a bignum).
var ErrUnsupportedValue = errors.New("mdoc: unsupported element value")

// DecodeElementValue decodes one elementValue (ISO/IEC 18013-5 clause 8.3.2.1.2.2)
// to a typed Go value:
//
//   - tstr → string, bool → bool, null/undefined → nil
//   - uint/nint → int64 (bignum tags 2/3 → *big.Int), float → float64
//   - bstr → []byte; a byte string that is the whole value (a portrait)
//     aliases raw instead of being copied, one inside a map or an array is
//     a copy
//   - full-date #6.1004 (or #6.100) → FullDate, tdate #6.0 → TDate
//   - driving_privileges (by identifier, when it has that shape) → DrivingPrivileges
//   - maps → map[string]any when every key is a text string, otherwise map[any]any
//   - arrays → []any; other tags → cbor.Tag with a decoded Content
//
// The identifier only selects the dedicated type of driving_privileges; every
// other element is decoded by its CBOR shape.
func DecodeElementValue(identifier string, raw []byte) (any, error) {
	if identifier == ElementDrivingPrivs {
		if dp, ok := directDrivingPrivileges(raw); ok {
			return dp, nil
		}
		var dp DrivingPrivileges
		if err := Unmarshal(raw, &dp); err == nil {
			return dp, nil
		}
	}
	if v, ok := directElementValue(raw); ok {
		return v, nil
	}
	var v any
	if err := Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("decoding element %q: %w", identifier, err)
	}
	out, err := normalizeValue(v, 0)
	if err != nil {
		return nil, fmt.Errorf("decoding element %q: %w", identifier, err)
	}
	return out, nil
}

// fullDateText returns the text of data when data is exactly the usual form
// of full-date, #6.1004(tstr) with an untagged, definite-length, valid UTF-8
// text string (RFC 8943): what the generic decoder would hand to
// ParseFullDate. Any other form is left to the generic decoder.
func fullDateText(data []byte) (string, bool) {
	c := cursor(data)
	text, ok := c.fullDateBytes()
	if !ok || len(c) != 0 {
		return "", false
	}
	return string(text), true
}

// fullDateBytes reads #6.1004(tstr), the tag's head in its two-byte form
// and the text string untagged, definite-length and of valid UTF-8, and
// returns the text.
func (c *cursor) fullDateBytes() ([]byte, bool) {
	if len(*c) < 3 || (*c)[0] != 0xd9 || (*c)[1] != tagFullDate>>8 || (*c)[2] != tagFullDate&0xff {
		return nil, false
	}
	*c = (*c)[3:]
	return c.validText()
}

// directElementValue decodes the common element values without the generic
// decoder, to exactly what it and normalizeValue give: a text string
// (string), a byte string ([]byte, aliasing raw), false and true, an integer that
// fits an int64 (int64) and a full-date #6.1004(tstr) (FullDate). raw must
// be that one item and nothing more. ok is false for any other input,
// errors included: the generic decoder then reads it and says why.
func directElementValue(raw []byte) (v any, ok bool) {
	if len(raw) == 0 || len(raw) > MaxMessageSize {
		return nil, false
	}
	switch raw[0] {
	case 0xf4:
		return false, len(raw) == 1
	case 0xf5:
		return true, len(raw) == 1
	}
	c := cursor(raw)
	switch mt, _ := c.peekMajor(); mt {
	case majorText, majorBytes:
		n, ok := c.head(mt)
		if !ok || n != uint64(len(c)) {
			return nil, false
		}
		if mt == majorBytes {
			return []byte(c), true
		}
		if !utf8.Valid(c) {
			return nil, false
		}
		return string(c), true
	case majorUint, majorNint:
		n, ok := c.int64()
		return n, ok && len(c) == 0
	case majorTag:
		text, ok := c.fullDateBytes()
		if !ok || len(c) != 0 {
			return nil, false
		}
		return readFullDate(text)
	}
	return nil, false
}

// directDrivingPrivileges reads driving_privileges (clause 7.2.4) in its
// usual form without the generic decoder, to exactly what Unmarshal into
// DrivingPrivileges gives: a non-empty array of maps whose keys are the
// CDDL's, each once, vehicle_category_code and code present, text values of
// valid UTF-8 and dates in the form #6.1004(tstr). ok is false for any
// other input, errors included: the generic decoder then reads it.
func directDrivingPrivileges(raw []byte) (DrivingPrivileges, bool) {
	if len(raw) > MaxMessageSize {
		return nil, false
	}
	c := cursor(raw)
	n, ok := c.head(majorArray)
	// Every entry takes at least one byte: a count beyond the bytes left
	// is refused before anything is allocated for it.
	if !ok || n == 0 || n > uint64(len(c)) || n > maxArrayElements {
		return nil, false
	}
	out := make(DrivingPrivileges, n)
	for i := range out {
		if !out[i].read(&c) {
			return nil, false
		}
	}
	return out, len(c) == 0
}

// read reads one DrivingPrivilege for directDrivingPrivileges.
func (p *DrivingPrivilege) read(c *cursor) bool {
	n, ok := c.head(majorMap)
	if !ok || n == 0 || n > 4 {
		return false
	}
	var seen uint8
	for ; n > 0; n-- {
		k, ok := c.validText()
		if !ok {
			return false
		}
		var bit uint8
		switch string(k) {
		case "vehicle_category_code":
			bit = 1
			var v []byte
			v, ok = c.validText()
			p.VehicleCategoryCode = string(v)
		case "issue_date":
			bit = 2
			p.IssueDate, ok = c.fullDate()
		case "expiry_date":
			bit = 4
			p.ExpiryDate, ok = c.fullDate()
		case "codes":
			bit = 8
			p.Codes, ok = c.driveCodes()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return seen&1 != 0
}

// driveCodes reads a non-empty array of Code for directDrivingPrivileges.
func (c *cursor) driveCodes() ([]DriveCode, bool) {
	n, ok := c.head(majorArray)
	if !ok || n == 0 || n > uint64(len(*c)) || n > maxArrayElements {
		return nil, false
	}
	out := make([]DriveCode, n)
	for i := range out {
		m, ok := c.head(majorMap)
		if !ok || m == 0 || m > 3 {
			return nil, false
		}
		var seen uint8
		for ; m > 0; m-- {
			k, ok := c.validText()
			if !ok {
				return nil, false
			}
			v, ok := c.validText()
			if !ok {
				return nil, false
			}
			var bit uint8
			switch string(k) {
			case "code":
				bit, out[i].Code = 1, string(v)
			case "sign":
				bit, out[i].Sign = 2, string(v)
			case "value":
				bit, out[i].Value = 4, string(v)
			default:
				return nil, false
			}
			if seen&bit != 0 {
				return nil, false
			}
			seen |= bit
		}
		if seen&1 == 0 {
			return nil, false
		}
	}
	return out, true
}

// validText reads an untagged, definite-length text string of valid UTF-8.
func (c *cursor) validText() ([]byte, bool) {
	n, ok := c.head(majorText)
	if !ok {
		return nil, false
	}
	b, ok := c.take(n)
	return b, ok && utf8.Valid(b)
}

// fullDate reads a full-date in the form #6.1004(tstr) (RFC 8943) that
// ParseFullDate accepts.
func (c *cursor) fullDate() (*FullDate, bool) {
	text, ok := c.fullDateBytes()
	if !ok {
		return nil, false
	}
	d, ok := readFullDate(text)
	if !ok {
		return nil, false
	}
	return &d, true
}

// normalizeValue turns the generic decoder's output into this package's types.
func normalizeValue(v any, depth int) (any, error) {
	if depth > maxNestedLevels {
		return nil, fmt.Errorf("%w: element value nested too deeply", ErrMalformed)
	}
	switch x := v.(type) {
	case nil, bool, string, int64, float64, []byte:
		return x, nil
	case uint64:
		return x, nil
	case float32:
		return float64(x), nil
	case big.Int:
		return &x, nil
	case *big.Int:
		return x, nil
	case time.Time:
		// The generic decoder turns tag 0 and tag 1 into time.Time.
		return TDate{x}, nil
	case cbor.Tag:
		switch x.Number {
		case tagFullDate:
			s, ok := x.Content.(string)
			if !ok {
				return nil, fmt.Errorf("%w: full-date content is not a text string", ErrMalformed)
			}
			return ParseFullDate(s)
		case tagDaysSinceEpoch:
			var d FullDate
			b, err := encMode.Marshal(x)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			if err := d.UnmarshalCBOR(b); err != nil {
				return nil, err
			}
			return d, nil
		}
		c, err := normalizeValue(x.Content, depth+1)
		if err != nil {
			return nil, err
		}
		return cbor.Tag{Number: x.Number, Content: c}, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalizeValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[any]any:
		allText := true
		for k := range x {
			if _, ok := k.(string); !ok {
				allText = false
				break
			}
		}
		if allText {
			out := make(map[string]any, len(x))
			for k, e := range x {
				n, err := normalizeValue(e, depth+1)
				if err != nil {
					return nil, err
				}
				out[k.(string)] = n
			}
			return out, nil
		}
		out := make(map[any]any, len(x))
		for k, e := range x {
			n, err := normalizeValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case cbor.SimpleValue:
		return nil, fmt.Errorf("%w: simple value %d", ErrUnsupportedValue, x)
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedValue, v)
}

// EncodeElementValue encodes a value for an IssuerSignedItem's elementValue
// with the deterministic encoding. FullDate, TDate and DrivingPrivileges
// encode with their 18013-5 tags; time.Time is written as a TDate.
func EncodeElementValue(v any) ([]byte, error) {
	if t, ok := v.(time.Time); ok {
		v = TDate{t}
	}
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("mdoc: encoding element value: %w", err)
	}
	return b, nil
}
