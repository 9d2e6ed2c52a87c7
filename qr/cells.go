package qr

import "strings"

// The two formats whose dark modules are a cell's background, so that no
// glyph shape can open a gap in them (see "Colours" in the package
// documentation): bg, where every module is whole cells of reverse video or
// none, and small, whose light halves are the glyph of a half block.

// drawBG draws modules as cells of background colour only: spaces, dark as
// they are (black), light in reverse video (white). One row a module, two
// cells a module or, narrow, one. Plain, "#" stands for a light cell.
func drawBG(m [][]bool, l layout) string {
	g := newGrid(m, l)
	per := 2
	if l.narrow {
		per = 1
	}
	lightCell, darkCell := "  "[:per], "  "[:per]
	if l.plain {
		lightCell = "##"[:per]
	}
	var b strings.Builder
	// Worst case: a reverse switch (5 bytes) before every module.
	b.Grow(g.side * (g.side*(per+len(sgrDark)) + len(sgrCells) + len(sgrReset) + 1))
	for y := 0; y < g.side; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		if !l.plain {
			b.WriteString(sgrCells)
		}
		lit := true // the quiet zone starts every line
		for x := 0; x < g.side; x++ {
			light := g.light(x, y)
			if light != lit && !l.plain {
				b.WriteString(switchTo(light))
			}
			lit = light
			if light {
				b.WriteString(lightCell)
			} else {
				b.WriteString(darkCell)
			}
		}
		if !l.plain {
			b.WriteString(sgrReset)
		}
	}
	return b.String()
}

// drawSmall draws two modules a cell, top and bottom. The dark half of a
// cell is always its black background; the light half is white: the glyph
// ▀ or ▄ in the white foreground, and where both halves are light, a space
// in reverse video or, in a short run inside the code, a white █ (fewer
// bytes than switching reverse video on and off). A font whose block glyphs
// do not fill the cell (the gaps of issue 16) then leaves thin dark lines
// inside light modules, never light stripes across dark ones, and the
// finder patterns stay solid. Plain, the same glyphs stand for the light
// halves, in the terminal's foreground.
func drawSmall(m [][]bool, l layout) string {
	g := newGrid(m, l)
	var b strings.Builder
	// Worst case: a switch (5 bytes) and a 3-byte rune in every cell.
	b.Grow((g.side + 1) / 2 * (g.side*(3+len(sgrDark)) + len(sgrCells) + len(sgrReset) + 1))
	for row := 0; row < (g.side+1)/2; row++ {
		if row > 0 {
			b.WriteByte('\n')
		}
		if !l.plain {
			b.WriteString(sgrCells)
		}
		rev := true // the quiet zone starts every line: a reversed space
		for x := 0; x < g.side; x++ {
			top, bottom := g.light(x, 2*row), g.light(x, 2*row+1)
			block := top && bottom && (l.plain || g.shortRun(x, row))
			if want := top && bottom && !block; want != rev && !l.plain {
				b.WriteString(switchTo(want))
				rev = want
			}
			switch {
			case block:
				b.WriteString("█")
			case top && !bottom:
				b.WriteString("▀")
			case bottom && !top:
				b.WriteString("▄")
			default:
				b.WriteString(" ") // both dark, or both light in reverse video
			}
		}
		if !l.plain {
			b.WriteString(sgrReset)
		}
	}
	return b.String()
}

// shortRun reports whether the both-light cell at x of character row row
// lies in a run of at most 4 such cells, all inside the code: the quiet
// zone is always reverse video, without a glyph.
func (g grid) shortRun(x, row int) bool {
	n := len(g.m)
	inside := func(x int) bool {
		return x >= g.quiet && x < g.quiet+n && 2*row >= g.quiet && 2*row+1 < g.quiet+n
	}
	lit := func(x int) bool { return g.light(x, 2*row) && g.light(x, 2*row+1) }
	lo, hi := x, x
	for lo > 0 && lit(lo-1) {
		lo--
	}
	for hi+1 < g.side && lit(hi+1) {
		hi++
	}
	return inside(lo) && inside(hi) && hi-lo < 4
}

// switchTo is the sequence that makes the next cells white (light) or
// black.
func switchTo(light bool) string {
	if light {
		return sgrLight
	}
	return sgrDark
}
