package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idreader/idreader/config"
)

// TestEmptyTokenFile: a token file that holds no token is an error naming
// the line and the key, not an API without a token (which would trust
// every local client, the operator having asked for a token).
func TestEmptyTokenFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "", "blank": " \n\t\n"} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "token"), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			path := write(t, dir, "demo: true\nhttp:\n  listen: 127.0.0.1:8080\n  token_file: token\n")
			// Refused at load (so --check-config sees it), and by Token
			// should the file be emptied after the load.
			c, err := config.Load(path)
			if err == nil {
				var tok string
				tok, err = c.Token()
				if err == nil {
					t.Fatalf("token %q from an empty token file, no error", tok)
				}
			}
			if want := "idreaderd.yaml:4: http.token_file:"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		})
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(write(t, dir, "demo: true\nhttp:\n  token_file: token\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := c.Token(); err != nil || tok != "s3cret" {
		t.Errorf("token %q, %v", tok, err)
	}
	// Emptied after the load: Token refuses it.
	if err := os.WriteFile(filepath.Join(dir, "token"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Token(); err == nil || !strings.Contains(err.Error(), "idreaderd.yaml:3: http.token_file:") {
		t.Errorf("token file emptied after the load: %v", err)
	}
}
