package reason

import (
	"strings"
	"testing"
)

// TestEveryCodeHasBothTexts: every code of the registry has an English and
// a Japanese sentence, a meaning and a category, and appears once.
func TestEveryCodeHasBothTexts(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range All() {
		if seen[c] {
			t.Errorf("%q listed twice", c)
		}
		seen[c] = true
		if c.English() == "" || c.English() == UnknownEnglish {
			t.Errorf("%q: no English text", c)
		}
		if c.Japanese() == "" || c.Japanese() == UnknownJapanese {
			t.Errorf("%q: no Japanese text", c)
		}
		if c.Meaning() == "" || c.Category() == CategoryUnknown || !Known(c) {
			t.Errorf("%q: no meaning or category", c)
		}
		if string(c) != strings.ToLower(string(c)) || strings.ContainsAny(string(c), " -") {
			t.Errorf("%q is not a lower-case snake_case code", c)
		}
	}
}

// TestStableValues pins the wire values: they are printed by tools, audit
// records and the point-of-sale API and never change.
func TestStableValues(t *testing.T) {
	want := map[Category][]string{
		CategoryVerification: {"malformed", "issuer_untrusted", "issuer_signature", "certificate_profile", "certificate_validity",
			"mso_validity", "value_digest", "doctype_mismatch", "device_auth", "unsupported", "revoked", "revocation_unknown", "not_returned"},
		CategoryPolicy: {"element_missing", "age_not_met", "document_expired", "doctype_not_allowed", "issuer_not_allowed", "condition_not_met"},
		CategoryTransport: {"removed", "timeout", "wallet_status", "session", "transport", "disconnected", "ble_protocol",
			"ident_mismatch", "not_found", "reader_unavailable"},
		CategoryDaemon: {"cancelled", "config"},
		CategoryTrust:  {"vical_malformed", "vical_signature", "vical_untrusted", "vical_profile", "vical_validity", "vical_stale"},
	}
	n := 0
	for cat, codes := range want {
		for _, c := range codes {
			n++
			if Code(c).Category() != cat {
				t.Errorf("%q: category %v, want %v", c, Code(c).Category(), cat)
			}
		}
	}
	if n != len(All()) {
		t.Errorf("registry has %d codes, the pinned list %d", len(All()), n)
	}
}

func TestTextAndUnknown(t *testing.T) {
	if Text(AgeNotMet, "en") != "Age requirement not met" || Text(AgeNotMet, "ja") != "年齢確認できません" {
		t.Error("age_not_met texts")
	}
	if Text(AgeNotMet, "fr") != AgeNotMet.English() {
		t.Error("another language should fall back to English")
	}
	c := Code("whatever")
	if Known(c) || c.English() != UnknownEnglish || c.Japanese() != UnknownJapanese || c.Meaning() != "" || c.Category() != CategoryUnknown {
		t.Error("unknown code")
	}
	if CategoryUnknown.String() != "unknown" || CategoryVerification.String() != "verification" || CategoryDaemon.String() != "daemon" ||
		CategoryPolicy.String() != "policy" || CategoryTransport.String() != "transport" || CategoryTrust.String() != "trust" {
		t.Error("category names")
	}
}
