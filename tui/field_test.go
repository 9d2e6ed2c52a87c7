package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// The text fields: what their own keys leave in them.

// Forward word deletion at every position of every field, on the last
// character and on white space included: no panic (bubbles#1056), and the
// text after the cursor up to the end of the next word is gone.
func TestDeleteWordForward(t *testing.T) {
	keys := []tea.KeyMsg{
		{Type: tea.KeyRunes, Runes: []rune("d"), Alt: true},
		{Type: tea.KeyDelete, Alt: true},
	}
	for _, text := range []string{"ab", "a", "ab cd", "ab  cd ", " x", "  ", "ünï cödé", "https://idp.example.com/x?token=ab cd"} {
		for _, field := range []flow.State{flow.StateInvitation, flow.StateName} {
			n := len([]rune(text))
			for pos := 0; pos <= n; pos++ {
				for _, k := range keys {
					s, st := fresh()
					w := press(testWizard(s, st, goldenConfig, 80, 24), enter)
					f := &w.invitation
					if field == flow.StateName {
						w = press(w, paste(goldenLink), enter)
						f = &w.name
					}
					f.SetValue(text)
					f.SetCursor(pos)
					m, _ := w.Update(k)
					w = m.(Model)
					got := w.invitation.Value()
					if field == flow.StateName {
						got = w.name.Value()
					}
					if want := wordDeleted(text, pos); got != want {
						t.Errorf("%v %q at %d, %s: %q, want %q", field, text, pos, k, got, want)
					}
				}
			}
		}
	}
}

// wordDeleted is what forward word deletion leaves: emacs's M-d.
func wordDeleted(text string, pos int) string {
	r := []rune(text)
	end := pos
	for end < len(r) && r[end] == ' ' {
		end++
	}
	for end < len(r) && r[end] != ' ' {
		end++
	}
	return string(r[:pos]) + string(r[end:])
}

// A line feed that arrives as a key of its own is a space: the field holds
// what was sent, and its feedback judges exactly that.
func TestLineFeedInAField(t *testing.T) {
	s, st := fresh()
	w := press(testWizard(s, st, goldenConfig, 80, 24), enter, runes("Zm9vYmFyLXRv"), tea.KeyMsg{Type: tea.KeyCtrlJ}, runes("a2VuLTAx"))
	if got := w.invitation.Value(); got != "Zm9vYmFyLXRv a2VuLTAx" {
		t.Fatalf("field %q", got)
	}
	w.fbHold = false // the feedback after the pause in typing
	if v := w.View(); strings.Contains(v, "Token read") {
		t.Fatalf("the feedback claims a token the field does not hold:\n%s", v)
	}
}

// FuzzFieldKeys drives the two text fields with any sequence of keys,
// Alt and Ctrl combinations included, at any cursor position: no panic
// reaches the person (bubbles#1056 was one), and the field never holds a
// control character.
func FuzzFieldKeys(f *testing.F) {
	f.Add([]byte("ab\x00\x80d"), false)        // ab, Left, Alt-d: bubbles#1056
	f.Add([]byte("x y\x00\x80d"), true)        // in the name field
	f.Add([]byte("a\x7fb\x00\x80\x05"), false) // ü, Left, Alt-Delete
	f.Add([]byte("\x05\x80\x7f\x80b\x80f\x06\x07"), false)
	types := []tea.KeyType{tea.KeyLeft, tea.KeyRight, tea.KeyHome, tea.KeyEnd, tea.KeyBackspace, tea.KeyDelete,
		tea.KeyCtrlA, tea.KeyCtrlE, tea.KeyCtrlK, tea.KeyCtrlU, tea.KeyCtrlW, tea.KeyCtrlB, tea.KeyCtrlF,
		tea.KeyCtrlD, tea.KeyCtrlH, tea.KeyCtrlJ, tea.KeySpace, tea.KeyTab}
	f.Fuzz(func(t *testing.T, data []byte, name bool) {
		if len(data) > 200 {
			return
		}
		s, st := fresh()
		w := press(testWizard(s, st, goldenConfig, 80, 24), enter)
		if name {
			w = press(w, paste(goldenLink), enter)
		}
		for i := 0; i < len(data); i++ {
			var k tea.KeyMsg
			switch b := data[i]; {
			case b < 0x20: // a key of the table
				k = tea.KeyMsg{Type: types[int(b)%len(types)]}
			case b >= 0x80 && i+1 < len(data): // Alt and the next byte
				i++
				k = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{rune(data[i] & 0x7f)}, Alt: true}
				if data[i] < 0x20 {
					k = tea.KeyMsg{Type: types[int(data[i])%len(types)], Alt: true}
				}
			case b == 0x7f: // a letter beyond ASCII
				k = runes("ü")
			default:
				k = runes(string(rune(b)))
			}
			m, cmd := w.Update(k)
			w = settle(m.(Model), cmd)
			_ = w.View()
		}
		for _, v := range []string{w.invitation.Value(), w.name.Value()} {
			if r, bad := flow.Invisible(v); bad {
				t.Fatalf("the field holds %U: %q", r, v)
			}
		}
	})
}
