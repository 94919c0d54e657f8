package credential

import (
	"errors"
	"strconv"
	"time"

	"github.com/idreader/idreader/mdoc"
)

// SampleOptions configures [MDL] and [MyNumberCard].
type SampleOptions struct {
	// Now is the day the sample is made; issue and expiry dates and the
	// age elements are computed from it. Required.
	Now time.Time
	// Country is issuing_country (ISO 3166-1 alpha-2); it should equal the
	// Document Signer's countryName. Empty means "US" for the mDL; the My
	// Number Card is always "JP".
	Country string
	// BirthDate overrides the holder's birth date (default 1990-04-15), to
	// make for instance an under-age holder.
	BirthDate time.Time
}

var defaultBirthDate = time.Date(1990, 4, 15, 0, 0, 0, 0, time.UTC)

func (o SampleOptions) prepare() (now, birth time.Time, err error) {
	if o.Now.IsZero() {
		return now, birth, errors.New("credential: sample needs Now")
	}
	now = o.Now.UTC()
	birth = o.BirthDate
	if birth.IsZero() {
		birth = defaultBirthDate
	}
	if birth.After(now) {
		return now, birth, errors.New("credential: sample birth date is after Now")
	}
	return now, birth, nil
}

// ageAt is the age in whole years on day now of someone born on birth.
func ageAt(birth, now time.Time) int {
	age := now.Year() - birth.Year()
	if now.Month() < birth.Month() || (now.Month() == birth.Month() && now.Day() < birth.Day()) {
		age--
	}
	return age
}

// unDistinguishingSign maps a few alpha-2 codes to the distinguishing sign
// of vehicles in international traffic; other codes map to themselves.
func unDistinguishingSign(country string) string {
	switch country {
	case "US":
		return "USA"
	case "JP":
		return "J"
	case "DE":
		return "D"
	case "FR":
		return "F"
	case "GB":
		return "UK"
	case "NL":
		return "NL"
	}
	return country
}

// MDL returns the elements of a sample mDL (namespace org.iso.18013.5.1,
// ISO/IEC 18013-5 7.2.1) for a fictional holder: names, dates, issuing
// country and authority, document number, a drawn portrait, two driving
// privileges, the distinguishing sign and the age elements. Issue it with
// DocType [mdoc.DocTypeMDL].
func MDL(o SampleOptions) ([]Element, error) {
	now, birth, err := o.prepare()
	if err != nil {
		return nil, err
	}
	country := o.Country
	if country == "" {
		country = "US"
	}
	portrait, err := Portrait()
	if err != nil {
		return nil, err
	}
	age := ageAt(birth, now)
	issued := now.AddDate(-1, 0, 0)
	expires := now.AddDate(4, 0, 0)
	privileges := []any{
		map[string]any{
			"vehicle_category_code": "A",
			"issue_date":            FullDate(issued),
			"expiry_date":           FullDate(expires),
		},
		map[string]any{
			"vehicle_category_code": "B",
			"issue_date":            FullDate(issued),
			"expiry_date":           FullDate(expires),
			"codes":                 []any{map[string]any{"code": "01", "sign": "=", "value": "02"}},
		},
	}
	e := func(id string, v any) Element { return Element{Namespace: mdoc.NameSpaceMDL, Identifier: id, Value: v} }
	return []Element{
		e("family_name", "Sample"),
		e("given_name", "Robin"),
		e("birth_date", FullDate(birth)),
		e("issue_date", FullDate(issued)),
		e("expiry_date", FullDate(expires)),
		e("issuing_country", country),
		e("issuing_authority", "idreader Test Licensing Authority"),
		e("document_number", "TEST0000001"),
		e("portrait", portrait),
		e("driving_privileges", privileges),
		e("un_distinguishing_sign", unDistinguishingSign(country)),
		e("age_over_18", age >= 18),
		e("age_over_20", age >= 20),
		e("age_over_21", age >= 21),
		e("age_in_years", age),
		e("age_birth_year", birth.Year()),
	}, nil
}

// MyNumberCard returns the elements of a sample Japanese My Number Card as
// Apple Wallet presents it (docType [mdoc.DocTypeMyNumberCard]): in
// org.iso.23220.1.jp the Unicode name and address, the local government
// code, the portrait, sex and birth date as printed; in org.iso.23220.1 sex
// (ISO/IEC 5218), age_over_20, age_in_years, birth_date (full-date) and
// issuing_country "JP". All values are fictional.
//
// It never contains the Individual Number (the 12-digit My Number): its use
// is restricted by Japanese law and a sample has no reason to carry one.
func MyNumberCard(o SampleOptions) ([]Element, error) {
	now, birth, err := o.prepare()
	if err != nil {
		return nil, err
	}
	portrait, err := Portrait()
	if err != nil {
		return nil, err
	}
	age := ageAt(birth, now)
	jp := func(id string, v any) Element {
		return Element{Namespace: mdoc.NameSpace23220JP, Identifier: id, Value: v}
	}
	cm := func(id string, v any) Element {
		return Element{Namespace: mdoc.NameSpace23220, Identifier: id, Value: v}
	}
	return []Element{
		jp("full_name_unicode", "見本 花子"),
		jp("resident_address_unicode", "東京都千代田区見本町一丁目2番3号"),
		jp("local_gov_code_unicode", "131016"),
		jp("portrait", portrait),
		jp("sex_unicode", "女"),
		jp("birth_date_unicode", japaneseDate(birth)),
		cm("sex", 2), // ISO/IEC 5218: 2 = female
		cm("age_over_20", age >= 20),
		cm("age_in_years", age),
		cm("birth_date", FullDate(birth)),
		cm("issuing_country", "JP"),
	}, nil
}

// japaneseDate writes a date the way it is printed on the card, with the
// Japanese era name (Showa, Heisei, Reiwa), e.g. "平成2年4月15日".
func japaneseDate(t time.Time) string {
	type era struct {
		name  string
		start time.Time
	}
	eras := []era{
		{"令和", time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"平成", time.Date(1989, 1, 8, 0, 0, 0, 0, time.UTC)},
		{"昭和", time.Date(1926, 12, 25, 0, 0, 0, 0, time.UTC)},
	}
	for _, e := range eras {
		if !t.Before(e.start) {
			y := t.Year() - e.start.Year() + 1
			ys := strconv.Itoa(y) + "年"
			if y == 1 {
				ys = "元年"
			}
			return e.name + ys + strconv.Itoa(int(t.Month())) + "月" + strconv.Itoa(t.Day()) + "日"
		}
	}
	return t.Format(time.DateOnly)
}
