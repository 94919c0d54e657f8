// Command gen writes the conformance report from a `go test -json` stream
// of internal/conformance on stdin to stdout (see package conformance):
//
//	go test -count=1 -json ./internal/conformance | go run ./internal/conformance/gen > docs/conformance.md
package main

import (
	"fmt"
	"os"

	"github.com/idreader/idreader/internal/conformance"
)

func main() {
	out, err := conformance.Generate(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
