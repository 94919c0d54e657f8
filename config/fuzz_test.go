package config_test

import (
	"os"
	"testing"

	"github.com/idreader/idreader/config"
)

// FuzzParse: no input makes Parse panic; an accepted file has readers.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../deploy/idreaderd.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(minimal))
	f.Add([]byte("demo: true\n"))
	f.Add([]byte("readers: [{name: a, timeouts: {exchange: 1e400}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse("fuzz.yaml", data)
		if err == nil && len(c.Readers) == 0 {
			t.Fatal("accepted a configuration without readers")
		}
	})
}
