package tui

import (
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// recorder keeps the first message that is not a key press and quits.
type recorder struct{ got tea.Msg }

func (r recorder) Init() tea.Cmd { return nil }
func (r recorder) View() string  { return "" }
func (r recorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case tea.KeyMsg, tea.WindowSizeMsg:
		return r, nil
	}
	r.got = msg
	return r, tea.Quit
}

// unreadable is what Bubble Tea's own input reader makes of an escape
// sequence it cannot read: the wizard recognises such messages by their
// (unexported) type names, so a rename upstream must fail here.
func unreadable(t *testing.T, seq string) tea.Msg {
	t.Helper()
	in, feed := io.Pipe()
	p := tea.NewProgram(recorder{}, tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
	go func() { _, _ = io.WriteString(feed, seq) }()
	done := make(chan tea.Model, 1)
	go func() { m, _ := p.Run(); done <- m }()
	select {
	case m := <-done:
		msg := m.(recorder).got
		if !isUnreadableInput(msg) {
			t.Fatalf("Bubble Tea reads %q as %T, which the wizard does not recognise", seq, msg)
		}
		return msg
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing assertion
		p.Kill()
		t.Fatal("Bubble Tea never reported the sequence")
	}
	return nil
}

// An unknown key pressed on its own (Ctrl-Delete, which Bubble Tea v1 does
// not know) does nothing; one that other input follows at once was inside
// a scan after all, and clears the field as below.
func TestUnknownKeyAlone(t *testing.T) {
	msg := unreadable(t, "\x1b[3;5~")
	w := press(testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24), enter, runes("hello world"))
	m, _ := w.Update(msg)
	if w = m.(Model); w.tainted || w.invitation.Value() != "hello world" || !strings.Contains(w.notice, "That key does nothing here") {
		t.Fatalf("alone: tainted %v, field %q, notice %q", w.tainted, w.invitation.Value(), w.notice)
	}
	w = press(w, runes("!")) // a second later: the person typing on
	if w.tainted || w.invitation.Value() != "hello world!" {
		t.Fatalf("after it: tainted %v, field %q", w.tainted, w.invitation.Value())
	}
	m, _ = w.Update(msg)
	w = press(inBurst(m.(Model)), runes("xyz")) // at once: a burst
	if !w.tainted || strings.Contains(w.invitation.Value(), "hello") {
		t.Fatalf("followed at once: tainted %v, field %q", w.tainted, w.invitation.Value())
	}
}

// An unreadable escape sequence inside typed or scanned text clears the
// field that has the focus, says so, and the Enter that ends the burst
// clears what followed instead of submitting it: what is left would not be
// what was sent.
func TestUnreadableSequenceClearsTheField(t *testing.T) {
	for _, seq := range []string{"\x1b[99z", "\x1b[99~"} {
		msg := unreadable(t, seq)
		for _, tt := range []struct {
			name   string
			keys   []tea.KeyMsg
			state  flow.State
			notice string
			field  func(Model) string
		}{
			{"invitation", []tea.KeyMsg{enter}, flow.StateInvitation, "Copy the link again", func(w Model) string { return w.invitation.Value() }},
			{"name", []tea.KeyMsg{enter, paste(goldenLink), enter}, flow.StateName, "Type the name again", func(w Model) string { return w.name.Value() }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				w := press(testWizard(&memService{answer: goldenClient}, &memStore{}, flow.Config{Server: goldenServer, Hostname: "lab-1"}, 80, 24), tt.keys...)
				if w.machine.State != tt.state {
					t.Fatalf("state %v; want %v", w.machine.State, tt.state)
				}
				w = press(inBurst(w), runes("ab"))
				m, _ := w.Update(msg)
				w = m.(Model)
				if got := tt.field(w); got != "" || !strings.Contains(w.notice, tt.notice) {
					t.Fatalf("after the sequence: field %q, notice %q", got, w.notice)
				}
				w = press(w, runes("cd"), enter)
				if w.machine.State != tt.state || tt.field(w) != "" {
					t.Errorf("Enter after the sequence: state %v, field %q; want the field cleared, nothing submitted", w.machine.State, tt.field(w))
				}
			})
		}
	}
}

// A character with Alt inside text (ESC ] of a terminal title sequence) is
// refused like any escape sequence, while the field's own Alt keys (a word
// left) still work; after a quiet moment, what the burst left is cleared and
// the next try is taken as usual.
func TestEscapedTextInAField(t *testing.T) {
	w := press(testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24), enter, paste(goldenLink), enter)
	if w.machine.State != flow.StateName {
		t.Fatalf("state %v", w.machine.State)
	}
	w = press(w, tea.KeyMsg{Type: tea.KeyCtrlU}, runes("lab"))
	m, cmd := w.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("]"), Alt: true})
	w = m.(Model)
	if !w.tainted || w.name.Value() != "" || !strings.Contains(w.notice, "escape sequence") || cmd == nil {
		t.Fatalf("alt+]: tainted %v, field %q, notice %q", w.tainted, w.name.Value(), w.notice)
	}
	first := w.taintSeq
	w = press(w, runes("0;evil-1")) // the rest of the burst
	if !strings.Contains(w.notice, "escape sequence") || !strings.Contains(w.View(), "enter clear") || !strings.Contains(w.View(), "Discarding the rest of that input") {
		t.Fatalf("the rest of the burst: notice %q, screen:\n%s", w.notice, w.View())
	}
	if m, _ = w.Update(taintOverMsg{seq: first}); !m.(Model).tainted {
		t.Fatal("the quiet ended while the burst went on")
	}
	m, _ = w.Update(taintOverMsg{seq: w.taintSeq})
	if w = m.(Model); w.tainted || w.name.Value() != "" {
		t.Fatalf("after the quiet: tainted %v, field %q", w.tainted, w.name.Value())
	}
	w = press(w, runes("lab-2"), tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("b"), Alt: true}, runes("x"))
	if w.tainted || w.name.Value() != "xlab-2" {
		t.Fatalf("alt+b is a word left: tainted %v, field %q", w.tainted, w.name.Value())
	}
	if w = press(w, enter); w.machine.State != flow.StateReview || w.machine.Name != "xlab-2" {
		t.Fatalf("the next try was not taken: state %v, name %q", w.machine.State, w.machine.Name)
	}
}

// After an escape sequence was refused on the invitation screen, the
// person's next paste is taken once the input has been quiet.
func TestNextTryAfterAnEscapeSequence(t *testing.T) {
	w := press(inBurst(press(testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24), enter)), runes("ab"))
	m, _ := w.Update(unreadable(t, "\x1b[99z"))
	w = m.(Model)
	m, _ = w.Update(taintOverMsg{seq: w.taintSeq})
	w = m.(Model)
	w.opts.Clock.(*testClock).step = time.Second // a person's next try
	if w = press(w, paste(goldenLink), enter); w.machine.State != flow.StateName {
		t.Fatalf("the next paste was not taken: state %v, field %q, notice %q", w.machine.State, w.invitation.Value(), w.notice)
	}
}

// ESC and a space inside text is refused like ESC and a letter.
func TestEscapedSpaceInAField(t *testing.T) {
	w := press(testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24), enter, runes("ab"))
	m, _ := w.Update(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}, Alt: true})
	if w = m.(Model); !w.tainted || w.invitation.Value() != "" {
		t.Fatalf("alt+space: tainted %v, field %q", w.tainted, w.invitation.Value())
	}
}

// An invisible character pasted into the name asks for the name to be
// typed, not for a link to be copied again.
func TestInvisibleCharacterInTheName(t *testing.T) {
	w := press(testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24), enter, paste(goldenLink), enter)
	w = press(w, paste("lab\u202eevil"))
	if !strings.Contains(w.notice, "Type the name instead") || strings.Contains(w.notice, "link") {
		t.Fatalf("notice %q", w.notice)
	}
}
