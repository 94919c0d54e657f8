package printsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	cases := map[string]string{
		"org.iso.18013.5.1.mDL":            "org.iso.18013.5.1.mDL",
		"\x1b[2J\x1b[32mverdict: accept":   `\x1b[2J\x1b[32mverdict: accept`,
		"a\nb\tc\rd":                       `a\x0ab\x09c\x0dd`,
		"del\x7f":                          `del\x7f`,
		"c1 \u009b2J":                      `c1 \x9b2J`,
		"bidi \u202egnp.exe":               `bidi \u202egnp.exe`,
		"isolate \u2066x\u2069":            `isolate \u2066x\u2069`,
		"bad utf8 \xff\xfe":                `bad utf8 \xff\xfe`,
		"日本語 テキスト":                         "日本語 テキスト",
		"line\u2028sep":                    `line\u2028sep`,
		"":                                 "",
		"backslash \\x1b stays as written": "backslash \\x1b stays as written",
	}
	for in, want := range cases {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		got := Escape(in)
		if firstUnsafe(got) >= 0 {
			t.Errorf("Escape(%q) still unsafe: %q", in, got)
		}
	}
}

func TestClip(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	got := Clip(huge, 0)
	if len(got) > MaxText+32 || !strings.HasPrefix(got, strings.Repeat("A", MaxText)) || !strings.HasSuffix(got, "…(1048320 bytes more)") {
		t.Errorf("Clip of 1 MiB: %d bytes, tail %q", len(got), got[len(got)-30:])
	}
	// The cut never splits an escape or a rune.
	in := strings.Repeat("\x1b", 100) + strings.Repeat("語", 100)
	for max := 1; max < 500; max++ {
		c := Clip(in, max)
		body, _, _ := strings.Cut(c, "…(")
		if len(body) > max || !utf8.ValidString(c) || firstUnsafe(c) >= 0 {
			t.Fatalf("Clip(_, %d) = %q", max, c)
		}
		if strings.Count(body, `\x1b`)*4 != strings.Index(body+"語", "語") && strings.Contains(body, "語") {
			t.Fatalf("Clip(_, %d) split an escape: %q", max, c)
		}
	}
	if Clip("short", 10) != "short" {
		t.Error("short text changed")
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b[2Jverdict: accept")
	f.Add("\u202e\xff\u0085")
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) || firstUnsafe(e) >= 0 {
			t.Fatalf("Escape(%q) = %q", s, e)
		}
		c := Clip(s, 64)
		if !utf8.ValidString(c) || firstUnsafe(c) >= 0 || len(c) > 64+len("…(18446744073709551615 bytes more)") {
			t.Fatalf("Clip(%q) = %q", s, c)
		}
		if firstUnsafe(s) < 0 && e != s {
			t.Fatalf("safe text changed: %q", s)
		}
	})
}

func BenchmarkClip(b *testing.B) {
	s := strings.Repeat("org.iso.18013.5.1\x1b", 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		Clip(s, 0)
	}
}
