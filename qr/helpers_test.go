package qr

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
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
// quiet zone included. It is the inverse of draw and fails on any cell that
// draw would not produce.
func modules(c Code) ([][]bool, error) {
	var grid [][]bool
	for i, line := range strings.Split(ansi.Strip(c.Text), "\n") {
		cells := []rune(line)
		switch c.Format {
		case FormatSmall:
			top := make([]bool, len(cells))
			bottom := make([]bool, len(cells))
			for x, r := range cells {
				switch r {
				case '█':
					top[x], bottom[x] = true, true
				case '▀':
					top[x] = true
				case '▄':
					bottom[x] = true
				case ' ':
				default:
					return nil, fmt.Errorf("line %d: unexpected %q", i, r)
				}
			}
			grid = append(grid, top, bottom)
		case FormatLarge, FormatASCII:
			if len(cells)%2 != 0 {
				return nil, fmt.Errorf("line %d: odd width %d", i, len(cells))
			}
			darkCell, lightCell := "██", "  "
			if c.Format == FormatASCII {
				darkCell, lightCell = "  ", "##" // see "ASCII polarity"
			}
			row := make([]bool, len(cells)/2)
			for x := range row {
				switch pair := string(cells[2*x : 2*x+2]); pair {
				case darkCell:
					row[x] = true
				case lightCell:
				default:
					return nil, fmt.Errorf("line %d: unexpected %q", i, pair)
				}
			}
			grid = append(grid, row)
		default:
			return nil, fmt.Errorf("format %q", c.Format)
		}
	}
	return grid, nil
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
