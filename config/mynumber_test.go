package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/idreader/idreader/config"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/policy"
)

const myNumberProfile = `
readers:
  - name: a
    profile: jp-id
trust: [pki/iaca.pem]
profiles:
  jp-id:
    documents:
      - doctype: mnc
        elements:
          org.iso.23220.1.jp: [full_name_unicode, individual_number_unicode]
`

// TestIndividualNumberRefused: a profile that requests the Individual
// Number is refused at load, with the reason, unless
// allow_individual_number is set.
func TestIndividualNumberRefused(t *testing.T) {
	dir := setup(t)
	_, err := config.Load(write(t, dir, myNumberProfile))
	if err == nil {
		t.Fatal("profile requesting individual_number_unicode loaded")
	}
	for _, want := range []string{"idreaderd.yaml:", "profiles.jp-id", "individual_number_unicode", "My Number Act", "allow_individual_number: true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	allowed := strings.Replace(myNumberProfile, "    documents:", "    allow_individual_number: true  # certified program\n    documents:", 1)
	c, err := config.Load(write(t, dir, allowed))
	if err != nil {
		t.Fatalf("allowed profile refused: %v", err)
	}
	if _, err := c.Settings(); err != nil {
		t.Fatalf("settings: %v", err)
	}
}

func TestPolicyIndividualNumber(t *testing.T) {
	p := &policy.Profile{Name: "x", Documents: []policy.DocumentRequest{{DocType: mdoc.DocTypeMyNumberCard,
		Elements: []policy.Element{{Namespace: "org.iso.23220.1.jp", Identifier: "individual_number"}}}}}
	if err := p.Validate(); !errors.Is(err, policy.ErrIndividualNumber) {
		t.Errorf("got %v", err)
	}
	p.AllowIndividualNumber = true
	if err := p.Validate(); err != nil {
		t.Error(err)
	}
}
