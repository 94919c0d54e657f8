package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/verify"
)

// TestDecisionDocTypeOnlyWhenProven: the decision's doc type and country go
// to logs, the audit file and event streams. When they were not proven (the
// response was rejected), a 1 MB doc type holding ESC[2J is cut and escaped.
func TestDecisionDocTypeOnlyWhenProven(t *testing.T) {
	evil := "\x1b[2J\x1b[32maccept" + strings.Repeat("A", 1<<20)
	res := &verify.Result{
		Documents: []verify.DocumentResult{{
			DocType: evil,
			Issuer:  verify.Issuer{Country: "U\x1bS" + strings.Repeat("S", 1000)},
			Checks:  []verify.Check{{Name: verify.CheckIssuerSignature, Err: verify.ErrIssuerSignature}},
		}},
		Failures: []verify.Failure{{Code: verify.CodeIssuerSignature, Err: verify.ErrIssuerSignature}},
	}
	d := Decide(Builtin()["age-20"], res, time.Now())
	if d.Accept {
		t.Fatal("accepted")
	}
	if len(d.DocType) > 100 || strings.Contains(d.DocType, "\x1b") || !strings.HasPrefix(d.DocType, `\x1b[2J`) {
		t.Errorf("doc type %.120q (%d bytes)", d.DocType, len(d.DocType))
	}
	if len(d.IssuerCountry) > 40 || strings.Contains(d.IssuerCountry, "\x1b") {
		t.Errorf("country %q", d.IssuerCountry)
	}
}
