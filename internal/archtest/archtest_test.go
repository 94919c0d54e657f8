// Package archtest keeps the dependency rule of the layout true: the pure core
// (mdoc, nfc, session, verify, vical, identity, policy, ble) never imports reader adapters,
// hardware, scard, periph host, zerolog or anything that does I/O at the
// edge; terminal (one tap) imports no outputs, policy, daemon or logging;
// nothing under hardware imports upward; only cmd/ picks the real adapters;
// and neither binary links the package testing.
package archtest

import (
	"encoding/json"
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/idreader/idreader"

var corePackages = []string{"mdoc", "cose", "nfc", "session", "verify", "vical", "identity", "policy", "reason", "ble", "revocation"}

var forbidden = []string{
	module + "/reader",
	module + "/hardware",
	module + "/terminal",
	module + "/daemon",
	module + "/api",
	module + "/config",
	module + "/holder",
	module + "/cmd",
	"github.com/ebfe/scard",
	"periph.io/x/host",
	"github.com/rs/zerolog",
	"github.com/godbus/dbus",
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
	"github.com/godbus/dbus": module + "/ble/bluez",
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

// dependsOn reports the first of deps that is one of the packages or under
// one of them, or "".
func dependsOn(deps []string, pkgs ...string) string {
	for _, d := range deps {
		for _, f := range pkgs {
			if d == f || strings.HasPrefix(d, f+"/") {
				return d
			}
		}
	}
	return ""
}

// TestTerminalIsOneTap: terminal runs one tap; the reader loops, outputs,
// acceptance policy and logging belong to daemon.
func TestTerminalIsOneTap(t *testing.T) {
	pkgs := listPackages(t, module+"/terminal/...")
	if len(pkgs) == 0 {
		t.Fatal("no terminal package found")
	}
	for _, p := range pkgs {
		if d := dependsOn(p.Deps, module+"/hardware", module+"/policy", module+"/daemon", module+"/api",
			module+"/config", module+"/holder", module+"/reader/pcsc", module+"/ble/bluez",
			"github.com/rs/zerolog", "log", "log/slog", "net/http"); d != "" {
			t.Errorf("%s depends on %s; terminal is one tap, without outputs, policy or logging", p.ImportPath, d)
		}
	}
}

// TestHardwareImportsNothingAbove: hardware is outputs only; the kiosk
// display, which reads the daemon's events, lives in api/display.
func TestHardwareImportsNothingAbove(t *testing.T) {
	pkgs := listPackages(t, module+"/hardware/...")
	if len(pkgs) == 0 {
		t.Fatal("no hardware package found")
	}
	for _, p := range pkgs {
		if d := dependsOn(p.Deps, module+"/terminal", module+"/daemon", module+"/api"); d != "" {
			t.Errorf("%s depends on %s; hardware must not import upward", p.ImportPath, d)
		}
	}
}

// adapters are the packages that reach real devices; only cmd/ picks them
// (besides their own subpackages, such as an adapter's test fake). The PN532
// driver itself (reader/pn532) speaks the chip's protocol over periph's bus
// interfaces, like nfc over a Transceiver; pn532host opens the real buses.
var adapters = []string{
	module + "/reader/pcsc",
	module + "/reader/pn532/pn532host",
	module + "/hardware/gpio",
	module + "/ble/bluez",
}

func TestOnlyCmdImportsAdapters(t *testing.T) {
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
		if strings.HasPrefix(p.ImportPath, module+"/cmd/") {
			continue
		}
		for _, imp := range p.Imports {
			a := dependsOn([]string{imp}, adapters...)
			if a == "" || a == p.ImportPath || strings.HasPrefix(p.ImportPath, a+"/") || strings.HasPrefix(a, p.ImportPath+"/") {
				continue
			}
			// A driver's fake beside its host adapter (reader/pn532/pn532test
			// opening a pseudo-terminal through pn532host) exercises the real
			// adapter on purpose.
			if strings.HasSuffix(p.ImportPath, "test") && path.Dir(p.ImportPath) == path.Dir(a) {
				continue
			}
			t.Errorf("%s imports the adapter %s; only cmd/ picks adapters", p.ImportPath, imp)
		}
	}
}

// emulatorsInBinaries are the xxxtest packages a binary may link, each for a
// reason: they hold no package testing and are what a command runs.
var emulatorsInBinaries = map[string]string{
	// idreader selftest --reader pn532 and idreader readers --pn532
	// emulated:BUS run a tap through the driver against the emulated chip.
	module + "/reader/pn532/pn532test": "the emulated PN532 of idreader selftest",
}

// TestBinariesLinkNoTestCode: the daemon and the operator's tool link no
// test code (the package testing, or a fake from an xxxtest package other
// than the emulators listed above).
func TestBinariesLinkNoTestCode(t *testing.T) {
	for _, cmd := range []string{module + "/cmd/idreaderd", module + "/cmd/idreader"} {
		pkgs := listPackages(t, cmd)
		if len(pkgs) != 1 {
			t.Fatalf("go list %s: %d packages", cmd, len(pkgs))
		}
		if len(pkgs[0].Deps) == 0 {
			t.Fatalf("go list %s: no dependencies listed", cmd)
		}
		for _, d := range pkgs[0].Deps {
			if d == "testing" || strings.HasPrefix(d, "testing/") ||
				(strings.HasPrefix(d, module+"/") && strings.HasSuffix(d, "test") && emulatorsInBinaries[d] == "") {
				t.Errorf("%s links %s", cmd, d)
			}
		}
	}
}
