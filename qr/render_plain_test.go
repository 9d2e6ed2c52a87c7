package qr

import (
	"strings"
	"testing"
)

// RenderPlain writes no escape sequence: its light modules and quiet zone
// are the ink, so the first row, all quiet zone, is ink from end to end.
func TestPlainHasNoEscapesAndInvertsInk(t *testing.T) {
	ink := map[Format]string{FormatSmall: "█", FormatLarge: "█", FormatBG: "#", FormatASCII: "#"}
	for _, f := range []Format{FormatSmall, FormatLarge, FormatBG, FormatASCII} {
		c, err := Render("https://idp.example.com/i?token=abc", f, 0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		p, err := RenderPlain("https://idp.example.com/i?token=abc", f, 0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsRune(p.Text, '\x1b') {
			t.Errorf("%s: the plain code holds an escape", f)
		}
		if p.Width != c.Width || p.Height != c.Height || p.Format != c.Format {
			t.Errorf("%s: plain is %s %d×%d, coloured %s %d×%d", f, p.Format, p.Width, p.Height, c.Format, c.Width, c.Height)
		}
		if f == FormatASCII && p != c {
			t.Error("ascii changed")
		}
		first, _, _ := strings.Cut(p.Text, "\n")
		if strings.Trim(first, ink[f]) != "" {
			t.Errorf("%s: the quiet zone is not ink: %q", f, first)
		}
		// The same modules either way, as a dark theme shows them.
		cg, err1 := modules(c)
		pg, err2 := modules(p)
		if err1 != nil || err2 != nil || !sameGrid(cg, pg) {
			t.Errorf("%s: plain and coloured differ (%v, %v)", f, err1, err2)
		}
	}
}

func sameGrid(a, b [][]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for y := range a {
		if len(a[y]) != len(b[y]) {
			return false
		}
		for x := range a[y] {
			if a[y][x] != b[y][x] {
				return false
			}
		}
	}
	return true
}
