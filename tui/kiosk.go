package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// Kiosk mode: a device in a public place starts over by itself, so that a
// half-done enrollment is never left for the next person to finish and
// nothing of a finished one stays on the screen.

// kioskReset starts over after the given time on a final screen; gen tells
// a stale timer from the current one.
func kioskReset(gen int, after time.Duration) tea.Cmd {
	return tea.Tick(after, func(time.Time) tea.Msg { return kioskResetMsg{gen: gen} })
}

// mustStay is true for the screens that carry the only copy of something
// (credentials or an answer that could not be stored) or the recovery path
// of an uncertain outcome: a kiosk never clears them by itself.
func (w Model) mustStay() bool {
	f := w.machine.Failure
	return f != nil && (f.Reveal != nil || f.RevealRaw != nil || f.Class.Exit == flow.ExitUnknown)
}

type kioskIdleMsg struct{ gen, idle int }

// kioskIdle starts over in kiosk mode when nobody touched a key for the
// timeout on any screen where the person could still act, so a half-done
// enrollment is never left for the next person to finish.
func (w Model) kioskIdle() tea.Cmd {
	if !w.opts.Kiosk {
		return nil
	}
	gen, idle := w.gen, w.idle
	return tea.Tick(w.opts.KioskTimeout, func(time.Time) tea.Msg { return kioskIdleMsg{gen: gen, idle: idle} })
}

func (w Model) kioskIdleDone(msg kioskIdleMsg) (tea.Model, tea.Cmd) {
	if msg.gen != w.gen || msg.idle != w.idle || w.machine.State.Working() || w.mustStay() {
		return w, nil
	}
	w.phone = w.phone.close()
	w.restart()
	return w, w.next()
}
