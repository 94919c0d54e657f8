package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/rig"
)

// buildTool builds cmd/idreader for the test.
func buildTool(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "idreader")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/idreader/idreader/cmd/idreader")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building idreader: %v\n%s", err, out)
	}
	return bin
}

// TestCommandLine drives the contracts other tools depend on, as an operator
// would: `idreader pki`, `idreader sim` as a vpcd card, `idreader read` on
// the PC/SC reader, and checks the JSON and the exit status.
func TestCommandLine(t *testing.T) {
	info := rig.Require(t)
	bin := buildTool(t)
	cases := []struct {
		name, country, doctype, handover, auth string
		fault, profile                         string
		wantExit                               int
		wantVerdict, wantDocType, wantCode     string
		// wantElements, when set, is exactly what the report may hold.
		wantElements []string
	}{
		{name: "mnc-apple-mac", country: "JP", doctype: "mnc", handover: "apple", auth: "mac",
			wantVerdict: "accept", wantDocType: "org.iso.23220.1.jp.mnc"},
		{name: "mdl-static-signature", country: "US", doctype: "mdl", handover: "static", auth: "signature",
			wantVerdict: "accept", wantDocType: "org.iso.18013.5.1.mDL"},
		{name: "mdl-negotiated-tamper", country: "US", doctype: "mdl", handover: "negotiated", auth: "signature",
			fault: "tamper", wantExit: 1, wantVerdict: "reject", wantCode: "value_digest"},
		// The wallet holds the mDL but answers with documentErrors only.
		{name: "mdl-withhold", country: "US", doctype: "mdl", handover: "static", auth: "signature",
			fault: "withhold", profile: "age-21", wantExit: 1, wantVerdict: "reject", wantCode: "not_returned"},
		// The wallet discloses all its elements for a one-element request.
		{name: "mdl-overdisclose", country: "US", doctype: "mdl", handover: "negotiated", auth: "signature",
			fault: "overdisclose", profile: "age-21", wantVerdict: "accept", wantDocType: "org.iso.18013.5.1.mDL",
			wantElements: []string{"org.iso.18013.5.1/age_over_21", "org.iso.18013.5.1/expiry_date", "org.iso.18013.5.1/portrait"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			run(t, 0, bin, "pki", "--out", dir, "--country", tc.country)
			if _, err := os.Stat(filepath.Join(dir, "iaca.pem")); err != nil {
				t.Fatalf("pki wrote no iaca.pem: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			simArgs := []string{"sim", "--vpcd", info.VPCD[0], "--pki", dir, "--doctype", tc.doctype,
				"--handover", tc.handover, "--auth", tc.auth, "--taps", "1"}
			if tc.fault != "" {
				simArgs = append(simArgs, "--fault", tc.fault)
			}
			sim := exec.CommandContext(ctx, bin, simArgs...)
			var simOut bytes.Buffer
			sim.Stdout, sim.Stderr = &simOut, &simOut
			if err := sim.Start(); err != nil {
				t.Fatal(err)
			}
			readArgs := []string{"read", "--reader", info.Readers[0],
				"--trust", filepath.Join(dir, "iaca.pem"), "--reader-cert", dir, "--timeout", "30s", "--json"}
			if tc.profile != "" {
				readArgs = append(readArgs, "--profile", tc.profile)
			}
			out := run(t, tc.wantExit, bin, readArgs...)
			if err := sim.Wait(); err != nil {
				t.Errorf("sim: %v\n%s", err, simOut.String())
			}
			var rep struct {
				Verdict   string
				Documents []struct {
					DocType  string
					Elements map[string]map[string]any
				}
				Errors []struct{ Code, Detail string }
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("read printed no JSON: %v\n%s", err, out)
			}
			if rep.Verdict != tc.wantVerdict {
				t.Fatalf("verdict %q, want %q: %s", rep.Verdict, tc.wantVerdict, out)
			}
			if tc.wantDocType != "" && (len(rep.Documents) != 1 || rep.Documents[0].DocType != tc.wantDocType) {
				t.Fatalf("documents %+v, want one %s", rep.Documents, tc.wantDocType)
			}
			if tc.wantCode != "" && (len(rep.Errors) == 0 || rep.Errors[0].Code != tc.wantCode) {
				t.Fatalf("errors %+v, want code %s", rep.Errors, tc.wantCode)
			}
			if tc.wantElements != nil {
				if got := flatten(rep.Documents); !slices.Equal(slices.Sorted(slices.Values(got)), tc.wantElements) {
					t.Errorf("elements %v, want exactly %v", got, tc.wantElements)
				}
			}
			for _, ids := range flatten(rep.Documents) {
				if strings.Contains(ids, "individual") || strings.Contains(ids, "my_number") {
					t.Errorf("the reader requested or received an Individual Number element: %s", ids)
				}
			}
		})
	}
	t.Run("no-tap-times-out", func(t *testing.T) {
		dir := t.TempDir()
		run(t, 0, bin, "pki", "--out", dir)
		out := run(t, 2, bin, "read", "--reader", info.Readers[0],
			"--trust", filepath.Join(dir, "iaca.pem"), "--timeout", "1s", "--json")
		if !bytes.Contains(out, []byte(`"timeout"`)) {
			t.Errorf("no timeout code in %s", out)
		}
	})
}

func flatten(docs []struct {
	DocType  string
	Elements map[string]map[string]any
}) []string {
	var ids []string
	for _, d := range docs {
		for ns, els := range d.Elements {
			for id := range els {
				ids = append(ids, ns+"/"+id)
			}
		}
	}
	return ids
}

// run executes the tool and checks its exit status; it returns stdout.
func run(t *testing.T, wantExit int, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	if code != wantExit {
		t.Fatalf("idreader %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantExit, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}
