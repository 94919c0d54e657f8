package conformance

import (
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	stream := `{"Action":"run","Test":"TestA"}
{"Action":"output","Test":"TestA/x","Output":"    a_test.go:10: conformance {\"section\":\"annexd\",\"item\":\"sk_reader\",\"clause\":\"D.5.1\",\"proof\":\"HKDF | SKReader\"}\n"}
{"Action":"pass","Test":"TestA/x"}
{"Action":"output","Test":"TestB","Output":"    b_test.go:3: conformance {\"section\":\"negative\",\"item\":\"tampered\",\"proof\":\"reason value_digest\"}\n"}
{"Action":"fail","Test":"TestB"}
not json at all, from a build step
{"Action":"pass","Package":"p"}
`
	out, err := Generate(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"| sk_reader | D.5.1 | HKDF \\| SKReader | `TestA/x` | pass |",
		"| tampered |  | reason value_digest | `TestB` | fail |",
		"2 items, 1 not passing.",
		"## Fault and removal campaigns\n\nA phone",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	again, _ := Generate(strings.NewReader(stream))
	if string(again) != s {
		t.Error("the report is not deterministic")
	}
	for name, bad := range map[string]string{
		"unknown section": `{"Action":"output","Test":"T","Output":"conformance {\"section\":\"misc\",\"item\":\"x\"}\n"}`,
		"bad mark":        `{"Action":"output","Test":"T","Output":"conformance {\"section\":\n"}`,
		"bad event":       `{"Action":`,
	} {
		if _, err := Generate(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
