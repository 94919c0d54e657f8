package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/rig"
)

// TestReadOperatorErrors: an operator's mistakes are told at once, in one
// line that says what to do, with the code reader_unavailable (not timeout,
// which is a phone's): an unknown reader name lists the readers present;
// pcscd stopped names pcscd, well within 2 s although --timeout is 30 s.
func TestReadOperatorErrors(t *testing.T) {
	info := rig.Require(t)
	bin := buildTool(t)
	dir := t.TempDir()
	run(t, 0, bin, "pki", "--out", dir)
	trust := filepath.Join(dir, "iaca.pem")

	read := func(t *testing.T, name string) (detail string, took time.Duration) {
		t.Helper()
		start := time.Now()
		out := run(t, 2, bin, "read", "--reader", name, "--trust", trust, "--timeout", "30s", "--json")
		took = time.Since(start)
		var rep struct {
			Verdict string
			Errors  []struct{ Code, Detail string }
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("no JSON: %v\n%s", err, out)
		}
		if rep.Verdict != "reject" || len(rep.Errors) != 1 || rep.Errors[0].Code != "reader_unavailable" {
			t.Fatalf("report %s, want one reader_unavailable error", out)
		}
		d := rep.Errors[0].Detail
		if strings.Contains(d, "\n") || strings.Count(d, ": ") > 1 {
			t.Errorf("detail %q is not one plain line", d)
		}
		t.Logf("%v: %s", took.Round(time.Millisecond), d)
		return d, took
	}

	t.Run("unknown-reader", func(t *testing.T) {
		d, took := read(t, "no such reader 00 00")
		if !strings.HasPrefix(d, `no reader named "no such reader 00 00"; readers present: `) {
			t.Errorf("detail %q", d)
		}
		for _, r := range info.Readers {
			if !strings.Contains(d, `"`+r+`"`) {
				t.Errorf("detail %q does not list %q", d, r)
			}
		}
		if took > 2*time.Second {
			t.Errorf("took %v", took)
		}
	})
	t.Run("pcscd-stopped", func(t *testing.T) {
		rig.StopPCSCD(t)
		d, took := read(t, info.Readers[0])
		if d != "pcscd is not running (start it: systemctl start pcscd)" {
			t.Errorf("detail %q", d)
		}
		if took > 2*time.Second {
			t.Errorf("took %v, want under 2 s", took)
		}
		// The human-readable form says the same, once.
		cmdOut := run(t, 2, bin, "read", "--reader", info.Readers[0], "--trust", trust)
		if got := string(cmdOut); strings.Count(got, "pcscd") != 2 || !strings.Contains(got, "error: reader_unavailable: pcscd is not running") {
			t.Errorf("summary %q", got)
		}
	})
}
