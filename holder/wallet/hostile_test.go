package wallet

import "testing"

func TestParseHostile(t *testing.T) {
	for _, m := range HostileModes {
		got, err := ParseHostile(string(m))
		if err != nil || got != m {
			t.Errorf("%s: %v %v", m, got, err)
		}
	}
	if m, err := ParseHostile("none"); err != nil || m != HostileNone {
		t.Errorf("none: %v %v", m, err)
	}
	if _, err := ParseHostile("polite"); err == nil {
		t.Error("unknown mode accepted")
	}
}
