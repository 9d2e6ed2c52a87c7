package qr

import (
	"strings"
	"testing"
)

func TestPlainHasNoEscapesAndInvertsInk(t *testing.T) {
	for _, f := range []Format{FormatSmall, FormatLarge, FormatASCII} {
		c, err := Render("https://idp.example.com/i?token=abc", f, 0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Plain()
		if strings.ContainsRune(p, '\x1b') {
			t.Errorf("%s: the plain code holds an escape", f)
		}
		if strings.Count(p, "\n") != strings.Count(c.Text, "\n") {
			t.Errorf("%s: rows changed", f)
		}
		if f == FormatASCII {
			if p != c.Text {
				t.Error("ascii changed")
			}
			continue
		}
		// The quiet zone, light, is ink now: the first row is all blocks.
		first, _, _ := strings.Cut(p, "\n")
		if strings.Trim(first, "█▀") != "" {
			t.Errorf("%s: the quiet zone is not ink: %q", f, first)
		}
	}
}
