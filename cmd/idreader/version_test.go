package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/idreader/idreader/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	line := out.String()
	if !strings.HasPrefix(line, "idreader ") || !strings.Contains(line, runtime.Version()) || !strings.Contains(line, "commit ") {
		t.Errorf("version line %q", line)
	}

	out.Reset()
	if code := run(context.Background(), []string{"version", "--json"}, &out, &errb); code != exitOK {
		t.Fatalf("--json exit %d: %s", code, errb.String())
	}
	var info buildinfo.Info
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		t.Fatalf("--json output %q: %v", out.String(), err)
	}
	if info != buildinfo.Read() {
		t.Errorf("--json = %+v, want %+v", info, buildinfo.Read())
	}

	if code := run(context.Background(), []string{"version", "extra"}, &out, &errb); code != exitUsage {
		t.Errorf("extra argument: exit %d, want %d", code, exitUsage)
	}
}
