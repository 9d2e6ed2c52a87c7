package qr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestInvariants checks, for every format and several sizes, what a
// terminal needs: the stated size, equal visible widths, nothing a terminal
// could trim, only the expected runes, and a quiet zone of at least 2 —
// with colours, and plain (no escape sequence at all).
func TestInvariants(t *testing.T) {
	allowed := map[Format]string{
		FormatSmall: " ▀▄█", // both light: a space in reverse video, or a white █
		FormatLarge: " █",
		FormatBG:    " ",
		FormatASCII: " #",
	}
	allowedPlain := map[Format]string{
		FormatSmall: " ▀▄█",
		FormatLarge: " █",
		FormatBG:    " #",
		FormatASCII: " #",
	}
	for _, link := range []string{makeLink(40), emulatorLink, makeLink(120), makeLink(300), makeLink(1000)} {
		for _, f := range []Format{FormatSmall, FormatLarge, FormatBG, FormatASCII} {
			for _, squeezed := range []bool{false, true} {
				t.Run(fmt.Sprintf("%d/%s/squeezed=%v", len(link), f, squeezed), func(t *testing.T) {
					code := renderAt(t, link, f, squeezed)
					checkLines(t, code, allowed[f], false)
					checkQuietZone(t, code)
					plain := renderPlainAt(t, link, f, code.Width, code.Height)
					checkLines(t, plain, allowedPlain[f], true)
					checkQuietZone(t, plain)
				})
			}
		}
	}
}

// renderPlainAt is RenderPlain in exactly the room a code took.
func renderPlainAt(t *testing.T, link string, f Format, width, height int) Code {
	t.Helper()
	code, err := RenderPlain(link, f, width, height, false)
	if err != nil {
		t.Fatal(err)
	}
	if code.Width != width || code.Height != height {
		t.Fatalf("plain %d×%d, coloured %d×%d", code.Width, code.Height, width, height)
	}
	return code
}

func checkLines(t *testing.T, code Code, allowed string, plain bool) {
	t.Helper()
	lines := strings.Split(code.Text, "\n")
	if len(lines) != code.Height {
		t.Fatalf("%d lines, Height %d", len(lines), code.Height)
	}
	for i, line := range lines {
		if w := ansi.StringWidth(line); w != code.Width {
			t.Fatalf("line %d: width %d, want %d", i, w, code.Width)
		}
		if strings.TrimRight(line, " ") != line {
			t.Fatalf("line %d ends in spaces a terminal may drop: %q", i, line)
		}
		body := line
		if plain || code.Format == FormatASCII {
			// Ink at both ends, so no terminal or copy can trim the
			// quiet zone.
			if strings.ContainsRune(line, '\x1b') {
				t.Fatalf("line %d holds an escape sequence: %q", i, line)
			}
			if first, last := []rune(line)[0], []rune(line)[len([]rune(line))-1]; first == ' ' || last == ' ' {
				t.Fatalf("line %d must start and end with ink: %q", i, line)
			}
		} else {
			// Colours set at the start of every line (a line may be
			// drawn on its own) and reset after the last cell.
			start := sgrCells
			if code.Format == FormatLarge {
				start = sgrCode
			}
			var ok bool
			if body, ok = strings.CutPrefix(body, start); !ok {
				t.Fatalf("line %d does not start with %q: %q", i, start, line)
			}
			if body, ok = strings.CutSuffix(body, sgrReset); !ok {
				t.Fatalf("line %d does not end with %q: %q", i, sgrReset, line)
			}
			body = ansi.Strip(body)
		}
		for _, r := range body {
			if !strings.ContainsRune(allowed, r) {
				t.Fatalf("line %d: rune %q not in %q", i, r, allowed)
			}
		}
	}
}

func checkQuietZone(t *testing.T, code Code) {
	t.Helper()
	grid, err := modules(code)
	if err != nil {
		t.Fatal(err)
	}
	rows, cols := len(grid), len(grid[0])
	// A half-block code has an odd number of module rows; the last
	// character row carries one extra light row.
	if rows != cols && !(code.Format == FormatSmall && rows == cols+1) {
		t.Fatalf("grid %d×%d is not square", cols, rows)
	}
	for y, row := range grid {
		for x, dark := range row {
			edge := min(x, y, cols-1-x, rows-1-y)
			if dark && edge < 2 {
				t.Fatalf("dark module at (%d,%d) inside the quiet zone", x, y)
			}
		}
	}
	// And the code really reaches the quiet zone: the finder pattern's
	// corner sits right after it on the top left.
	q := 0
	for !grid[q][q] {
		q++
	}
	if q < 2 || q > 4 {
		t.Fatalf("quiet zone %d, want 2..4", q)
	}
}
