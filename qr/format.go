package qr

import (
	"fmt"
	"strings"
)

// Format is how a code is drawn; see the package documentation.
type Format string

// The formats accepted by [ParseFormat] and [Render].
const (
	FormatAuto  Format = "auto"
	FormatSmall Format = "small"
	FormatLarge Format = "large"
	FormatBG    Format = "bg"
	FormatASCII Format = "ascii"
)

// formats lists the flag values in the order they are shown in errors and
// help texts.
var formats = []Format{FormatAuto, FormatSmall, FormatLarge, FormatBG, FormatASCII}

// FormatNames is the list of format names for a flag's help text:
// "auto, small, large, bg or ascii".
func FormatNames() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ParseFormat reads a --qr style flag value. Case and surrounding spaces are
// forgiven because the value often comes from a config file or environment.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if f.valid() {
		return f, nil
	}
	return "", formatError(s)
}

func formatError(s string) error {
	return fmt.Errorf("qr: unknown format %q (want %s)", s, FormatNames())
}

func (f Format) valid() bool {
	for _, g := range formats {
		if f == g {
			return true
		}
	}
	return false
}

// Quiet zone bounds, in modules. 4 is what ISO/IEC 18004 asks for; 2 is the
// least we ever draw (see the package documentation).
const (
	maxQuiet = 4
	minQuiet = 2
)

// layout is a concrete way to draw a code: a non-auto format, its width
// per module (bg only: narrow is one cell a module instead of two), a quiet
// zone, and whether escape sequences may be written. The cache compares
// layouts to decide whether to redraw.
type layout struct {
	format Format
	narrow bool
	quiet  int
	plain  bool
}

// size returns the cells a code of n×n modules occupies in this layout.
func (l layout) size(n int) (width, height int) {
	side := n + 2*l.quiet
	switch {
	case l.format == FormatSmall:
		// One cell per module across, two modules per row; an odd last
		// row gets a light bottom half, which only widens the quiet zone.
		return side, (side + 1) / 2
	case l.narrow:
		// One cell per module: modules twice as tall as wide.
		return side, side
	}
	// large, ascii and bg: two cells per module across so modules are square.
	return 2 * side, side
}

// fits reports whether a size fits the space; a limit ≤ 0 means unlimited
// (for output that is not a terminal, e.g. a file or a pipe).
func fits(w, h, width, height int) bool {
	return (width <= 0 || w <= width) && (height <= 0 || h <= height)
}

// candidates are the layouts, without their quiet zone, that f may be drawn
// in, largest first. ascii says the output cannot show block glyphs; plain
// that it takes no escape sequence (see the package documentation's table).
// The lists are fixed, so that choosing allocates nothing.
func candidates(f Format, ascii, plain bool) []layout {
	switch {
	case f == FormatAuto && plain && ascii:
		return onlyASCIIPlain
	case f == FormatAuto && plain:
		return glyphsPlain
	case f == FormatAuto && ascii, f == FormatBG && !plain:
		return bgOnly
	case f == FormatAuto:
		return bgOrSmall
	case f == FormatBG:
		return bgPlain
	}
	for i := range explicit {
		if explicit[i].format == f && explicit[i].plain == plain {
			return explicit[i : i+1]
		}
	}
	return nil // not reached: f is valid
}

// The candidate lists; read only.
var (
	bgOnly         = []layout{{format: FormatBG}, {format: FormatBG, narrow: true}}
	bgOrSmall      = []layout{{format: FormatBG}, {format: FormatSmall}}
	bgPlain        = []layout{{format: FormatBG, plain: true}, {format: FormatBG, narrow: true, plain: true}}
	glyphsPlain    = []layout{{format: FormatSmall, plain: true}}
	onlyASCIIPlain = []layout{{format: FormatASCII, plain: true}}
	explicit       = []layout{
		{format: FormatSmall}, {format: FormatLarge}, {format: FormatASCII},
		{format: FormatSmall, plain: true}, {format: FormatLarge, plain: true}, {format: FormatASCII, plain: true},
	}
)

// choose picks the layout for an n×n code: the first candidate, with the
// widest quiet zone, that fits. Candidates are ordered largest first, so a
// bigger layout with a quiet zone of 2 beats a smaller one with 4.
func choose(n int, f Format, width, height int, ascii, plain bool) (layout, error) {
	if !f.valid() {
		return layout{}, formatError(string(f))
	}
	cands := candidates(f, ascii, plain)
	for _, c := range cands {
		for q := maxQuiet; q >= minQuiet; q-- {
			l := c
			l.quiet = q
			if w, h := l.size(n); fits(w, h, width, height) {
				return l, nil
			}
		}
	}
	// Report what the smallest allowed layout would need, so the caller
	// can say how big the terminal must be.
	smallest := cands[len(cands)-1]
	smallest.quiet = minQuiet
	w, h := smallest.size(n)
	return layout{}, &TooSmallError{NeedWidth: w, NeedHeight: h}
}
