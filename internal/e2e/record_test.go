package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/rig"
)

// TestRecordThenReplay records a tap through pcscd + vpcd with `idreader
// read --record` (the simulated wallet as a vpcd card, negotiated handover,
// reader authentication), then verifies the recording offline with
// `idreader replay`: the same verdict and elements, and the APDU transcript
// replays through the terminal.
func TestRecordThenReplay(t *testing.T) {
	info := rig.Require(t)
	bin := buildTool(t)
	for _, tc := range []struct{ handover, auth string }{{"negotiated", "signature"}, {"apple", "mac"}} {
		t.Run(tc.handover+"-"+tc.auth, func(t *testing.T) {
			pkiDir := t.TempDir()
			run(t, 0, bin, "pki", "--out", pkiDir, "--country", "US")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sim := exec.CommandContext(ctx, bin, "sim", "--vpcd", info.VPCD[0], "--pki", pkiDir, "--doctype", "mdl",
				"--handover", tc.handover, "--auth", tc.auth, "--taps", "1")
			var simOut bytes.Buffer
			sim.Stdout, sim.Stderr = &simOut, &simOut
			if err := sim.Start(); err != nil {
				t.Fatal(err)
			}
			recDir := filepath.Join(t.TempDir(), "tap")
			read := run(t, 0, bin, "read", "--reader", info.Readers[0], "--trust", filepath.Join(pkiDir, "iaca.pem"),
				"--reader-cert", pkiDir, "--timeout", "30s", "--json", "--record", recDir, "--record-personal-data")
			if err := sim.Wait(); err != nil {
				t.Errorf("sim: %v\n%s", err, simOut.String())
			}
			var tap struct {
				Verdict   string             `json:"verdict"`
				Documents json.RawMessage    `json:"documents"`
				Timing    map[string]float64 `json:"timing"`
			}
			if err := json.Unmarshal(read, &tap); err != nil {
				t.Fatalf("read printed no JSON: %v\n%s", err, read)
			}
			if tap.Verdict != "accept" {
				t.Fatalf("read: %s", read)
			}
			for _, p := range []string{"detection", "engagement", "session", "request", "transfer", "verification"} {
				if tap.Timing[p] <= 0 {
					t.Errorf("read --json: no %s phase in %v", p, tap.Timing)
				}
			}
			fi, err := os.Stat(filepath.Join(recDir, "device_response.cbor"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("device_response.cbor: %v %v", err, fi)
			}
			replay := run(t, 0, bin, "replay", "--json", recDir)
			var again struct {
				Verdict   string          `json:"verdict"`
				Documents json.RawMessage `json:"documents"`
			}
			if err := json.Unmarshal(replay, &again); err != nil {
				t.Fatal(err)
			}
			if again.Verdict != tap.Verdict || !bytes.Equal(compact(t, again.Documents), compact(t, tap.Documents)) {
				t.Errorf("replay differs from the tap:\nread:   %s\nreplay: %s", tap.Documents, again.Documents)
			}
		})
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
