package tui

import (
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// bindings are all of the wizard's key bindings, the help's and Ctrl-C.
func bindings(k keyMap) []key.Binding {
	var out []key.Binding
	for _, col := range k.FullHelp() {
		out = append(out, col...)
	}
	return out
}

// keyFor is the key press a binding's key name stands for.
func keyFor(t *testing.T, name string) tea.KeyMsg {
	t.Helper()
	if len([]rune(name)) == 1 {
		return runes(name)
	}
	for _, k := range []tea.KeyMsg{enter, esc, {Type: tea.KeyTab}, {Type: tea.KeyCtrlC}, {Type: tea.KeyCtrlO}} {
		if k.String() == name {
			return k
		}
	}
	t.Fatalf("no key press for %q", name)
	return tea.KeyMsg{}
}

// The help line is always true: on every screen, each key it offers does
// something, and a key whose every binding is switched off does nothing
// (in a text field, letters are text and are not checked; while the
// secret shows, any key hides it).
func TestHelpIsAlwaysTrue(t *testing.T) {
	for _, sc := range append(goldenScreens(), handOffScreens()...) {
		t.Run(sc.name, func(t *testing.T) {
			w := sc.setup(80, 24)
			before := w.View()
			offered := map[string]bool{}
			for _, b := range bindings(w.keys) {
				for _, k := range b.Keys() {
					offered[k] = offered[k] || b.Enabled()
				}
			}
			for _, b := range bindings(w.keys) {
				for _, k := range b.Keys() {
					msg := keyFor(t, k)
					m, cmd := w.Update(msg)
					after := m.(Model)
					changed := cmd != nil || after.View() != before || after.machine.State != w.machine.State
					switch {
					case b.Enabled() && !changed:
						t.Errorf("%s (%s) is offered and does nothing", k, b.Help().Desc)
					case !offered[k] && w.showing:
						// The screen says "any key hides it", and that is
						// all such a key may do.
						if after.showing || after.machine.State != w.machine.State || after.revealed != w.revealed {
							t.Errorf("%s (%s) did more than hide the secret", k, b.Help().Desc)
						}
					case !offered[k] && changed && !(w.typing() && msg.Type == tea.KeyRunes):
						t.Errorf("%s (%s) is switched off and did something", k, b.Help().Desc)
					}
				}
			}
		})
	}
}

// handOffScreens are the invitation screen with a phone hand-off on offer,
// and the hand-off screen waiting and with a result.
func handOffScreens() []goldenScreen {
	received := func(wd, h int) Model {
		p := newFakePhone()
		m, _ := phoneWizard(p, wd, h, false).Update(phoneResultMsg{phone: p, result: PhoneResult{Text: goldenLink, From: "192.168.1.50", Code: "123 456"}})
		return m.(Model)
	}
	return []goldenScreen{
		{"invitation-with-phone", func(wd, h int) Model {
			w := testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, wd, h)
			w.opts.StartPhone = func() (Phone, error) { return newFakePhone(), nil }
			w.keys.sync(&w)
			return press(w, enter)
		}},
		{"handoff-waiting", func(wd, h int) Model { return phoneWizard(newFakePhone(), wd, h, false) }},
		{"handoff-received", received},
	}
}
