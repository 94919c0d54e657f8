package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/idreader/idreader/internal/printsafe"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/verify"
	"github.com/idreader/idreader/vical"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

const verifyUsage = `usage: idreader verify [--trust PATH ...] [--vical FILE ... --vical-anchor PEM ...] [--transcript FILE]
                       [--reader-key FILE] [--request FILE] [--crl FILE ...] [--revocation hard|soft]
                       [--now RFC3339] [--json] RESPONSE_FILE

Verifies an ISO/IEC 18013-5 DeviceResponse offline: issuer chain to an IACA,
issuerAuth, MSO validity, value digests, docType and device authentication.
Input files may be binary CBOR/DER or hex text.

  --trust PATH       IACA certificate (PEM, DER or hex of DER) or a directory of them
  --vical FILE       a VICAL (ISO/IEC 18013-5 Annex C): its IACAs are trusted for the doc
                     types it lists them for, once it verifies (as 'idreader vical' does) at --now
  --vical-anchor PEM anchor certificate of the VICAL signers (needed with --vical)
  --transcript FILE  SessionTranscript, tag-24 wrapped or bare (needed for device authentication)
  --reader-key FILE  reader ephemeral private key, PEM (SEC1/PKCS#8) or JWK (needed for deviceMac)
  --request FILE     the DeviceRequest that was sent: only the elements it asked for are reported,
                     the others are verified and counted but never shown
  --crl FILE         CRL of a trusted IACA (DER, PEM or hex); a DS it lists is rejected as revoked.
                     A CRL whose signature does not verify against a --trust IACA is an input error
  --revocation MODE  hard: an unknown revocation state (no fresh CRL or status list) rejects with
                     revocation_unknown; soft (default): accepted, the check reads "not proven".
                     Without --crl and --revocation revocation is not checked
  --now RFC3339      verification time (default: now)
  --json             print one JSON object

Exit status: 0 accept, 1 reject, 2 usage or unreadable input.
`

// runVerify implements `idreader verify`.
func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", verifyUsage, stdout, stderr)
	var trust, vicals, vicalAnchors stringList
	fs.Var(&trust, "trust", "")
	fs.Var(&vicals, "vical", "")
	fs.Var(&vicalAnchors, "vical-anchor", "")
	transcriptPath := fs.String("transcript", "", "")
	readerKeyPath := fs.String("reader-key", "", "")
	requestPath := fs.String("request", "", "")
	var crls stringList
	fs.Var(&crls, "crl", "")
	modeStr := fs.String("revocation", "", "")
	nowStr := fs.String("now", "", "")
	asJSON := fs.Bool("json", false, "")
	usageErr := fs.usageErr
	// Flags may come before or after the response file.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, verifyUsage)
				return exitOK
			}
			return usageErr("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if len(positional) != 1 {
		return usageErr("exactly one RESPONSE_FILE is required")
	}
	if len(trust) == 0 && len(vicals) == 0 {
		return usageErr("at least one --trust or --vical is required")
	}
	if len(vicals) > 0 && len(vicalAnchors) == 0 {
		return usageErr("--vical needs --vical-anchor")
	}
	mode, err := revocation.ParseMode(*modeStr)
	if err != nil {
		return usageErr("--revocation: want hard or soft, got %q", *modeStr)
	}
	now := time.Now()
	if *nowStr != "" {
		t, err := time.Parse(time.RFC3339Nano, *nowStr)
		if err != nil {
			return usageErr("--now: %v", err)
		}
		now = t
	}

	store := verify.NewTrustStore()
	if len(trust) > 0 {
		var err error
		if store, err = verify.LoadTrustStore(trust...); err != nil {
			fmt.Fprintf(stderr, "idreader verify: %v\n", err)
			return exitUsage
		}
	}
	if err := addVICALs(store, vicals, vicalAnchors, now); err != nil {
		fmt.Fprintf(stderr, "idreader verify: %v\n", err)
		return exitUsage
	}
	opts := verify.Options{Trust: store, Now: now}
	if len(crls) > 0 || *modeStr != "" {
		set := revocation.NewSet()
		for _, f := range crls {
			data, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintf(stderr, "idreader verify: reading CRL %s: %v\n", f, err)
				return exitUsage
			}
			crl, err := revocation.LoadCRL(data, store.Certificates())
			if err != nil {
				fmt.Fprintf(stderr, "idreader verify: CRL %s: %v\n", f, err)
				return exitUsage
			}
			set.AddCRL(crl, time.Time{})
		}
		opts.Revocation = revocation.Checker{Set: set, Mode: mode}
	}
	if *transcriptPath != "" {
		if opts.SessionTranscript, err = readInput(*transcriptPath); err != nil {
			fmt.Fprintf(stderr, "idreader verify: reading transcript: %v\n", err)
			return exitUsage
		}
	}
	if *readerKeyPath != "" {
		if opts.ReaderKey, err = readECDHKey(*readerKeyPath); err != nil {
			fmt.Fprintf(stderr, "idreader verify: reading reader key %s: %v\n", *readerKeyPath, err)
			return exitUsage
		}
	}
	if *requestPath != "" {
		b, err := readInput(*requestPath)
		if err != nil {
			fmt.Fprintf(stderr, "idreader verify: reading request: %v\n", err)
			return exitUsage
		}
		dr, err := mdoc.ParseDeviceRequest(b)
		if err != nil {
			fmt.Fprintf(stderr, "idreader verify: reading request %s: %v\n", *requestPath, err)
			return exitUsage
		}
		for _, d := range dr.DocRequests {
			opts.Request = append(opts.Request, d.ItemsRequest)
		}
	}
	resp, err := readInput(positional[0])
	if err != nil {
		fmt.Fprintf(stderr, "idreader verify: reading response: %v\n", err)
		return exitUsage
	}

	res, _ := verify.Verify(resp, opts)
	rep := res.Report()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "idreader verify: %v\n", err)
			return exitUsage
		}
	} else {
		printSummary(stdout, res, &rep)
	}
	if rep.Verdict != verify.VerdictAccept {
		return exitReject
	}
	return exitOK
}

// addVICALs verifies each VICAL file against the anchors at now and adds
// its IACAs to store with their doc-type limits. A VICAL that does not
// verify, stale ones included, is an input error naming the file.
func addVICALs(store *verify.TrustStore, files, anchorPaths []string, now time.Time) error {
	if len(files) == 0 {
		return nil
	}
	anchors, err := readAnchors(anchorPaths)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := readInput(f)
		if err != nil {
			return fmt.Errorf("reading VICAL: %w", err)
		}
		v, err := vical.Verify(data, anchors, now)
		if err != nil {
			var msgs []string
			for _, p := range vical.Problems(err) {
				msgs = append(msgs, fmt.Sprintf("[%s] %s", p.Code, clean(p.Detail)))
			}
			return fmt.Errorf("VICAL %s does not verify: %s", f, strings.Join(msgs, "; "))
		}
		v.AddTo(store, "")
	}
	return nil
}

// printSummary writes the human-readable form: verdict, documents with
// issuer and elements (byte strings as their length; device-signed elements
// under their own heading), failed checks, errors. Everything that came from
// the phone is escaped (printsafe): a doc type holding ESC[2J cannot repaint
// the terminal, and an unproven one is cut.
func printSummary(w io.Writer, res *verify.Result, rep *verify.Report) {
	fmt.Fprintf(w, "verdict: %s\n", rep.Verdict)
	for i := range res.Documents {
		d := &res.Documents[i]
		fmt.Fprintf(w, "document: %s\n", printsafe.Escape(d.ReportedDocType()))
		fmt.Fprintf(w, "  issuer: %s (country %s)\n", printsafe.Clip(d.Issuer.Subject, 0), printsafe.Clip(d.Issuer.Country, 0))
		fmt.Fprintf(w, "  device auth: %s\n", d.DeviceAuth)
		printElements(w, d.Elements, false, "")
		printElements(w, d.Elements, true, "device-signed ")
		for _, n := range d.NotReturned {
			fmt.Fprintf(w, "  not returned: %s/%s (error code %d)\n", printsafe.Clip(n.Namespace, 0), printsafe.Clip(n.Identifier, 0), n.ErrorCode)
		}
		if d.Unrequested > 0 {
			fmt.Fprintf(w, "  unrequested: %d elements ignored\n", d.Unrequested)
		}
		for _, c := range d.Checks {
			if c.OK {
				continue
			}
			code := verify.CodeOf(c.Err)
			if code == "" {
				code = "-"
			}
			fmt.Fprintf(w, "  failed check %s [%s]: %s\n", c.Name, code, printsafe.Escape(c.Detail))
		}
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "error [%s]: %s\n", e.Code, printsafe.Escape(e.Detail))
	}
}

// printElements writes the issuer-signed (deviceSigned false) or the
// device-signed elements by namespace, each namespace line prefixed by label.
func printElements(w io.Writer, els []verify.Element, deviceSigned bool, label string) {
	byNS := map[string][]verify.Element{}
	for _, e := range els {
		if e.DeviceSigned == deviceSigned {
			byNS[e.Namespace] = append(byNS[e.Namespace], e)
		}
	}
	nss := make([]string, 0, len(byNS))
	for ns := range byNS {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		fmt.Fprintf(w, "  %s%s:\n", label, printsafe.Clip(ns, 0))
		for _, e := range byNS[ns] {
			fmt.Fprintf(w, "    %s: %s\n", printsafe.Clip(e.Identifier, 0), summaryValue(e.Value))
		}
	}
}

func summaryValue(v any) string {
	if b, ok := v.([]byte); ok {
		return fmt.Sprintf("<%d bytes>", len(b))
	}
	j, err := json.Marshal(shortBytes(verify.JSONValue(v)))
	if err != nil {
		return printsafe.Clip(fmt.Sprint(v), 0)
	}
	// JSON escapes C0 controls but not C1 controls or bidi overrides.
	return printsafe.Escape(string(j))
}

// shortBytes replaces byte strings nested in a JSON-ready value by their size.
func shortBytes(v any) any {
	switch x := v.(type) {
	case []byte:
		return fmt.Sprintf("<%d bytes>", len(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = shortBytes(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = shortBytes(e)
		}
		return out
	}
	return v
}
