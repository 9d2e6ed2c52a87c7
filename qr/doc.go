// Package qr draws QR codes as terminal text so that a phone can scan them
// off the screen (DESIGN §6).
//
// The codes themselves — segments, version, error correction at level
// Medium, mask — are github.com/skip2/go-qrcode's. This package adds what a
// terminal needs: the formats below, the quiet zone, fitting the code to
// the space, the colours, and a [Cache] that keeps encoding (about a
// millisecond for a long link) off the render path.
//
// # Formats
//
//   - bg: background colour only. Every module is whole cells of spaces,
//     black or, in reverse video, white: no glyph is drawn, so no font can
//     open a gap in it. One row a module; two cells a module (square
//     modules) or, where only that fits, one ("narrow", modules twice as
//     tall as wide). The most robust; as big as large.
//   - small: half blocks, one cell per module across and two modules per
//     row, so a module is roughly square. The most compact. Dark halves are
//     the cell's black background, light halves the white glyph ▀ or ▄ (or
//     a reverse-video space when both are light), so a font whose block
//     glyphs do not fill the cell leaves thin dark lines inside light
//     modules instead of light stripes across the finder patterns.
//   - large: full blocks, each module "██" or "  " (two cells, one row),
//     black glyphs on white. Decodes only where the font's █ fills the
//     cell; auto never picks it.
//   - ascii: each module two cells, "  " or "##", no colour. For outputs
//     with no colour and no block glyphs; auto picks it only there.
//   - auto: the table below.
//
// # What auto picks
//
// The first layout of the row that fits the space, each with the widest
// quiet zone that fits (4, 3, then 2):
//
//	where                                      auto tries
//	a terminal, UTF-8 locale, not TERM=linux   bg (2 cells a module), small
//	TERM=linux, or a locale that is not UTF-8  bg (2 cells), bg narrow (1 cell)
//	no escapes (pipe, file, TERM=dumb), UTF-8  small — plain
//	no escapes, not UTF-8 or TERM=linux        ascii
//
// The caller says which row: Render's ascii is "no block glyphs", and
// [RenderPlain] is the no-escape rows. bg narrow is never tried where small
// can be drawn: it needs the rows of two small codes, and its tall modules
// are refused by ZXing-style detectors (zbar reads them).
//
// # Colours
//
// bg and small draw white (SGR 37) on black (40), with reverse video (7)
// for white cells; large draws black (30) on white (47). Every code thus
// has its own light background and quiet zone and scans on dark themes
// too. Only the 8 basic colours are used: the Linux console has no bright
// white and no 256 colours. Each line sets its colours at its start and
// resets them after its last cell, so the quiet zone on the right is made
// of coloured cells, which a terminal keeps, rather than trailing blanks,
// which it may drop. On a terminal that ignores colours, bg and small still
// show, dark on light where the screen is dark: black is the background and
// white the foreground.
//
// A code is a picture, not decoration: NO_COLOR and --no-color take every
// other colour away, but not a code's black and white, without which it
// would read inverted on light themes. RenderPlain, for outputs that take
// no escape sequence at all, draws the light modules and the quiet zone
// as the terminal's own ink: right on a dark background, inverted on a
// light one.
//
// # ASCII polarity
//
// ASCII has no colours to rely on, so the terminal's own colours decide what
// the camera sees: glyph ink is the foreground, blank cells the background.
// In ascii the ink stands for the LIGHT modules: dark modules are blanks,
// light modules and the quiet zone are "##". Reasons:
//
//   - The terminal that needs ASCII most, the Linux console, is always light
//     text on black; there and on any dark theme the code has the normal
//     polarity. With "#" for dark it would be reversed on those screens, and
//     gozxing's QR reader has no inverted pass (ZXing has one only as an
//     opt-in hint), nor do some phone scanners.
//   - Glyphs are not solid: every ASCII glyph leaves blank rows and side
//     bearings, so "##" is striped. Painted in a console font and blurred
//     and sampled like a camera image (see glyph_test.go), over a sweep of
//     blur radius and resolution "#" as light decoded all test codes at
//     moderate blur, on a dark theme directly and on a light theme with an
//     inverted pass; "#" as dark decoded only under heavy blur on a light
//     theme and never on a dark one.
//   - The quiet zone is ink on every side, so every line starts and ends
//     with "#" and no terminal can trim the right-hand quiet zone away.
//
// ASCII remains the least robust format; since bg exists, the console gets
// bg and ascii is for outputs without colour.
//
// # Quiet zone
//
// 4 modules (the standard) when that fits, else 3, else 2 — never fewer,
// since against a dark terminal background the quiet zone is the only thing
// separating the finder patterns from the surroundings. A larger layout
// with a narrower quiet zone wins over a smaller one with a wider one:
// module size matters more for scanning than extra margin beyond 2.
//
// # Tested on screen
//
// gaps_test.go paints codes with the glyph geometry of fonts that leave
// gaps and decodes them; bench/qrshots (TestQRShots) shows them in xterm
// under Xvfb in several fonts and themes and decodes the screenshots with
// zbarimg. Its table is bench/qrshots.md.
//
// # Width of the glyphs
//
// ▀ ▄ █ are "ambiguous width" in Unicode; terminals configured to draw
// ambiguous characters double-width (some CJK setups) will distort small
// and large. bg draws spaces only and is not affected.
package qr
