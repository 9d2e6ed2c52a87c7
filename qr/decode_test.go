package qr

import (
	"errors"
	"fmt"
	"testing"
)

// TestDecode renders links of several lengths in every format, both with the
// full quiet zone and squeezed to the minimum size (quiet zone 2; for bg,
// one cell a module), turns the text back into pixels on a dark surround and
// decodes it with a real QR decoder.
func TestDecode(t *testing.T) {
	links := []string{makeLink(40), makeLink(120), makeLink(300), makeLink(1000), emulatorLink}
	for _, link := range links {
		for _, f := range []Format{FormatSmall, FormatLarge, FormatBG, FormatASCII} {
			for _, squeezed := range []bool{false, true} {
				name := fmt.Sprintf("%d/%s/squeezed=%v", len(link), f, squeezed)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					code := renderAt(t, link, f, squeezed)
					grid, err := modules(code)
					if err != nil {
						t.Fatal(err)
					}
					got, err := decode(t, toImage(grid, 4, 6), false)
					if err != nil {
						t.Fatalf("decode: %v", err)
					}
					if got != link {
						t.Fatalf("decoded %q, want %q", got, link)
					}
				})
			}
		}
	}
}

// renderAt renders with no size limit (quiet zone 4) or, when squeezed, at
// exactly the minimum size the format reports (quiet zone 2).
func renderAt(t *testing.T, link string, f Format, squeezed bool) Code {
	t.Helper()
	w, h := 0, 0
	if squeezed {
		_, err := Render(link, f, 1, 1, false)
		var small *TooSmallError
		if !errors.As(err, &small) {
			t.Fatalf("1×1: want *TooSmallError, got %v", err)
		}
		w, h = small.NeedWidth, small.NeedHeight
	}
	code, err := Render(link, f, w, h, false)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
