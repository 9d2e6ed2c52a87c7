package flow

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes text from outside inert before it reaches a terminal or a
// log: C0 and C1 controls (ESC included), DEL, format characters (bidi
// overrides, zero-width joiners, BOM), line and paragraph separators and
// invalid UTF-8 are shown escaped instead of being interpreted. Newlines and
// tabs are escaped too: one value, one line. Ordinary text, including
// non-ASCII letters and backslashes, passes unchanged, so sanitizing twice
// (a layer below and the printer above) changes nothing.
//
// This is the only sanitizer in enroll; every string that came from a
// server, a file, an invitation or a phone goes through it.
func Sanitize(s string) string {
	if isInert(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case mustEscape(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// SanitizeMax sanitizes s and cuts the result to at most max runes, marking
// the cut with an ellipsis, so a hostile server cannot flood a screen.
func SanitizeMax(s string, max int) string {
	out := Sanitize(s)
	if max <= 0 || utf8.RuneCountInString(out) <= max {
		return out
	}
	runes := []rune(out)
	return string(runes[:max-1]) + "…"
}

func isInert(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return true
}

// Invisible finds the first character of s that a text field would not
// draw as itself: a control, a format character (a bidi override, a
// zero-width space) or a line or paragraph separator. Line breaks and tabs
// pass: a paste often ends with one, and fields turn them into spaces.
func Invisible(s string) (rune, bool) {
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

func mustEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// Quoted shows a value from outside in quotes, inert and capped. (Not %q:
// Sanitize has escaped it already, and %q would escape the escapes.)
func Quoted(s string) string { return `"` + SanitizeMax(s, 80) + `"` }

// Visible is true for text that Sanitize leaves alone: nothing that could
// move a cursor, hide text or reorder it when printed.
func Visible(s string) bool { return Sanitize(s) == s }
