package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idreader/idreader/config"
	"github.com/idreader/idreader/trust/fetch"
)

const trustUsage = `usage: idreader trust list --config FILE [--now RFC3339] [--json]

Lists every trust anchor the daemon with this configuration would use now:
the IACA certificates of its folders and of the VICALs in its cache, each
with its source, country, doc types, validity and the age of its source,
then the sources themselves (CRLs and status lists too) with their age,
staleness and last error. Nothing is fetched: it reads the folders and the
cache directory, as the daemon does when it starts with no network.

  --config FILE  the daemon's configuration (idreaderd.yaml); only its trust
                 section is read and checked
  --now RFC3339  the time to compute ages at (default: now)
  --json         print one JSON object: {"anchors": [...], "sources": [...]}

Exit status: 0 listed, 2 usage error or unreadable configuration.
`

// trustAnchorJSON is one anchor of `trust list --json`.
type trustAnchorJSON struct {
	Subject    string    `json:"subject"`
	Source     string    `json:"source"`
	SourceKind string    `json:"sourceKind"`
	Origin     string    `json:"origin,omitempty"`
	Country    string    `json:"country"`
	DocTypes   []string  `json:"docTypes"`
	NotBefore  time.Time `json:"notBefore"`
	NotAfter   time.Time `json:"notAfter"`
	SourceAge  *float64  `json:"sourceAgeSeconds"`
	Stale      bool      `json:"stale"`
}

// runTrust implements `idreader trust`.
func runTrust(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("trust", trustUsage, stdout, stderr)
	if len(args) == 0 || args[0] != "list" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, trustUsage)
			return exitOK
		}
		return fs.usageErr("the only subcommand is list")
	}
	cfgPath := fs.String("config", "", "")
	nowStr := fs.String("now", "", "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := fs.parseOnly(args[1:]); !ok {
		return code
	}
	if *cfgPath == "" {
		return fs.usageErr("--config is required")
	}
	now := time.Now()
	if *nowStr != "" {
		t, err := time.Parse(time.RFC3339Nano, *nowStr)
		if err != nil {
			return fs.usageErr("--now: %v", err)
		}
		now = t
	}
	c, err := config.LoadTrust(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "idreader trust: %v\n", err)
		return exitUsage
	}
	opts, err := c.TrustOptions()
	if err != nil {
		fmt.Fprintf(stderr, "idreader trust: %v\n", err)
		return exitUsage
	}
	opts.Now = func() time.Time { return now }
	m := fetch.New(opts)
	if err := m.Start(); err != nil {
		fmt.Fprintf(stderr, "idreader trust: %v\n", err)
		return exitUsage
	}
	sources := m.Status()
	byName := map[string]fetch.SourceStatus{}
	for _, s := range sources {
		byName[s.Name] = s
	}
	anchors := []trustAnchorJSON{}
	for _, a := range m.Snapshot().Anchors {
		st := byName[a.Source]
		country := a.Info.Country // what a VICAL says
		if country == "" && len(a.Cert.Subject.Country) > 0 {
			country = a.Cert.Subject.Country[0]
		}
		dt := append([]string{}, a.Info.DocTypes...)
		anchors = append(anchors, trustAnchorJSON{
			Subject: a.Cert.Subject.String(), Source: a.Source, SourceKind: string(st.Kind), Origin: a.Info.Source,
			Country: country, DocTypes: dt, NotBefore: a.Cert.NotBefore.UTC(), NotAfter: a.Cert.NotAfter.UTC(),
			SourceAge: st.AgeSecs, Stale: st.Stale,
		})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Anchors []trustAnchorJSON    `json:"anchors"`
			Sources []fetch.SourceStatus `json:"sources"`
		}{anchors, sources}); err != nil {
			fmt.Fprintf(stderr, "idreader trust: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tCOUNTRY\tDOC TYPES\tVALID\tSOURCE\tSOURCE AGE")
	for _, a := range anchors {
		dt := "any"
		if len(a.DocTypes) > 0 {
			dt = strings.Join(a.DocTypes, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s..%s\t%s\t%s\n", a.Subject, a.Country, dt,
			a.NotBefore.Format(time.DateOnly), a.NotAfter.Format(time.DateOnly), a.Origin, age(byName[a.Source]))
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tLOADED\tAGE\tMAX AGE\tSTALE\tFAILURES\tLAST ERROR")
	for _, s := range sources {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%v\t%d\t%s\n", s.Location, s.Kind, s.Loaded, age(s), s.MaxAge, s.Stale, s.Failures, s.LastError)
	}
	tw.Flush()
	if c.Demo {
		fmt.Fprintln(stdout, "\ndemo: true also trusts the simulated issuers, made afresh at each start (not listed)")
	}
	return exitOK
}

// age formats the age of a source, "-" when never loaded.
func age(s fetch.SourceStatus) string {
	if s.FetchedAt.IsZero() {
		return "-"
	}
	if s.Kind == fetch.KindFolder {
		return "read now"
	}
	return s.Age.Round(time.Second).String()
}
