package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The packaged default configuration trusts a directory that is empty
// until the operator adds IACA certificates: it must load (and the daemon
// start), with no anchor.
func TestEmptyTrustDirectory(t *testing.T) {
	dir := t.TempDir()
	trust := filepath.Join(dir, "trust")
	if err := os.Mkdir(trust, 0o755); err != nil {
		t.Fatal(err)
	}
	// Hidden files (an editor's, a package manager's) do not count.
	if err := os.WriteFile(filepath.Join(trust, ".keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "idreaderd.yaml")
	conf := "readers:\n  - {name: counter-1, profile: age-20, outputs: [console]}\n" +
		"trust: [trust/]\noutputs:\n  console: {type: console}\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	s, err := c.Settings()
	if err != nil {
		t.Fatalf("Settings with an empty trust directory: %v", err)
	}
	if n := s.Trust.Len(); n != 0 {
		t.Errorf("trust anchors = %d, want 0", n)
	}

	// A directory with files but no certificate is a mistake, not a fresh
	// install: still an error.
	if err := os.WriteFile(filepath.Join(trust, "README"), []byte("put IACAs here"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Settings(); err == nil || !strings.Contains(err.Error(), "trust[0]") {
		t.Errorf("directory without certificates: %v", err)
	}
	// A missing directory is an error too.
	if err := os.RemoveAll(trust); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Settings(); err == nil {
		t.Error("missing trust directory accepted")
	}
	if isEmptyDir(filepath.Join(dir, "idreaderd.yaml")) {
		t.Error("a file is not an empty directory")
	}
}

// TestPackagedDefault loads the configuration the Debian package installs
// (deploy/idreaderd.yaml) with its absolute paths moved into a temporary
// directory: it must be valid as shipped, with an empty trust directory.
func TestPackagedDefault(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "deploy", "idreaderd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "trust"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "/etc/idreaderd/trust/", filepath.Join(dir, "trust")+"/")
	text = strings.ReplaceAll(text, "/var/log/idreaderd/", dir+"/")
	if text == string(data) {
		t.Fatal("deploy/idreaderd.yaml no longer names /etc/idreaderd/trust/")
	}
	path := filepath.Join(dir, "idreaderd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("packaged default: %v", err)
	}
	if _, err := c.Settings(); err != nil {
		t.Fatalf("packaged default settings: %v", err)
	}
	if len(c.Readers) != 1 || c.Readers[0].Driver != DriverPCSC || c.Readers[0].Device != DeviceFirst || c.Readers[0].Profile != "age-20" {
		t.Errorf("readers = %+v, want one PC/SC reader, first, age-20", c.Readers)
	}
	if c.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("http.listen = %q, want loopback", c.HTTP.Listen)
	}
	if c.Demo {
		t.Error("packaged default trusts the demo issuers")
	}
}
