// Package qr draws QR codes as terminal text so that a phone can scan them
// off the screen (DESIGN §6).
//
// The codes themselves — segments, version, error correction at level
// Medium, mask — are github.com/skip2/go-qrcode's. This package adds what a
// terminal needs: the formats below, the quiet zone, fitting the code to
// the space, the ASCII polarity, and a [Cache] that keeps encoding (about a
// millisecond for a long link) off the render path.
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
// On a light-themed terminal the ascii code appears reversed; phone cameras
// and apps that try inverted codes read it. "#" is used because every font
// has it and it is one of the densest ASCII glyphs. ASCII remains the least
// robust format: prefer the block formats wherever they can be shown.
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
