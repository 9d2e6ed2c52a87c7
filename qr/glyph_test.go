package qr

import (
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
// the console font and blurred a little as a camera would. On a dark theme
// (light ink on black, the Linux console) it must decode as is; on a light
// theme it appears reversed and decodes with an inverted pass, which is what
// phone scanners that handle reversed codes do.
func TestDecodeASCIIGlyphs(t *testing.T) {
	themes := []struct {
		name     string
		bg, ink  uint8
		inverted bool
	}{
		{"dark theme", 0, 170, false}, // VGA light grey on black
		{"light theme", 255, 0, true},
	}
	for _, link := range []string{makeLink(40), emulatorLink, makeLink(300)} {
		for _, squeezed := range []bool{false, true} {
			code := renderAt(t, link, FormatASCII, squeezed)
			for _, th := range themes {
				img := camera(paintGlyphs(code.Text, th.bg, th.ink), 4)
				got, err := decode(t, img, th.inverted)
				if err != nil || got != link {
					t.Errorf("%d bytes, squeezed=%v, %s: got %q, %v", len(link), squeezed, th.name, got, err)
				}
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
