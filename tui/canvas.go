package tui

import (
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"enroll/flow"
	"enroll/qr"
)

// canvas is what a screen draws with: the window's size, the styles and
// the QR codes. The wizard and its hand-off screen each hold one.
type canvas struct {
	width, height int
	styles        styles
	qrCache       *qr.Cache // shared by the wizard, its hand-off screen and their copies
	qrFormat      qr.Format
	ascii         bool
}

func (c canvas) contentWidth() int { return min(c.width, 80) - 2 }

// paint renders each line of text in style on its own, so that a wrapped
// paragraph is not padded with blanks to its widest line.
func (c canvas) paint(style lipgloss.Style, text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return strings.Join(lines, "\n")
}

// row is one "label  value" line; values from outside are sanitized and
// cut to the width, never wrapped (a wrapped URL cannot be copied).
func (c canvas) row(label, value string) string {
	room := c.contentWidth() - 12
	return c.styles.label.Render(label) + c.styles.value.Render(c.cut(flow.Sanitize(value), room))
}

// wrap breaks prose at spaces, without padding: a hyphenated command or a
// URL is not split unless it is wider than the line, and then at the
// line's width rather than cut; no trailing blanks are sent.
func (c canvas) wrap(s string) string { return wrapTo(s, c.contentWidth()) }

func wrapTo(s string, width int) string {
	var b strings.Builder
	col := 0
	for i, word := range strings.Fields(s) {
		n := ansi.StringWidth(word)
		switch {
		case i == 0:
		case col+1+n > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	// A word wider than the window (a long path, a support reference) is
	// broken rather than left for the renderer, which would cut it off
	// without a sign.
	return ansi.Hardwrap(b.String(), width, true)
}

// cut shortens s to width cells by taking out its middle, so both the host
// and the end of a long link stay visible.
func (c canvas) cut(s string, width int) string {
	more := c.styles.glyph.more
	if width < 8 || lipgloss.Width(s) <= width {
		return s
	}
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	n := len([]rune(more))
	head := (width - n) * 2 / 3
	tail := width - n - head
	return string(r[:head]) + more + string(r[len(r)-tail:])
}

// mask shows a token by its ends only; a short one not at all.
func (c canvas) mask(token string) string { return maskToken(token, c.styles.glyph.more, "(hidden)") }

// qrFor renders url as a QR code that leaves reserve lines of the screen
// free; the cache makes this cheap on every frame. It never encodes: that
// takes about a millisecond, a frame's whole budget, so a screen gets its
// text encoded ahead by prepareQR, and until then this returns
// qr.ErrNotReady (noRoomForCode says the code is being prepared).
func (c canvas) qrFor(url string, reserve int) (qr.Code, error) {
	return c.qrIn(url, c.width, c.height-reserve)
}

// qrIn is qrFor in a box of width×height cells, at least one each way (a
// limit of 0 would mean none).
func (c canvas) qrIn(url string, width, height int) (qr.Code, error) {
	return c.qrCache.Peek(url, c.qrFormat, max(width, 1), max(height, 1), c.ascii)
}

// qrReadyMsg says a code was encoded into the cache: the next frame draws it.
type qrReadyMsg struct{}

// prepareQR encodes text into the cache off the render path, or is nil if
// that is done already. Whatever enters a screen that shows a code returns
// it, so the screen never waits for a code nobody is preparing.
func (c canvas) prepareQR(text string) tea.Cmd {
	if c.qrCache.Ready(text) {
		return nil
	}
	cache := c.qrCache
	return func() tea.Msg {
		cache.Prepare(text)
		return qrReadyMsg{}
	}
}

// link draws a URL as lines of width, each an OSC 8 hyperlink where the
// terminal can take them, so a click opens the whole address.
func (c canvas) link(url string, width int) []string {
	safe := flow.Sanitize(url)
	// Broken across lines, never cut: someone may have to type it into
	// the phone. Each piece links to the whole address.
	var lines []string
	for rs := []rune(safe); len(rs) > 0; {
		n := min(len(rs), max(width, 10))
		piece := string(rs[:n])
		rs = rs[n:]
		if !c.ascii {
			piece = "\x1b]8;;" + safe + "\x1b\\" + piece + "\x1b]8;;\x1b\\"
		}
		lines = append(lines, piece)
	}
	return lines
}

// noRoomForCode says, in the person's words, why a QR code is not drawn:
// it is still being encoded, or for want of room, the window size that
// would show it, counting the reserved lines the screen keeps besides the
// code.
func (c canvas) noRoomForCode(err error, reserve int) string {
	if errors.Is(err, qr.ErrNotReady) {
		return "Preparing the code" + c.styles.glyph.more
	}
	var small *qr.TooSmallError
	if errors.As(err, &small) {
		x := c.styles.glyph.times
		return fmt.Sprintf("The window is too small for the code: it needs at least %d%s%d.",
			max(small.NeedWidth, minWidth), x, max(small.NeedHeight+reserve, minHeight))
	}
	return "The code cannot be drawn: " + flow.SanitizeMax(err.Error(), 200) + "."
}
