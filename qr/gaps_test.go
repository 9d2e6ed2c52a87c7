package qr

import (
	"fmt"
	"image"
	"strings"
	"testing"
)

// font is how a terminal font draws the block elements in a cell of
// w×h pixels: █ covers rows [top, bottom), ▀ [top, mid), ▄ [mid, bottom),
// each across the whole cell. Fonts whose glyphs do not reach the cell's
// edges leave gaps (issue 16's "venetian blinds"); the background colour
// always fills the whole cell.
type font struct {
	name                string
	w, h, top, mid, bot int
}

// fonts are the glyph geometries measured in xterm under Xvfb (see
// bench/qrshots): one that fills its cells, and the gaps of Liberation
// Mono 14 (3 px under every glyph, 1 above), Noto Mono 11 (1 px) and
// DejaVu Sans Mono 8 (a 1 px seam).
var fonts = []font{
	{"fills", 10, 20, 0, 10, 20},
	{"liberation-14", 11, 24, 1, 11, 21},
	{"noto-11", 9, 19, 0, 9, 18},
	{"dejavu-8", 6, 13, 1, 7, 13},
}

// TestDecodeGappyFonts paints codes as those fonts show them, on a dark
// theme, and decodes them without any blur: the layouts auto picks on a
// UTF-8 terminal (bg two cells a module, small), full size and squeezed to
// a quiet zone of 2, must decode in every font. large draws its dark
// modules with glyphs and decodes only where they fill the cell; bg's
// narrow layout (one cell a module, on the console only) has modules twice
// as tall as wide, which ZXing's detector refuses whatever the font (zbar,
// in the screenshot test, reads it). README says both.
func TestDecodeGappyFonts(t *testing.T) {
	for _, link := range []string{emulatorLink, makeLink(120)} {
		m, _ := encode(link)
		side := len(m) + 2*minQuiet
		for _, tc := range []struct {
			f             Format
			width, height int
			mustDecode    bool
		}{
			{FormatSmall, 0, 0, true},
			{FormatSmall, side, (side + 1) / 2, true},
			{FormatBG, 0, 0, true},
			{FormatBG, 2 * side, side, true},
			{FormatBG, side, side, false}, // narrow
			{FormatLarge, 0, 0, false},
		} {
			code, err := Render(link, tc.f, tc.width, tc.height, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, ft := range fonts {
				name := fmt.Sprintf("%d/%s/%dx%d/%s", len(link), tc.f, code.Width, code.Height, ft.name)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					img, err := paintCells(code, ft, 0x07, 0xee, 0x00)
					if err != nil {
						t.Fatal(err)
					}
					got, err := decode(t, img, false)
					ok := err == nil && got == link
					switch {
					case !tc.mustDecode:
						t.Logf("decodes: %v", ok)
					case !ok:
						t.Fatalf("got %q, %v", got, err)
					}
				})
			}
		}
	}
}

// paintCells draws a coloured code cell by cell in font ft: each cell's
// background over the whole cell, then its glyph's rows in the foreground,
// with four cells of the theme's background (surround) around the code.
func paintCells(code Code, ft font, dark, light, surround uint8) (*image.Gray, error) {
	const margin = 4
	lines := strings.Split(code.Text, "\n")
	img := image.NewGray(image.Rect(0, 0, (code.Width+2*margin)*ft.w, (len(lines)+2*margin)*ft.h))
	fill(img, 0, 0, img.Rect.Dx(), img.Rect.Dy(), surround)
	shade := func(lit bool) uint8 {
		if lit {
			return light
		}
		return dark
	}
	for row, line := range lines {
		cs, err := cells(line)
		if err != nil {
			return nil, err
		}
		for col, c := range cs {
			x0, y0 := (col+margin)*ft.w, (row+margin)*ft.h
			fill(img, x0, y0, ft.w, ft.h, shade(c.paper))
			top, bot := ft.top, ft.bot
			switch c.r {
			case ' ':
				continue
			case '▀':
				bot = ft.mid
			case '▄':
				top = ft.mid
			}
			fill(img, x0, y0+top, ft.w, bot-top, shade(c.ink))
		}
	}
	return img, nil
}
