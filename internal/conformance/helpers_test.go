package conformance_test

import (
	"encoding/json"
	"testing"

	"github.com/idreader/idreader/internal/conformance"
	"github.com/idreader/idreader/internal/testvectors"
)

// mark logs a conformance mark for the report (see package conformance).
func mark(t *testing.T, section, item, clause, proof string) {
	t.Helper()
	b, err := json.Marshal(conformance.Mark{Section: section, Item: item, Clause: clause, Proof: proof})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("conformance %s", b)
}

func ad(t *testing.T, name string) []byte { t.Helper(); return testvectors.AnnexD(t, name) }
