package terminal

import (
	"github.com/idreader/idreader/mdoc"
)

// Doc types and name spaces the terminal requests.
const (
	DocTypeMDL = "org.iso.18013.5.1.mDL"
	// DocTypeMyNumberCard is the Japanese My Number card as Apple Wallet
	// presents it (ISO/IEC 23220 profile).
	DocTypeMyNumberCard = "org.iso.23220.1.jp.mnc"

	NameSpaceMDL     = "org.iso.18013.5.1"
	NameSpace23220   = "org.iso.23220.1"
	NameSpace23220JP = "org.iso.23220.1.jp"
)

// RequestProfile is a named request: which doc types to ask for and which
// elements of each, with IntentToRetain false unless stated (ISO/IEC 18013-5
// clause 8.3.2.1.2.1). It is the request side of a tap; the acceptance side,
// which decides on what was disclosed, is policy.Profile. The reader never
// requests the 12-digit Individual Number.
type RequestProfile struct {
	Name     string
	Requests []mdoc.ItemsRequest
}

// DefaultRequestProfile is the request of the "default" profile: name,
// birth date, age_over elements, issuing country, expiry and portrait of
// whichever document the wallet holds (an mDL or a My Number card).
func DefaultRequestProfile() RequestProfile {
	return RequestProfile{Name: "default", Requests: []mdoc.ItemsRequest{
		{DocType: DocTypeMDL, NameSpaces: map[string]map[string]bool{
			NameSpaceMDL: elements(false, "family_name", "given_name", "birth_date",
				"age_over_18", "age_over_20", "age_over_21", "issuing_country",
				"expiry_date", "portrait"),
		}},
		{DocType: DocTypeMyNumberCard, NameSpaces: map[string]map[string]bool{
			NameSpace23220JP: elements(false, "full_name_unicode", "birth_date_unicode", "portrait"),
			NameSpace23220:   elements(false, "birth_date", "age_over_20"),
		}},
	}}
}

func elements(retain bool, ids ...string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = retain
	}
	return m
}
