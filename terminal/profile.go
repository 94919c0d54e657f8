package terminal

import (
	"fmt"
	"sort"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/policy"
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

// Profile is a named request: which doc types to ask for and which elements
// of each, with IntentToRetain false unless stated (ISO/IEC 18013-5 clause
// 8.3.2.1.2.1). The reader never requests the 12-digit Individual Number.
type Profile struct {
	Name     string
	Requests []mdoc.ItemsRequest
}

func elements(retain bool, ids ...string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = retain
	}
	return m
}

// builtinProfiles are the profiles `idreader read --profile` knows: default
// and the acceptance profiles of policy.Builtin (age-20, age-21, identity),
// whose requests they share.
var builtinProfiles = map[string]func() Profile{
	// default: name, birth date, age_over elements, issuing country, expiry
	// and portrait of whichever document the wallet holds.
	"default": func() Profile {
		return Profile{Name: "default", Requests: []mdoc.ItemsRequest{
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
	},
	"age-20":   builtinRequest("age-20"),
	"age-21":   builtinRequest("age-21"),
	"identity": builtinRequest("identity"),
}

// builtinRequest is the request side of the built-in acceptance profile name.
func builtinRequest(name string) func() Profile {
	return func() Profile { return RequestProfile(policy.Builtin()[name]) }
}

// RequestProfile returns the request side of an acceptance profile: its doc
// types and elements, with their IntentToRetain (ISO/IEC 18013-5 clause
// 8.3.2.1.2.1).
func RequestProfile(p *policy.Profile) Profile {
	return Profile{Name: p.Name, Requests: p.ItemsRequests()}
}

// LookupProfile returns a built-in profile by name ("" means "default").
func LookupProfile(name string) (Profile, error) {
	if name == "" {
		name = "default"
	}
	f, ok := builtinProfiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("terminal: unknown profile %q (known: %v)", name, ProfileNames())
	}
	return f(), nil
}

// ProfileNames lists the built-in profiles, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(builtinProfiles))
	for n := range builtinProfiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
