package pcsc

import (
	"testing"

	"github.com/idreader/idreader/reader"
)

func TestLimitsFor(t *testing.T) {
	short := reader.ExtendedLimits(261, 258)
	other := reader.ExtendedLimits(1000, 1000)
	tests := []struct {
		name string
		opts Options
		want reader.Limits
	}{
		{"nothing configured: vpcd's", Options{}, VPCDLimits()},
		{"default", Options{DefaultLimits: other}, other},
		{"per reader", Options{DefaultLimits: other, Limits: map[string]reader.Limits{"R 00": short}}, short},
		{"other reader gets the default", Options{DefaultLimits: other, Limits: map[string]reader.Limits{"R 01": short}}, other},
	}
	for _, tt := range tests {
		if got := tt.opts.limitsFor("R 00"); got != tt.want {
			t.Errorf("%s: limitsFor = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
