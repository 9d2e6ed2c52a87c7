package qr

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a rendered QR code.
type Code struct {
	// Text is the lines joined by "\n", without a final newline. Codes
	// drawn by Render carry SGR sequences (colours, reverse video), except
	// ascii; RenderPlain's none. Width and Height are what the code
	// occupies on screen, not byte or rune counts.
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
// limit ≤ 0 means unlimited), for a terminal: with colours. ascii only
// matters for FormatAuto: the caller sets it when the terminal cannot show
// block glyphs (the Linux console, a locale that is not UTF-8). An explicit
// format is honoured as asked, or fails with a *TooSmallError.
func Render(text string, f Format, width, height int, ascii bool) (Code, error) {
	return render(text, f, width, height, ascii, false)
}

// RenderPlain is Render for an output that takes no escape sequence (a
// pipe, a file, TERM=dumb): the code is drawn in the terminal's own colours,
// its light modules and quiet zone as the ink, which reads on a dark
// background and shows inverted on a light one. auto picks small
// there, or ascii when ascii is set; bg, which is nothing but colours, is
// drawn with "#" for its light modules.
func RenderPlain(text string, f Format, width, height int, ascii bool) (Code, error) {
	return render(text, f, width, height, ascii, true)
}

func render(text string, f Format, width, height int, ascii, plain bool) (Code, error) {
	if !f.valid() {
		return Code{}, formatError(string(f)) // before the costly encoding
	}
	m, err := encode(text)
	if err != nil {
		return Code{}, err
	}
	l, err := choose(len(m), f, width, height, ascii, plain)
	if err != nil {
		return Code{}, err
	}
	return draw(m, l), nil
}

// Terminal colours, from the 8 basic ones, which every colour terminal and
// the Linux console have (no bright white 107, no 256 colours). Each line
// sets them at its start (a line may be drawn on its own) and resets them
// after its last cell, so the code's own light background is made of
// coloured cells, which a terminal keeps, rather than trailing blanks,
// which it may drop, and does not bleed into the rest of the screen.
const (
	// sgrCode is large's: black glyphs on white.
	sgrCode = "\x1b[30;47m"
	// sgrCells starts a line of bg and small: white on black, reversed,
	// so the first cell (quiet zone) is white. In these formats dark is
	// always a cell's background; light is reverse video (a whole cell)
	// or the glyph of a half block (the light half). See "Colours".
	sgrCells = "\x1b[37;40;7m"
	sgrLight = "\x1b[7m"  // reverse video on: the cell is white
	sgrDark  = "\x1b[27m" // reverse video off: the background is black
	sgrReset = "\x1b[0m"
)

// draw renders matrix m in layout l. It never fails: l was chosen to fit.
func draw(m [][]bool, l layout) Code {
	w, h := l.size(len(m))
	var text string
	switch l.format {
	case FormatSmall:
		text = drawSmall(m, l)
	case FormatBG:
		text = drawBG(m, l)
	default:
		text = drawPairs(m, l)
	}
	return Code{Text: text, Format: l.format, Width: w, Height: h}
}

// grid is matrix m with the quiet zone of l around it: light(x, y) reports
// a light module, everything outside the matrix being light.
type grid struct {
	m     [][]bool
	quiet int
	side  int
}

func newGrid(m [][]bool, l layout) grid { return grid{m, l.quiet, len(m) + 2*l.quiet} }

func (g grid) light(x, y int) bool {
	x, y = x-g.quiet, y-g.quiet
	n := len(g.m)
	return x < 0 || y < 0 || x >= n || y >= n || !g.m[y][x]
}

// drawPairs draws large and ascii, two cells a module, one row a module.
func drawPairs(m [][]bool, l layout) string {
	g := newGrid(m, l)
	lightCell, darkCell, sgr := "  ", "██", sgrCode
	switch {
	case l.format == FormatASCII:
		lightCell, darkCell, sgr = "##", "  ", "" // see "ASCII polarity"
	case l.plain:
		lightCell, darkCell, sgr = "██", "  ", ""
	}
	var b strings.Builder
	// Block runes are 3 bytes each; this is an upper bound, so one alloc.
	b.Grow(g.side * (g.side*6 + len(sgr) + len(sgrReset) + 1))
	for y := 0; y < g.side; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(sgr)
		for x := 0; x < g.side; x++ {
			if g.light(x, y) {
				b.WriteString(lightCell)
			} else {
				b.WriteString(darkCell)
			}
		}
		if sgr != "" {
			b.WriteString(sgrReset)
		}
	}
	return b.String()
}
