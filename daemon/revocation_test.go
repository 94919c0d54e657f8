package daemon

import (
	"testing"

	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/verify"
)

// A tap checks revocation when revocation data is configured or its
// profile is hard; ObserveRevocation sees every query.
func TestRevocationChecker(t *testing.T) {
	soft := &policy.Profile{Name: "p"}
	hard := &policy.Profile{Name: "p", Revocation: revocation.Hard}
	if c := (&Settings{}).revocationChecker(soft); c != nil {
		t.Errorf("soft without data: %v", c)
	}
	c := (&Settings{}).revocationChecker(hard)
	if c == nil {
		t.Fatal("hard without data: no check")
	}
	if r := c.CheckRevocation(verify.RevocationQuery{}); r.Status != verify.RevocationUnknown {
		t.Errorf("hard without data: %+v", r)
	}
	var seen int
	s := &Settings{Revocation: revocation.NewSet(), ObserveRevocation: func(verify.RevocationQuery) { seen++ }}
	c = s.revocationChecker(soft)
	if c == nil {
		t.Fatal("soft with data: no check")
	}
	if r := c.CheckRevocation(verify.RevocationQuery{}); r.Status != verify.RevocationGood || !r.NotProven || seen != 1 {
		t.Errorf("soft with data: %+v, seen %d", r, seen)
	}
}
