// Package noquery keeps Bubble Tea v1 from querying the terminal when the
// program starts. Bubble Tea's own init asks Lip Gloss whether the
// background is dark, which writes OSC 11 and a cursor-position request to
// stdout and waits up to five seconds for an answer that serial consoles
// and many embedded terminals never send (charmbracelet/bubbletea#1771) —
// for every command, even `enroll version`.
//
// enroll draws with the 16 ANSI colours only, which follow the terminal's
// own theme, so the answer is not needed. Declaring it here, in an init
// that Go runs before Bubble Tea's (packages initialise in import-path
// order once their imports are ready, and "enroll/…" sorts before
// "github.com/…"), makes Lip Gloss skip the query. Import it for its side
// effect wherever Bubble Tea is imported. TestDemoInPTY (pty_test.go)
// fails if the binary sends any terminal query, so the order is checked.
package noquery

import "github.com/charmbracelet/lipgloss"

func init() {
	lipgloss.SetHasDarkBackground(true)
}
