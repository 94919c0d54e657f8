// Package archtest keeps the dependency rule of the layout true: the pure core
// (mdoc, nfc, session, verify, ble) never imports reader adapters, hardware,
// scard, periph host, zerolog or anything that does I/O at the edge.
package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/idreader/idreader"

var corePackages = []string{"mdoc", "nfc", "session", "verify", "ble"}

var forbidden = []string{
	module + "/reader",
	module + "/hardware",
	module + "/terminal",
	module + "/holder",
	module + "/cmd",
	"github.com/ebfe/scard",
	"periph.io/x/host",
	"github.com/rs/zerolog",
	"tinygo.org/x/bluetooth",
	"log",
	"log/slog",
	"net/http",
	"os/exec",
}

type pkg struct {
	ImportPath string
	Deps       []string
	CgoFiles   []string
}

func listPackages(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	args := append([]string{"list", "-json=ImportPath,Deps,CgoFiles"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestCoreImportsNoEdges(t *testing.T) {
	var patterns []string
	for _, c := range corePackages {
		patterns = append(patterns, "github.com/idreader/idreader/"+c+"/...")
	}
	pkgs := listPackages(t, patterns...)
	if len(pkgs) == 0 {
		t.Fatal("no core packages found")
	}
	for _, p := range pkgs {
		if isAdapter(p.ImportPath) {
			continue
		}
		for _, d := range p.Deps {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s imports %s (directly or not); the core must stay pure", p.ImportPath, d)
				}
			}
		}
	}
}

// isAdapter reports packages that live under a core folder but are edge
// adapters by design (ble/bluez) and test fakes (xxxtest).
func isAdapter(path string) bool {
	return strings.HasSuffix(path, "/bluez") || strings.HasSuffix(path, "test")
}

func TestOnlyPCSCUsesCgo(t *testing.T) {
	for _, p := range listPackages(t, module+"/...") {
		if len(p.CgoFiles) > 0 && p.ImportPath != module+"/reader/pcsc" {
			t.Errorf("%s has cgo files %v; cgo lives only in reader/pcsc", p.ImportPath, p.CgoFiles)
		}
	}
}

// edgeImports lists the modules that only one adapter package may import
// directly; everything else reaches them through that adapter, picked by
// cmd/.
var edgeImports = map[string]string{
	"github.com/ebfe/scard":  module + "/reader/pcsc",
	"periph.io/x/host/v3":    module + "/hardware/gpio",
	"tinygo.org/x/bluetooth": module + "/ble/bluez",
}

type importsPkg struct {
	ImportPath string
	Imports    []string
}

func TestEdgeModulesOnlyInTheirAdapter(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p importsPkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			for edge, owner := range edgeImports {
				if (imp == edge || strings.HasPrefix(imp, edge+"/")) && p.ImportPath != owner &&
					!strings.HasPrefix(p.ImportPath, module+"/cmd/") {
					t.Errorf("%s imports %s; only %s (and cmd/) may", p.ImportPath, imp, owner)
				}
			}
		}
	}
}
