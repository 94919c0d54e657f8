package policy

import (
	"errors"
	"fmt"
	"slices"
)

// IndividualNumberElements are the element identifiers under which a
// Japanese My Number card credential may carry the Individual Number (the
// 12-digit "My Number"), in any name space.
var IndividualNumberElements = []string{"individual_number", "individual_number_unicode"}

// ErrIndividualNumber is returned by [Profile.Validate] for a profile that
// requests the Individual Number without AllowIndividualNumber.
//
// Japan's Act on the Use of Numbers to Identify a Specific Individual in
// Administrative Procedures (the My Number Act, articles 19 and 20) forbids
// anyone to ask for, collect or keep another person's Individual Number
// except for the procedures the Act lists (tax, social security and disaster
// response, and the employers and institutions that handle them for those
// purposes). A point of sale or an age check must never request it.
var ErrIndividualNumber = errors.New("policy: profile requests the Individual Number (My Number)")

// IsIndividualNumber reports whether identifier is one of
// [IndividualNumberElements].
func IsIndividualNumber(identifier string) bool {
	return slices.Contains(IndividualNumberElements, identifier)
}

// checkIndividualNumber refuses a profile that requests the Individual
// Number unless it says it runs within a certified program.
func (p *Profile) checkIndividualNumber() error {
	if p.AllowIndividualNumber {
		return nil
	}
	for _, d := range p.Documents {
		for _, e := range d.Elements {
			if IsIndividualNumber(e.Identifier) {
				return fmt.Errorf("%w: profile %q requests %s/%s; Japan's My Number Act restricts "+
					"collecting the Individual Number to the procedures it lists (tax, social security, "+
					"disaster response), so it is refused; a program certified for such a procedure sets "+
					"allow_individual_number: true", ErrIndividualNumber, p.Name, e.Namespace, e.Identifier)
			}
		}
	}
	return nil
}
