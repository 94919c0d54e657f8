package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idreader/idreader/verify"
	"github.com/idreader/idreader/vical"
)

const vicalUsage = `usage: idreader vical --anchor PEM [--anchor PEM ...] [--now RFC3339] [--json] FILE

Verifies a VICAL (ISO/IEC 18013-5 Annex C, e.g. the AAMVA VICAL): the
COSE_Sign1 signature, the signer certificate's profile (EKU 1.0.18013.5.1.8)
and its chain through the x5chain to an --anchor, the signer chain's validity,
the VICAL's date and nextUpdate at --now; then lists its IACA certificates.
FILE may be binary CBOR or hex text.

  --anchor PEM   VICAL anchor certificate(s) (PEM, DER or hex of DER), repeatable
  --now RFC3339  verification time (default: now)
  --json         print one JSON object

Exit status: 0 the VICAL verifies, 1 it does not, 2 usage or unreadable input.
`

// vicalJSON is the --json output of `idreader vical`.
type vicalJSON struct {
	Provider     string          `json:"provider"`
	Date         *string         `json:"date"`
	IssueID      *uint64         `json:"issueID"`
	NextUpdate   *string         `json:"nextUpdate"`
	Certificates []vicalCertJSON `json:"certificates"`
	Errors       []vicalErrJSON  `json:"errors"`
}

type vicalCertJSON struct {
	Subject   string   `json:"subject"`
	Country   string   `json:"country"`
	DocTypes  []string `json:"docTypes"`
	NotBefore string   `json:"notBefore"`
	NotAfter  string   `json:"notAfter"`
}

type vicalErrJSON struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// runVical implements `idreader vical`.
func runVical(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("vical", vicalUsage, stdout, stderr)
	var anchorPaths stringList
	fs.Var(&anchorPaths, "anchor", "")
	nowStr := fs.String("now", "", "")
	asJSON := fs.Bool("json", false, "")
	positional, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(positional) != 1 {
		return fs.usageErr("exactly one FILE is required")
	}
	if len(anchorPaths) == 0 {
		return fs.usageErr("at least one --anchor is required")
	}
	now, err := parseNow(*nowStr)
	if err != nil {
		return fs.usageErr("--now: %v", err)
	}
	anchors, err := readAnchors(anchorPaths)
	if err != nil {
		fmt.Fprintf(stderr, "idreader vical: %v\n", err)
		return exitUsage
	}
	data, err := readInput(positional[0])
	if err != nil {
		fmt.Fprintf(stderr, "idreader vical: reading VICAL: %v\n", err)
		return exitUsage
	}
	// What the file says, for the listing even when it does not verify;
	// a file that does not even decode has nothing to list.
	parsed, perr := vical.Parse(data)
	var verr error
	if perr == nil {
		_, verr = vical.Verify(data, anchors, now)
	} else {
		verr = perr
	}
	out := vicalOutput(parsed, verr)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "idreader vical: %v\n", err)
			return exitUsage
		}
	} else {
		printVical(stdout, &out, verr == nil)
	}
	if verr != nil {
		return exitReject
	}
	return exitOK
}

// parseInterleaved parses flags that may come before or after positional
// arguments and returns the positional ones; ok false means stop with code.
func parseInterleaved(fs *flags, args []string) (positional []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(fs.stdout, fs.usage)
				return nil, exitOK, false
			}
			return nil, fs.usageErr("%v", err), false
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, 0, true
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// readAnchors reads certificates from each file (PEM, DER or hex of DER).
func readAnchors(paths []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading anchor: %w", err)
		}
		cs, err := verify.ParseCertificates(b)
		if err != nil {
			return nil, fmt.Errorf("reading anchor %s: %w", p, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

func vicalOutput(v *vical.VICAL, err error) vicalJSON {
	out := vicalJSON{Certificates: []vicalCertJSON{}, Errors: []vicalErrJSON{}}
	if v != nil {
		out.Provider = v.Provider
		d := rfc3339(v.Date)
		out.Date = &d
		out.IssueID = v.IssueID
		if !v.NextUpdate.IsZero() {
			n := rfc3339(v.NextUpdate)
			out.NextUpdate = &n
		}
		for i := range v.Entries {
			e := &v.Entries[i]
			out.Certificates = append(out.Certificates, vicalCertJSON{
				Subject:   e.Certificate.Subject.String(),
				Country:   e.Country(),
				DocTypes:  e.DocTypes,
				NotBefore: rfc3339(e.Certificate.NotBefore),
				NotAfter:  rfc3339(e.Certificate.NotAfter),
			})
		}
	}
	for _, p := range vical.Problems(err) {
		out.Errors = append(out.Errors, vicalErrJSON{Code: string(p.Code), Detail: p.Detail})
	}
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// printVical writes the text form; everything taken from the file is
// escaped (see clean).
func printVical(w io.Writer, v *vicalJSON, ok bool) {
	verdict := "verified"
	if !ok {
		verdict = "NOT verified"
	}
	fmt.Fprintf(w, "VICAL: %s\n", verdict)
	if v.Date != nil {
		fmt.Fprintf(w, "provider: %s\ndate: %s\n", clean(v.Provider), *v.Date)
		if v.IssueID != nil {
			fmt.Fprintf(w, "issue ID: %d\n", *v.IssueID)
		}
		if v.NextUpdate != nil {
			fmt.Fprintf(w, "next update: %s\n", *v.NextUpdate)
		}
		fmt.Fprintf(w, "certificates: %d\n", len(v.Certificates))
	}
	for i, c := range v.Certificates {
		docTypes := make([]string, len(c.DocTypes))
		for j, d := range c.DocTypes {
			docTypes[j] = clean(d)
		}
		fmt.Fprintf(w, "  %2d. %s\n      country %s, doc types %s, valid %s to %s\n",
			i+1, clean(c.Subject), clean(c.Country), strings.Join(docTypes, ", "), c.NotBefore, c.NotAfter)
	}
	for _, e := range v.Errors {
		fmt.Fprintf(w, "error [%s]: %s\n", e.Code, clean(e.Detail))
	}
}

// clean escapes what a terminal would interpret in text from a file:
// control characters, format characters (bidirectional overrides and the
// like) and invalid UTF-8 become Go escapes (\x1b, \u202e).
func clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
