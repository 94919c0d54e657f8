package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/revocation"
)

// Element is one data element a profile requests (ISO/IEC 18013-5 clause
// 8.3.2.1.2.1, ItemsRequest nameSpaces).
type Element struct {
	Namespace  string
	Identifier string
	// IntentToRetain tells the holder the reader keeps the value; false
	// unless the profile says otherwise.
	IntentToRetain bool
}

// DocumentRequest is one accepted doc type and the elements requested of it.
type DocumentRequest struct {
	DocType  string
	Elements []Element
}

// Display says what the kiosk display may show a clerk after a tap.
type Display struct {
	Portrait bool
	Name     bool
}

// Profile is a declarative acceptance profile. Conditions name element
// identifiers, looked up in every name space of the disclosed document, so
// one profile serves doc types whose name spaces differ (age_over_20 is in
// org.iso.18013.5.1 for an mDL and in org.iso.23220.1 for a My Number card).
type Profile struct {
	Name string
	// Documents are the doc types accepted, in the order requested. A
	// response document of any other doc type is not accepted.
	Documents []DocumentRequest
	// RequirePresent lists elements that must be disclosed.
	RequirePresent []string
	// RequireTrue lists elements that must be disclosed and true. For
	// age_over_NN the implied answers of ISO/IEC 18013-5 clause 7.2.5 count
	// (see Decide).
	RequireTrue []string
	// NotExpired rejects a document whose expiry_date has passed; a
	// document whose request includes expiry_date must disclose it.
	NotExpired bool
	// IssuerCountries, when not empty, lists the ISO 3166-1 alpha-2
	// countries whose issuers are accepted (the document signer's
	// countryName, which verification ties to issuing_country).
	IssuerCountries []string
	// RequirePortrait demands a non-empty portrait.
	RequirePortrait bool
	// Display is what the kiosk display may show.
	Display Display
	// ReaderIdentity names the reader certificate and key to authenticate
	// with (clause 9.1.4); empty means the reader's default.
	ReaderIdentity string
	// AllowIndividualNumber lets the profile request the Japanese
	// Individual Number (see [ErrIndividualNumber]); only for a program the
	// My Number Act permits to collect it.
	AllowIndividualNumber bool
	// Revocation is the rule for a document whose revocation state is
	// unknown (no fresh CRL or status list): revocation.Hard rejects it
	// with revocation_unknown, revocation.Soft (also the zero value)
	// accepts it and reports the check "revocation" as not proven.
	Revocation revocation.Mode
}

// RevocationMode returns the profile's revocation rule, Soft when unset.
func (p *Profile) RevocationMode() revocation.Mode {
	if p.Revocation == "" {
		return revocation.Soft
	}
	return p.Revocation
}

// ItemsRequests returns the ItemsRequest of each doc type, in order (ISO/IEC
// 18013-5 clause 8.3.2.1.2.1).
func (p *Profile) ItemsRequests() []mdoc.ItemsRequest {
	out := make([]mdoc.ItemsRequest, 0, len(p.Documents))
	for _, d := range p.Documents {
		ns := map[string]map[string]bool{}
		for _, e := range d.Elements {
			if ns[e.Namespace] == nil {
				ns[e.Namespace] = map[string]bool{}
			}
			ns[e.Namespace][e.Identifier] = e.IntentToRetain
		}
		out = append(out, mdoc.ItemsRequest{DocType: d.DocType, NameSpaces: ns})
	}
	return out
}

// Requests reports whether the profile requests element id of docType.
func (p *Profile) Requests(docType, id string) bool {
	for _, d := range p.Documents {
		if d.DocType != docType {
			continue
		}
		for _, e := range d.Elements {
			if e.Identifier == id {
				return true
			}
		}
	}
	return false
}

var ageOverRE = regexp.MustCompile(`^age_over_([0-9]{2})$`)

// AgeOver returns NN of an age_over_NN identifier (ISO/IEC 18013-5 clause
// 7.2.5: two digits).
func AgeOver(id string) (int, bool) {
	m := ageOverRE.FindStringSubmatch(id)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	return n, true
}

// Validate checks that the profile is usable: a name, at least one doc
// type, each with at least one element, no doc type twice, and conditions
// that name requested elements.
func (p *Profile) Validate() error {
	if p.Name == "" {
		return fmt.Errorf("policy: profile without a name")
	}
	if len(p.Documents) == 0 {
		return fmt.Errorf("policy: profile %q accepts no doc type", p.Name)
	}
	var seen []string
	for _, d := range p.Documents {
		if d.DocType == "" {
			return fmt.Errorf("policy: profile %q: empty doc type", p.Name)
		}
		if slices.Contains(seen, d.DocType) {
			return fmt.Errorf("policy: profile %q: doc type %s listed twice", p.Name, d.DocType)
		}
		seen = append(seen, d.DocType)
		if len(d.Elements) == 0 {
			return fmt.Errorf("policy: profile %q: no elements requested for %s", p.Name, d.DocType)
		}
		for _, e := range d.Elements {
			if e.Namespace == "" || e.Identifier == "" {
				return fmt.Errorf("policy: profile %q: %s: element without a name space or identifier", p.Name, d.DocType)
			}
		}
	}
	if err := p.checkIndividualNumber(); err != nil {
		return err
	}
	requested := func(id string) bool {
		for _, d := range p.Documents {
			if p.Requests(d.DocType, id) {
				return true
			}
		}
		return false
	}
	for _, id := range p.RequirePresent {
		if !requested(id) {
			return fmt.Errorf("policy: profile %q requires %s but never requests it", p.Name, id)
		}
	}
	for _, id := range p.RequireTrue {
		if !requested(id) {
			return fmt.Errorf("policy: profile %q requires %s true but never requests it", p.Name, id)
		}
	}
	if p.RequirePortrait && !requested("portrait") {
		return fmt.Errorf("policy: profile %q requires a portrait but never requests it", p.Name)
	}
	if _, err := revocation.ParseMode(string(p.Revocation)); err != nil {
		return fmt.Errorf("policy: profile %q: %w", p.Name, err)
	}
	for _, c := range p.IssuerCountries {
		if len(c) != 2 || strings.ToUpper(c) != c {
			return fmt.Errorf("policy: profile %q: issuer country %q is not an ISO 3166-1 alpha-2 code", p.Name, c)
		}
	}
	return nil
}

// Clone returns a deep copy of the profile.
func (p *Profile) Clone() *Profile {
	q := *p
	q.Documents = make([]DocumentRequest, len(p.Documents))
	for i, d := range p.Documents {
		q.Documents[i] = DocumentRequest{DocType: d.DocType, Elements: slices.Clone(d.Elements)}
	}
	q.RequirePresent = slices.Clone(p.RequirePresent)
	q.RequireTrue = slices.Clone(p.RequireTrue)
	q.IssuerCountries = slices.Clone(p.IssuerCountries)
	return &q
}

func elems(ns string, ids ...string) []Element {
	out := make([]Element, len(ids))
	for i, id := range ids {
		out[i] = Element{Namespace: ns, Identifier: id}
	}
	return out
}

// Builtin returns the built-in profiles, fresh copies each call:
//
//   - age-20: Japan's age check. My Number card and mDL; age_over_20 and the
//     portrait, nothing retained; the portrait is required and age_over_20
//     must be true.
//   - age-21: the US age check. mDL from a US issuer; age_over_21 and the
//     portrait; expiry_date must not have passed.
//   - identity: name, birth date, address, portrait and document number of
//     an mDL (or the My Number card's equivalents); the display shows the
//     portrait and the name so the clerk can compare faces.
func Builtin() map[string]*Profile {
	return map[string]*Profile{
		"age-20": {
			Name: "age-20",
			Documents: []DocumentRequest{
				{DocType: mdoc.DocTypeMyNumberCard, Elements: append(elems(mdoc.NameSpace23220, "age_over_20"), elems(mdoc.NameSpace23220JP, "portrait")...)},
				{DocType: mdoc.DocTypeMDL, Elements: elems(mdoc.NameSpaceMDL, "age_over_20", "portrait")},
			},
			RequireTrue:     []string{"age_over_20"},
			RequirePortrait: true,
		},
		"age-21": {
			Name: "age-21",
			Documents: []DocumentRequest{
				{DocType: mdoc.DocTypeMDL, Elements: elems(mdoc.NameSpaceMDL, "age_over_21", "portrait", "expiry_date")},
			},
			RequireTrue:     []string{"age_over_21"},
			RequirePortrait: true,
			NotExpired:      true,
			IssuerCountries: []string{"US"},
		},
		"identity": {
			Name: "identity",
			Documents: []DocumentRequest{
				{DocType: mdoc.DocTypeMDL, Elements: elems(mdoc.NameSpaceMDL, "family_name", "given_name", "birth_date",
					"resident_address", "portrait", "document_number", "issuing_country", "expiry_date")},
				{DocType: mdoc.DocTypeMyNumberCard, Elements: append(elems(mdoc.NameSpace23220JP, "full_name_unicode",
					"birth_date_unicode", "resident_address_unicode", "portrait"), elems(mdoc.NameSpace23220, "birth_date")...)},
			},
			RequirePresent:  []string{"birth_date"},
			RequirePortrait: true,
			NotExpired:      true,
			Display:         Display{Portrait: true, Name: true},
		},
	}
}
