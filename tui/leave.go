package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// Leaving the wizard: asked (q, Enter on a final screen), interrupted
// (Ctrl-C, a signal), or by itself once nothing is running. Work in flight
// that must not be cut (the store's release, a commit) is waited for; what
// only the screen holds is never cleared unseen.

// leave ends the program now; left does the same where the model is
// returned with the command.
func (w *Model) leave() tea.Cmd {
	w.quitting = true
	return tea.Quit
}

func (w Model) left() (tea.Model, tea.Cmd) {
	cmd := w.leave()
	return w, cmd
}

// settle decides what happens once nothing is running: quit after an
// interruption, or in kiosk mode start over after a while.
func (w *Model) settle() tea.Cmd {
	if w.busy {
		return nil // decided when the effect in flight is done
	}
	if w.quitIdle {
		return w.leave()
	}
	st := w.machine.State
	if !st.Terminal() {
		return nil
	}
	if w.machine.Interrupted || (w.machine.Failure != nil && w.machine.Failure.Class.Kind == flow.ErrInterrupted) {
		if w.opts.Kiosk && w.mustStay() {
			// A kiosk clears its screen when the wizard ends and prints
			// nothing after it: what only this screen holds stays until
			// someone acts on it.
			return nil
		}
		return w.leave()
	}
	if w.opts.Kiosk && !w.mustStay() {
		return kioskReset(w.gen, w.opts.KioskTimeout)
	}
	return nil
}

// whileLeaving takes the messages that arrive after quit asked to leave
// once the effect in flight is done: no key may start anything now, but
// asking a second time leaves at once (the lock goes with the process, and
// the next run sweeps the reserved file). done is false for the messages
// Update still handles as usual.
func (w Model) whileLeaving(msg tea.Msg) (m tea.Model, cmd tea.Cmd, done bool) {
	switch msg := msg.(type) {
	case effectDoneMsg, tea.WindowSizeMsg:
		return w, nil, false
	case tea.KeyMsg:
		if !key.Matches(msg, w.keys.Abort) {
			return w, nil, true
		}
		m, cmd := w.left()
		return m, cmd, true
	case InterruptMsg:
		m, cmd := w.left()
		return m, cmd, true
	}
	return w, nil, true
}

// quit ends the wizard; with an effect in flight (the store's release,
// which also removes the journal's reserved file) once it is done, and
// until then nothing but its outcome is taken.
func (w Model) quit() (tea.Model, tea.Cmd) {
	w.phone = w.phone.close()
	if w.busy {
		w.quitIdle = true
		return w, nil
	}
	return w.left()
}

// interrupt is Ctrl-C: quit at once where nothing was sent, let the commit
// finish first where the accept call may have reached the service.
func (w Model) interrupt() (tea.Model, tea.Cmd) {
	w.phone = w.phone.close()
	if w.machine.State.Terminal() {
		return w.quit()
	}
	if w.machine.Interrupted && w.machine.State.Working() && w.machine.NothingSent() {
		// Asked twice while nothing has been sent: the work in flight
		// (a lock, a store on a dead mount) may not heed its cancellation,
		// and leaving loses nothing; the lock goes with the process.
		return w.left()
	}
	before := w.machine.State
	w.loop.Interrupt(&w.machine)
	w.afterStep(before)
	if w.machine.State.Working() && w.machine.NothingSent() && w.cancel != nil {
		w.cancel() // nothing sent yet: stop waiting for the lock or the token
	}
	return w, w.next()
}
