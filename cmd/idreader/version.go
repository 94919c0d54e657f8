package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/idreader/idreader/internal/buildinfo"
)

// runVersion prints the version, the source commit and the Go version of
// this binary, as one line or (--json) one object.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("idreader version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print {\"version\", \"commit\", \"goversion\"}")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "idreader version: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	info := buildinfo.Read()
	if *asJSON {
		b, err := json.Marshal(info)
		if err != nil {
			fmt.Fprintln(stderr, "idreader version:", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintln(stdout, "idreader", info)
	return exitOK
}
