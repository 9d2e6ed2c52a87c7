package qr

import (
	"fmt"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"image"
	"image/color"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fixed inputs shared by the tests.
const (
	goldenLink = "https://e.example/i/AbC123"
	// emulatorLink has the shape the hand-off server advertises:
	// http://<lan-ip>:<port>/h/<22-char id>#<43-char key>.
	emulatorLink = "http://192.168.1.23:41234/h/q3Z8-xv_T0aLmN5pRsWy2A" +
		"#Vt9kQ2mX_bL7wR4nHc1yJ0fD8sPz-gE6uKa3oMiTq5B"
)

// makeLink returns a deterministic URL of exactly n bytes whose token part
// looks like base64url, so the encoder sees realistic mixed-case data.
func makeLink(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b strings.Builder
	b.WriteString("https://enroll.example/accept?token=")
	seed := uint32(12345)
	for b.Len() < n {
		seed = seed*1664525 + 1013904223 // LCG: reproducible, no math/rand
		b.WriteByte(alphabet[seed>>26])
	}
	return b.String()[:n]
}

// modules parses a rendered code back into its module grid (true = dark),
// quiet zone included, as a terminal shows it with glyphs that fill their
// cells. Codes without colours (ascii, plain) are read as on a dark
// background with light ink, the Linux console. It fails on any cell that
// draw would not produce.
func modules(c Code) ([][]bool, error) {
	var grid [][]bool
	for i, line := range strings.Split(c.Text, "\n") {
		cs, err := cells(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i, err)
		}
		per := 2 // cells a module across
		if c.Format == FormatSmall || c.Format == FormatBG && c.Width == c.Height {
			per = 1
		}
		if len(cs)%per != 0 {
			return nil, fmt.Errorf("line %d: odd width %d", i, len(cs))
		}
		top := make([]bool, len(cs)/per)
		bottom := make([]bool, len(cs)/per)
		for x := range top {
			t, b := cs[per*x].halves()
			for _, c := range cs[per*x : per*x+per] {
				if ct, cb := c.halves(); ct != t || cb != b {
					return nil, fmt.Errorf("line %d: a module's cells differ at %d", i, x)
				}
			}
			top[x], bottom[x] = !t, !b
			if c.Format != FormatSmall && top[x] != bottom[x] {
				return nil, fmt.Errorf("line %d: a half block in %s at %d", i, c.Format, x)
			}
		}
		grid = append(grid, top)
		if c.Format == FormatSmall {
			grid = append(grid, bottom)
		}
	}
	return grid, nil
}

// cell is what a terminal shows in one cell: a rune drawn in the ink
// (foreground) colour over the paper (background); true is light.
type cell struct {
	r          rune
	ink, paper bool
}

// halves are whether the cell's top and bottom halves are light, with
// glyphs that fill the cell.
func (c cell) halves() (top, bottom bool) {
	switch c.r {
	case '█', '#':
		return c.ink, c.ink
	case '▀':
		return c.ink, c.paper
	case '▄':
		return c.paper, c.ink
	}
	return c.paper, c.paper
}

// cells reads a line as a terminal would: SGR sequences set the colours
// (only the ones draw writes are accepted), and each rune is drawn in
// them. Without a sequence the colours are a dark theme's.
func cells(line string) ([]cell, error) {
	fg, bg, rev := true, false, false // light ink on a dark background
	var out []cell
	for len(line) > 0 {
		if seq, ok := strings.CutPrefix(line, "\x1b["); ok {
			params, rest, found := strings.Cut(seq, "m")
			if !found {
				return nil, fmt.Errorf("unterminated sequence %q", line)
			}
			for _, p := range strings.Split(params, ";") {
				switch p {
				case "0", "":
					fg, bg, rev = true, false, false
				case "7":
					rev = true
				case "27":
					rev = false
				case "30", "37":
					fg = p == "37"
				case "40", "47":
					bg = p == "47"
				default:
					return nil, fmt.Errorf("unexpected SGR %q", p)
				}
			}
			line = rest
			continue
		}
		r, n := utf8.DecodeRuneInString(line)
		line = line[n:]
		if !strings.ContainsRune(" █#▀▄", r) {
			return nil, fmt.Errorf("unexpected %q", r)
		}
		c := cell{r: r, ink: fg, paper: bg}
		if rev {
			c.ink, c.paper = bg, fg
		}
		out = append(out, c)
	}
	return out, nil
}

// toImage paints a module grid at scale pixels per module inside a margin
// of dark pixels: the terminal background of a dark theme, the hardest case
// for the quiet zone. The block formats paint their own white background;
// for ascii the glyph ink is a dark theme's light foreground, so the same
// painting models both.
func toImage(grid [][]bool, scale, margin int) *image.Gray {
	side := len(grid) + 2*margin
	img := image.NewGray(image.Rect(0, 0, side*scale, side*scale))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			v := uint8(0)
			gx, gy := x-margin, y-margin
			if gy >= 0 && gy < len(grid) && gx >= 0 && gx < len(grid[gy]) && !grid[gy][gx] {
				v = 255
			}
			fill(img, x*scale, y*scale, scale, scale, v)
		}
	}
	return img
}

func fill(img *image.Gray, x0, y0, w, h int, v uint8) {
	for y := y0; y < y0+h; y++ {
		for x := x0; x < x0+w; x++ {
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
}

// decode reads a QR code from an image with gozxing's detector (not the
// "pure barcode" shortcut), as a scanner looking at a screen would.
func decode(t *testing.T, img image.Image, inverted bool) (string, error) {
	t.Helper()
	src := gozxing.NewLuminanceSourceFromImage(img)
	if inverted {
		src = gozxing.NewInvertedLuminanceSource(src)
	}
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
	if err != nil {
		return "", err
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}
