package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// flags is the flag handling the subcommands share: a usage error prints the
// message and the usage text to stderr with exit status 2; -h prints the
// usage to stdout with status 0.
type flags struct {
	*flag.FlagSet
	name, usage    string
	stdout, stderr io.Writer
}

func newFlags(name, usage string, stdout, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{FlagSet: fs, name: name, usage: usage, stdout: stdout, stderr: stderr}
}

// usageErr reports a usage error and returns exitUsage.
func (f *flags) usageErr(format string, a ...any) int {
	fmt.Fprintf(f.stderr, "idreader "+f.name+": "+format+"\n", a...)
	fmt.Fprint(f.stderr, f.usage)
	return exitUsage
}

// parseOnly parses args, which must hold flags only. When the command must
// stop here (help asked for, or a usage error) it returns false and the exit
// status.
func (f *flags) parseOnly(args []string) (int, bool) {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(f.stdout, f.usage)
			return exitOK, false
		}
		return f.usageErr("%v", err), false
	}
	if f.NArg() != 0 {
		return f.usageErr("unexpected argument %q", f.Arg(0)), false
	}
	return 0, true
}

// reportTap prints the outcome of a tap as `verify` prints a response: the
// JSON report, or a summary after the heading lines of header (nil for
// none). A tap that failed before verification gets a reject report with
// its reason code. It returns the exit status: 0 accept, 1 reject, 2 error.
func reportTap(stdout, stderr io.Writer, name string, out *terminal.Outcome, err error, asJSON bool, header func(io.Writer)) int {
	var rep verify.Report
	if err != nil {
		rep = terminal.ErrorReport(err)
	} else {
		rep = out.Result.Report()
	}
	switch {
	case asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		var v any = rep
		if out != nil {
			// The report of `verify`, plus the tap's phases in
			// milliseconds.
			v = struct {
				verify.Report
				Timing terminal.Timing `json:"timing"`
			}{rep, out.Timing}
		}
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "idreader %s: %v\n", name, err)
			return exitUsage
		}
	case err != nil:
		fmt.Fprintf(stdout, "verdict: reject\nerror: %s: %s\n", terminal.ErrorCode(err), terminal.ErrorDetail(err))
	default:
		if header != nil {
			header(stdout)
		}
		printSummary(stdout, out.Result, &rep)
	}
	switch {
	case err != nil:
		return exitUsage
	case rep.Verdict != verify.VerdictAccept:
		return exitReject
	}
	return exitOK
}
