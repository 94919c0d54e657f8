package printsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxText is the default length, in bytes of escaped text, that [Clip] keeps
// of one untrusted string: enough for any doc type, element identifier or
// certificate subject an issuer would use.
const MaxText = 256

// unsafeRune reports whether r must be escaped: C0 controls (tab and newline
// included, since every field is printed on one line), DEL, C1 controls, and
// the bidirectional formatting characters of Unicode UAX #9 (ALM, LRM, RLM,
// the embeddings and overrides U+202A..U+202E, the isolates U+2066..U+2069),
// plus the line and paragraph separators.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Escape returns s with every unsafe rune written as \xNN (below U+0100) or
// \uNNNN, and every invalid UTF-8 byte as \xNN. Safe text is returned
// unchanged and without copying.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	appendEscaped(&b, s[i:], -1)
	return b.String()
}

// firstUnsafe returns the index of the first byte that needs escaping, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			return i
		}
		i += n
	}
	return -1
}

// appendEscaped writes the escaped form of s to b, stopping before the
// escaped text would pass limit bytes (no limit when negative). It returns
// the number of bytes of s consumed.
func appendEscaped(b *strings.Builder, s string, limit int) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && n == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case unsafeRune(r) && r < 0x100:
			piece = fmt.Sprintf(`\x%02x`, r)
		case unsafeRune(r):
			piece = fmt.Sprintf(`\u%04x`, r)
		default:
			piece = s[i : i+n]
		}
		if limit >= 0 && b.Len()+len(piece) > limit {
			return i
		}
		b.WriteString(piece)
		i += n
	}
	return len(s)
}

// Clip returns the escaped form of s cut to at most max bytes (before the
// marker), followed by "…(N bytes more)" when something was cut. max <= 0
// means [MaxText].
func Clip(s string, max int) string {
	if max <= 0 {
		max = MaxText
	}
	if len(s) <= max && firstUnsafe(s) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max) + 24)
	used := appendEscaped(&b, s, max)
	if used < len(s) {
		fmt.Fprintf(&b, "…(%d bytes more)", len(s)-used)
	}
	return b.String()
}
