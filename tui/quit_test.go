package tui

import (
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// quits reports whether cmd ends the program. Only immediate commands are
// run: the wizard here (no kiosk, no spinner) returns no timers.
func quits(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch msg := cmd().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		for _, c := range msg {
			if quits(c) {
				return true
			}
		}
	}
	return false
}

// Leaving the wizard while an effect is in flight (the store's release,
// which removes the journal's reserved file) waits for it, whichever way
// the person leaves; meanwhile no key starts anything.
func TestQuitWaitsForTheEffectInFlight(t *testing.T) {
	for _, leave := range []struct {
		name string
		msg  tea.Msg
	}{
		{"q", runes("q")},
		{"ctrl+c", tea.KeyMsg{Type: tea.KeyCtrlC}},
		{"signal", InterruptMsg{}},
	} {
		t.Run(leave.name, func(t *testing.T) {
			s, st := &memService{answer: goldenClient}, &memStore{}
			s.acceptErr = fmt.Errorf("accept: dial tcp: connection refused: %w", flow.ErrNetwork)
			w := press(testWizard(s, st, flow.Config{Server: goldenServer, Hostname: "lab-1"}, 80, 24), enter, paste(goldenLink), enter, enter, runes("a"))
			if w.machine.State != flow.StateFailed {
				t.Fatalf("state %v; want the failure screen", w.machine.State)
			}
			w.busy = true // as if the release were still running
			m, cmd := w.Update(leave.msg)
			w = m.(Model)
			if quits(cmd) || w.quitting {
				t.Fatal("quit with an effect in flight")
			}
			m, cmd = w.Update(runes("r")) // retry: must not start anything now
			w = m.(Model)
			if w.machine.State != flow.StateFailed || quits(cmd) {
				t.Fatalf("a key acted while leaving: state %v", w.machine.State)
			}
			m, cmd = w.Update(effectDoneMsg{})
			if !quits(cmd) {
				t.Fatal("did not quit once the effect was done")
			}
			_ = m
		})
	}
}
