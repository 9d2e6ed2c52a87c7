// Package qr draws QR codes as terminal text so that a phone can scan them
// off the screen (DESIGN §6).
//
// # Formats
//
//   - small: half blocks (▀ ▄ █ and space), one cell per module across and
//     two modules per row, so a module is roughly square on a cell that is
//     twice as tall as it is wide. The most compact, the default fallback.
//   - large: full blocks, each module "██" or "  " (two cells, one row).
//   - ascii: for terminals that cannot show block glyphs (no UTF-8 locale,
//     the Linux console without such a font). Each module is two cells,
//     "  " or "##", no colour.
//   - auto: ascii when the caller says the terminal needs it, otherwise the
//     largest of large and small that fits the space it is given.
//
// # Light background
//
// Block formats draw black (SGR 30) on white (SGR 47) and set the colours on
// every line, so the code has its own light background and quiet zone and
// scans on dark themes too. Only the 16 basic colours are used: the Linux
// console has no bright white (107) or 256 colours. Each line ends with a
// reset after its last cell, so the background does not bleed into the rest
// of the screen and the quiet zone on the right is made of coloured cells,
// which a terminal keeps, rather than trailing blanks, which it may drop.
//
// # ASCII polarity
//
// ASCII has no colours to rely on, so the terminal's own colours decide what
// the camera sees: glyph ink is the foreground, blank cells are the
// background. In ascii the ink stands for the LIGHT modules: dark modules are
// blanks, light modules and the quiet zone are "##". The reason is the
// terminal that needs ASCII most, the Linux console, which is always light
// text on black; there, and on any dark theme, the code then has the normal
// polarity (dark modules on a light field). The other convention ("#" for
// dark) would appear reversed on those screens, and a reversed code is only
// read by scanners that try an inverted pass — gozxing's QR reader, like
// ZXing's, does not. On a light-themed terminal our ascii code appears
// reversed instead; phone cameras and apps that try inverted codes still read
// it, and the Linux console case matters more. A bonus: the quiet zone is
// visible "#" glyphs on every side, so every line starts and ends with ink
// and no terminal can trim the right-hand quiet zone away.
//
// "#" is used because it is in every font and is one of the densest ASCII
// glyphs, so a light module looks as uniformly light as ASCII allows.
//
// # Quiet zone
//
// 4 modules (the standard) when that fits, else 3, else 2 — never fewer,
// since against a dark terminal background the quiet zone is the only thing
// separating the finder patterns from the surroundings. In auto, a larger
// format with a narrower quiet zone wins over a smaller format with a wider
// one: module size matters more for scanning than extra margin beyond 2.
//
// # Width of the glyphs
//
// ▀ ▄ █ are "ambiguous width" in Unicode; terminals configured to draw
// ambiguous characters double-width (some CJK setups) will distort the block
// formats. Such terminals should be given ascii.
package qr
