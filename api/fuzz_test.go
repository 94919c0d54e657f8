package api

import (
	"strings"
	"testing"
	"time"
)

// FuzzDecodeCheckRequest: the check request decoder never panics, and what
// it accepts is a usable request.
func FuzzDecodeCheckRequest(f *testing.F) {
	for _, s := range []string{
		`{"profile":"age-20"}`,
		`{"profile":"identity","timeout":"30s","reader":"counter-1"}`,
		`{"profile":"age-21","timeout":12.5}`,
		`{"profile":"x","timeout":null}`,
		`{"profile":"x","timeout":"-1s"}`,
		`{"profile":"x","timeout":1e300}`,
		`{"profile":"x"} trailing`,
		`{"profile":"\u0007"}`,
		`{"profile":1}`,
		`[]`, ``, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		req, err := decodeCheckRequest(strings.NewReader(in), 30*time.Second, 5*time.Minute)
		if err != nil {
			return
		}
		if req.Profile == "" || len(req.Profile) > maxNameLen || len(req.Reader) > maxNameLen {
			t.Fatalf("accepted %+v", req)
		}
		if req.Timeout <= 0 || req.Timeout > 5*time.Minute {
			t.Fatalf("accepted timeout %v", req.Timeout)
		}
	})
}
