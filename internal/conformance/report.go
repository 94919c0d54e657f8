package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Mark is one proven item, logged by a test as "conformance " + JSON.
type Mark struct {
	// Section is one of the keys of Sections.
	Section string `json:"section"`
	// Item names what is proven (a vector file, a reason code, a fault).
	Item string `json:"item"`
	// Clause is the spec clause it belongs to, if any.
	Clause string `json:"clause,omitempty"`
	// Proof says how the test proves it.
	Proof string `json:"proof"`
}

// markPrefix starts a mark in a test's output.
const markPrefix = "conformance "

// Section is one part of the report.
type Section struct {
	Key, Title, Intro string
}

// Sections are the parts of the report, in order.
var Sections = []Section{
	{"annexd", "ISO/IEC 18013-5 Annex D values reproduced",
		"Each value of Annex D (testdata/annexd) that the code computes or checks, reproduced byte for byte."},
	{"apple", "Apple Wallet captures replayed",
		"The captures of testdata/interop read by the reader's parsers, and a tap against the wallet simulated from them."},
	{"negative", "Negative catalogue",
		"Each broken response or exchange, and the reason code the reader gives it. No row may accept."},
	{"faults", "Fault and removal campaigns",
		"A phone that leaves, stalls, or corrupts a byte at every step of a tap. The reader must fail cleanly with a reason code and never accept."},
	{"9.3.1", "ISO/IEC 18013-5 clause 9.3.1 reader obligations",
		"The inspection procedure for issuer data authentication, step by step, and the test that proves the reader does it."},
}

type testEvent struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type row struct {
	Mark
	test   string
	result string
}

// Generate reads a `go test -json` stream and returns the Markdown report.
// The marks of a test count only with the test's final result beside them.
// The output depends only on the marks and results, never on timing, so a
// rerun reproduces it byte for byte.
func Generate(r io.Reader) ([]byte, error) {
	marks := map[string][]Mark{} // test → marks
	results := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 || line[0] != '{' {
			continue
		}
		var ev testEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("conformance: reading test event: %w", err)
		}
		if ev.Test == "" {
			continue
		}
		switch ev.Action {
		case "output":
			i := strings.Index(ev.Output, markPrefix+"{")
			if i < 0 {
				continue
			}
			var m Mark
			if err := json.Unmarshal([]byte(strings.TrimSpace(ev.Output[i+len(markPrefix):])), &m); err != nil {
				return nil, fmt.Errorf("conformance: mark of %s: %w", ev.Test, err)
			}
			marks[ev.Test] = append(marks[ev.Test], m)
		case "pass", "fail", "skip":
			results[ev.Test] = ev.Action
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("conformance: reading test events: %w", err)
	}
	bySection := map[string][]row{}
	known := map[string]bool{}
	for _, s := range Sections {
		known[s.Key] = true
	}
	for test, ms := range marks {
		res := results[test]
		if res == "" {
			res = "no result"
		}
		for _, m := range ms {
			if !known[m.Section] {
				return nil, fmt.Errorf("conformance: %s marks unknown section %q", test, m.Section)
			}
			bySection[m.Section] = append(bySection[m.Section], row{m, test, res})
		}
	}
	var b bytes.Buffer
	b.WriteString("# Conformance report\n\n")
	b.WriteString("Generated from the tests of `internal/conformance` by `make conformance`; do not edit.\n")
	b.WriteString("`make conformance-check` fails when this file no longer matches what the tests prove.\n")
	total, failed := 0, 0
	for _, s := range Sections {
		rows := bySection[s.Key]
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].Clause != rows[j].Clause {
				return rows[i].Clause < rows[j].Clause
			}
			if rows[i].Item != rows[j].Item {
				return rows[i].Item < rows[j].Item
			}
			return rows[i].test < rows[j].test
		})
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", s.Title, s.Intro)
		if len(rows) == 0 {
			b.WriteString("Nothing proven.\n")
			continue
		}
		b.WriteString("| item | clause | proof | test | result |\n|---|---|---|---|---|\n")
		for _, r := range rows {
			total++
			if r.result != "pass" {
				failed++
			}
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s |\n", cell(r.Item), cell(r.Clause), cell(r.Proof), r.test, r.result)
		}
	}
	fmt.Fprintf(&b, "\n%d items, %d not passing.\n", total, failed)
	return b.Bytes(), nil
}

// cell escapes a table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
