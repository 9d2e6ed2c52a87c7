package qr

import (
	"fmt"
	"image"
	"strings"
	"testing"
)

// hashGlyph is "#" from the IBM VGA 8×16 font, the Linux console's default
// look: one byte per pixel row, most significant bit on the left. Like every
// ASCII glyph it leaves blank rows above and below, so a light module drawn
// with it is striped, not solid.
var hashGlyph = [16]byte{0, 0, 0, 0x6c, 0x6c, 0xfe, 0x6c, 0x6c, 0x6c, 0xfe, 0x6c, 0x6c, 0, 0, 0, 0}

// TestDecodeASCIIGlyphs checks the ASCII polarity decision with real glyph
// shapes rather than solid modules: the text is painted cell by cell with
// the console font, then softened and sampled as a camera would. On a dark
// theme (light ink on black, the Linux console) it must decode as is; on a
// light theme it appears reversed and decodes with an inverted pass, which
// is what phone scanners that handle reversed codes do.
func TestDecodeASCIIGlyphs(t *testing.T) {
	themes := []struct {
		name     string
		bg, ink  uint8
		inverted bool
	}{
		{"dark theme", 0, 170, false}, // VGA light grey on black
		{"light theme", 255, 0, true},
	}
	for _, link := range []string{makeLink(40), emulatorLink, makeLink(120), makeLink(300)} {
		for _, squeezed := range []bool{false, true} {
			code := renderAt(t, link, FormatASCII, squeezed)
			for _, th := range themes {
				name := fmt.Sprintf("%d/squeezed=%v/%s", len(link), squeezed, th.name)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					img := camera(soften(paintGlyphs(code.Text, th.bg, th.ink), 4), 2)
					got, err := decode(t, img, th.inverted)
					if err != nil || got != link {
						t.Fatalf("got %q, %v", got, err)
					}
				})
			}
		}
	}
}

// paintGlyphs draws text in an 8×16 console font (only "#" and space occur)
// with four blank cells of terminal background around it.
func paintGlyphs(text string, bg, ink uint8) *image.Gray {
	const cw, ch, margin = 8, 16, 4
	lines := strings.Split(text, "\n")
	w := (len(lines[0]) + 2*margin) * cw
	h := (len(lines) + 2*margin) * ch
	img := image.NewGray(image.Rect(0, 0, w, h))
	fill(img, 0, 0, w, h, bg)
	for row, line := range lines {
		for col := 0; col < len(line); col++ {
			if line[col] != '#' {
				continue
			}
			x0, y0 := (col+margin)*cw, (row+margin)*ch
			for gy, bits := range hashGlyph {
				for gx := 0; gx < cw; gx++ {
					if bits&(0x80>>gx) != 0 {
						img.Pix[(y0+gy)*img.Stride+x0+gx] = ink
					}
				}
			}
		}
	}
	return img
}

// soften is a box blur of radius r, a camera's optics at a normal focus.
// Without it the blank rows and side bearings that every ASCII glyph has
// would make a light module sample dark at its centre.
func soften(src *image.Gray, r int) *image.Gray {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	tmp := image.NewGray(src.Rect)
	dst := image.NewGray(src.Rect)
	// Running sums along rows, then along columns: O(1) per pixel.
	for y := 0; y < h; y++ {
		boxLine(src.Pix[y*src.Stride:], tmp.Pix[y*tmp.Stride:], w, 1, r)
	}
	for x := 0; x < w; x++ {
		boxLine(tmp.Pix[x:], dst.Pix[x:], h, tmp.Stride, r)
	}
	return dst
}

// boxLine averages n samples spaced step apart over a window of ±r,
// clipped at the ends.
func boxLine(in, out []uint8, n, step, r int) {
	sum, lo, hi := 0, 0, 0 // window is [lo, hi)
	for i := 0; i < n; i++ {
		for ; hi < n && hi <= i+r; hi++ {
			sum += int(in[hi*step])
		}
		for ; lo < i-r; lo++ {
			sum -= int(in[lo*step])
		}
		out[i*step] = uint8(sum / (hi - lo))
	}
}

// camera stands in for a phone photographing the screen: each sensor pixel
// averages a k×k patch of screen pixels, so glyph strokes blend into grey.
func camera(src *image.Gray, k int) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx()/k, b.Dy()/k))
	for y := 0; y < dst.Rect.Dy(); y++ {
		for x := 0; x < dst.Rect.Dx(); x++ {
			sum := 0
			for dy := 0; dy < k; dy++ {
				for dx := 0; dx < k; dx++ {
					sum += int(src.GrayAt(b.Min.X+x*k+dx, b.Min.Y+y*k+dy).Y)
				}
			}
			dst.Pix[y*dst.Stride+x] = uint8(sum / (k * k))
		}
	}
	return dst
}
