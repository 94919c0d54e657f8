package terminal

import (
	"github.com/idreader/idreader/mdoc"
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
		{DocType: mdoc.DocTypeMDL, NameSpaces: map[string]map[string]bool{
			mdoc.NameSpaceMDL: elements(false, "family_name", "given_name", "birth_date",
				"age_over_18", "age_over_20", "age_over_21", "issuing_country",
				"expiry_date", "portrait"),
		}},
		{DocType: mdoc.DocTypeMyNumberCard, NameSpaces: map[string]map[string]bool{
			mdoc.NameSpace23220JP: elements(false, "full_name_unicode", "birth_date_unicode", "portrait"),
			mdoc.NameSpace23220:   elements(false, "birth_date", "age_over_20"),
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
