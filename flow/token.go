package flow

// The token alphabet and the characters refused in tokens, with the names used in messages.

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validateToken checks a token candidate against the token alphabet
// (base64, base64url and JWT-like tokens) and length. Characters that hide
// or rewrite text are named first: they suggest tampering, not a typo.
func validateToken(tok string) *problem {
	if !utf8.ValidString(tok) {
		for i, r := range tok {
			if _, size := utf8.DecodeRuneInString(tok[i:]); r == utf8.RuneError && size == 1 {
				return refuse("the token is not valid UTF-8 (byte %s)", Sanitize(tok[i:i+1]))
			}
		}
	}
	var bad []string
	for _, r := range tok {
		if k := charKind(r); k != "" {
			return refuse("the token contains %s %s", k, Sanitize(string(r)))
		}
		if !isTokenChar(r) && len(bad) < 5 {
			if q := quoteChar(r); !slices.Contains(bad, q) {
				bad = append(bad, q)
			}
		}
	}
	if len(bad) > 0 {
		return refuse("the token contains characters that are not allowed: %s (only letters, digits and . _ ~ + / = - are)", strings.Join(bad, ", "))
	}
	if len(tok) < minTokenLen {
		return refuse("the token is too short (%d characters; at least %d)", len(tok), minTokenLen)
	}
	if len(tok) > maxTokenLen {
		return refuse("the token is too long (%d characters; at most %d)", len(tok), maxTokenLen)
	}
	return nil
}

func isTokenChar(r rune) bool {
	return r < utf8.RuneSelf && (isASCIILetter(byte(r)) || isDigit(byte(r)) || strings.ContainsRune("._~+/=-", r))
}

// charKind names a character that must not be in a token, a host or a
// device name because it is invisible or changes how a terminal shows the
// text around it, or returns "" for any other character.
func charKind(r rune) string {
	switch {
	case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
		return "a line break"
	case r == '\t':
		return "a tab"
	case unicode.IsControl(r):
		return "a control character"
	case isBidiControl(r):
		return "a text-direction character"
	case unicode.Is(unicode.Cf, r):
		return "an invisible character"
	}
	return ""
}

// isBidiControl reports the bidirectional formatting characters, which can
// make text display in a different order than it is stored.
func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// quoteChar shows one character in a message: escaped, in double quotes.
func quoteChar(r rune) string {
	return `"` + strings.ReplaceAll(Sanitize(string(r)), `"`, `\"`) + `"`
}
