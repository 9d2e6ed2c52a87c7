package flow

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxNameRunes is the longest device name, in characters (runes).
const maxNameRunes = 64

// ValidateName checks a device name a person typed and returns it as it
// will be sent: trimmed and NFC-normalized, so that the same name typed on
// two keyboards is the same string. It refuses names that are empty, longer
// than 64 characters, not valid UTF-8, or hold characters that are invisible
// or change how a terminal shows text (controls, escapes, bidi and
// zero-width characters) or that Sanitize would show escaped (U+FFFD): a
// name must look the same everywhere it is shown. Errors wrap ErrBadName.
func ValidateName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", badName("the name is empty")
	}
	if !utf8.ValidString(s) {
		pos := 0
		for i, r := range s {
			pos++
			if _, size := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && size == 1 {
				return "", badName("the name is not valid UTF-8 (byte %s at position %d)", Sanitize(s[i:i+1]), pos)
			}
		}
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	if s == "" { // cannot happen today; cheap insurance against norm changes
		return "", badName("the name is empty")
	}
	n := 0
	for _, r := range s {
		n++
		if k := nameCharKind(r); k != "" {
			return "", badName("the name contains %s %s at position %d", k, Sanitize(string(r)), n)
		}
	}
	if n > maxNameRunes {
		return "", badName("the name is longer than %d characters (%d)", maxNameRunes, n)
	}
	return s, nil
}

// DefaultName proposes a device name from the machine's host name: its
// first label ("kiosk-12" from "kiosk-12.shop.example"), without the
// characters ValidateName refuses and cut to 64 characters, or "device"
// when nothing usable is left.
func DefaultName(hostname string) string {
	label, _, _ := strings.Cut(strings.TrimSpace(hostname), ".")
	var b strings.Builder
	for _, r := range label { // an invalid byte reads as U+FFFD, which is dropped
		if nameCharKind(r) == "" {
			b.WriteRune(r)
		}
	}
	name := norm.NFC.String(b.String())
	if runes := []rune(name); len(runes) > maxNameRunes {
		name = string(runes[:maxNameRunes])
	}
	if v, err := ValidateName(name); err == nil {
		return v
	}
	return "device"
}

// nameCharKind is charKind plus U+FFFD, which Sanitize shows escaped, or ""
// for an allowed character.
func nameCharKind(r rune) string {
	if r == utf8.RuneError {
		return "a replacement character (a sign of damaged text)"
	}
	return charKind(r)
}

func badName(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadName, fmt.Sprintf(format, args...))
}
