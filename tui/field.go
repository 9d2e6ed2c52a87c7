package tui

import (
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// edit passes a key to a text field, mending two things Bubbles' field
// would do to it:
//
//   - forward word deletion (Alt-d, Alt-Delete) with the cursor on the last
//     character indexes past the text and panics (charmbracelet/bubbles#1056,
//     v1.0.0 and v2); it is done here instead;
//   - a line feed or a tab that arrives as a key of its own (text pasted
//     without bracketed paste, a scanner set to end with LF) would be
//     dropped, gluing the words around it into one; it is a space instead,
//     as a line break inside pasted text already is, so the field holds
//     what was sent and its feedback judges exactly that.
func edit(f *textinput.Model, msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, f.KeyMap.DeleteWordForward):
		deleteWordForward(f)
		return nil
	case msg.Type == tea.KeyCtrlJ, msg.Type == tea.KeyTab:
		msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{' '}}
	}
	var cmd tea.Cmd
	*f, cmd = f.Update(msg)
	return cmd
}

// deleteWordForward deletes from the cursor to the end of the word after
// it: the spaces before that word, then the word. The cursor stays.
func deleteWordForward(f *textinput.Model) {
	v := []rune(f.Value())
	pos := f.Position()
	if pos >= len(v) {
		return
	}
	end := pos
	for end < len(v) && unicode.IsSpace(v[end]) {
		end++
	}
	for end < len(v) && !unicode.IsSpace(v[end]) {
		end++
	}
	f.SetValue(string(v[:pos]) + string(v[end:]))
	f.SetCursor(pos)
}
