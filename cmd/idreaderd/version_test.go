package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	var out, errb bytes.Buffer
	// --version needs no configuration and starts nothing.
	if err := run(context.Background(), []string{"--version"}, &out, &errb); err != nil {
		t.Fatalf("--version: %v %s", err, errb.String())
	}
	line := out.String()
	if !strings.HasPrefix(line, "idreaderd ") || !strings.Contains(line, runtime.Version()) || !strings.Contains(line, "commit ") {
		t.Errorf("version line %q", line)
	}
	if err := run(context.Background(), []string{"--version", "extra"}, &out, &errb); err == nil {
		t.Error("--version with an extra argument accepted")
	}
}
