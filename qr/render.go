package qr

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a rendered QR code.
type Code struct {
	// Text is the lines joined by "\n", without a final newline. Block
	// formats carry SGR colour sequences; Width and Height are what the
	// code occupies on screen, not byte or rune counts.
	Text   string
	Format Format // the format drawn: never FormatAuto
	Width  int    // cells across
	Height int    // rows
}

// ErrTooSmall is matched (with errors.Is) by the error returned when the
// code does not fit even in the smallest allowed format; show the link as
// text instead.
var ErrTooSmall = errors.New("qr: not enough room to show the code")

// TooSmallError says how much room the smallest allowed layout needs, so the
// caller can tell the operator how far to enlarge the terminal.
type TooSmallError struct {
	NeedWidth, NeedHeight int
}

func (e *TooSmallError) Error() string {
	return fmt.Sprintf("%v: it needs %d×%d cells", ErrTooSmall, e.NeedWidth, e.NeedHeight)
}

// Is makes errors.Is(err, ErrTooSmall) true.
func (e *TooSmallError) Is(target error) bool { return target == ErrTooSmall }

// Render encodes text and draws it in format f within width×height cells (a
// limit ≤ 0 means unlimited). ascii only matters for FormatAuto: the caller
// sets it when the terminal cannot show block glyphs. An explicit format is
// honoured as asked, or fails with a *TooSmallError.
func Render(text string, f Format, width, height int, ascii bool) (Code, error) {
	if !f.valid() {
		return Code{}, formatError(string(f)) // before the costly encoding
	}
	m, err := encode(text)
	if err != nil {
		return Code{}, err
	}
	l, err := choose(len(m), f, width, height, ascii)
	if err != nil {
		return Code{}, err
	}
	return draw(m, l), nil
}

// Terminal colours for block formats: black on white from the basic 16
// colours, which every terminal including the Linux console has.
const (
	sgrCode  = "\x1b[30;47m"
	sgrReset = "\x1b[0m"
)

// draw renders matrix m in layout l. It never fails: l was chosen to fit.
func draw(m [][]bool, l layout) Code {
	n := len(m)
	w, h := l.size(n)
	side := n + 2*l.quiet
	// dark reports the module at (x, y) of the code with its quiet zone;
	// everything outside the matrix is light.
	dark := func(x, y int) bool {
		x, y = x-l.quiet, y-l.quiet
		return x >= 0 && y >= 0 && x < n && y < n && m[y][x]
	}

	var b strings.Builder
	// Block runes are 3 bytes each; this is an upper bound, so one alloc.
	b.Grow(h * (w*3 + len(sgrCode) + len(sgrReset) + 1))
	for row := 0; row < h; row++ {
		if row > 0 {
			b.WriteByte('\n')
		}
		switch l.format {
		case FormatLarge:
			b.WriteString(sgrCode)
			for x := 0; x < side; x++ {
				if dark(x, row) {
					b.WriteString("██")
				} else {
					b.WriteString("  ")
				}
			}
			b.WriteString(sgrReset)
		case FormatSmall:
			b.WriteString(sgrCode)
			top, bottom := 2*row, 2*row+1
			for x := 0; x < side; x++ {
				b.WriteString(halfBlock(dark(x, top), dark(x, bottom)))
			}
			b.WriteString(sgrReset)
		case FormatASCII:
			// Ink is the light module; see "ASCII polarity".
			for x := 0; x < side; x++ {
				if dark(x, row) {
					b.WriteString("  ")
				} else {
					b.WriteString("##")
				}
			}
		}
	}
	return Code{Text: b.String(), Format: l.format, Width: w, Height: h}
}

// halfBlock is the cell for a dark/light top and bottom module, drawn in the
// foreground (dark) colour over the light background.
func halfBlock(top, bottom bool) string {
	switch {
	case top && bottom:
		return "█"
	case top:
		return "▀"
	case bottom:
		return "▄"
	default:
		return " "
	}
}

// Plain is the code without colours, for an output that must carry no
// escape sequence (NO_COLOR, --no-color, TERM=dumb, a pipe or a file): the
// terminal's own colours draw it, so the light modules and the quiet zone
// become the ink, as in the ASCII format, and the code reads on a dark
// background, which consoles and most terminals have. On a light one it
// shows inverted, which many scanners read too; the coloured form, which
// reads everywhere, needs colour.
func (c Code) Plain() string {
	if c.Format == FormatASCII {
		return c.Text
	}
	swap := strings.NewReplacer(sgrCode, "", sgrReset, "", "█", " ", " ", "█", "▀", "▄", "▄", "▀")
	return swap.Replace(c.Text)
}
