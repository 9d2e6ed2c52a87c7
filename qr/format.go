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
	FormatASCII Format = "ascii"
)

// formats lists the flag values in the order they are shown in errors.
var formats = []Format{FormatAuto, FormatSmall, FormatLarge, FormatASCII}

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
	return fmt.Errorf("qr: unknown format %q (want auto, small, large or ascii)", s)
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

// layout is a concrete way to draw a code: a non-auto format and a quiet
// zone. The cache compares layouts to decide whether to redraw.
type layout struct {
	format Format
	quiet  int
}

// size returns the cells a code of n×n modules occupies in this layout.
func (l layout) size(n int) (width, height int) {
	side := n + 2*l.quiet
	if l.format == FormatSmall {
		// One cell per module across, two modules per row; an odd last
		// row gets a light bottom half, which only widens the quiet zone.
		return side, (side + 1) / 2
	}
	// large and ascii: two cells per module across so modules are square.
	return 2 * side, side
}

// fits reports whether a size fits the space; a limit ≤ 0 means unlimited
// (for output that is not a terminal, e.g. a file or a pipe).
func fits(w, h, width, height int) bool {
	return (width <= 0 || w <= width) && (height <= 0 || h <= height)
}

// choose picks the layout for an n×n code: the first candidate format, with
// the widest quiet zone, that fits. Candidates are ordered largest first, so
// a bigger format with a quiet zone of 2 beats a smaller one with 4.
func choose(n int, f Format, width, height int, ascii bool) (layout, error) {
	var candidates []Format
	switch {
	case !f.valid():
		return layout{}, formatError(string(f))
	case f != FormatAuto:
		candidates = []Format{f}
	case ascii:
		candidates = []Format{FormatASCII}
	default:
		candidates = []Format{FormatLarge, FormatSmall}
	}
	for _, c := range candidates {
		for q := maxQuiet; q >= minQuiet; q-- {
			l := layout{format: c, quiet: q}
			if w, h := l.size(n); fits(w, h, width, height) {
				return l, nil
			}
		}
	}
	// Report what the smallest allowed layout would need, so the caller
	// can say how big the terminal must be.
	smallest := layout{format: candidates[len(candidates)-1], quiet: minQuiet}
	w, h := smallest.size(n)
	return layout{}, &TooSmallError{NeedWidth: w, NeedHeight: h}
}
