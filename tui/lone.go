package tui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// A command needs a person. A key that changes what the service or the
// disk sees, or shows the secret — accept, decline, trust a server, retry,
// reveal, use a phone's text — counts only when it arrives alone: no other
// input within quietWindow before it, and none within quietWindow after
// it. Text typed, pasted or scanned outside a field (a link whose host
// holds a d, "see a link", "thanks s") is never a series of commands, even
// when a slow scanner or a terminal without bracketed paste delivers it
// one character at a time.

// quietWindow is how long input must be quiet before and after a command
// key. Keyboard-wedge scanners type 2–10 ms a character, and those set to
// pause between characters pause well under 100 ms; a person typing text
// leaves 100–300 ms between keys. A key pressed as a decision is preceded
// by reading the screen and followed by watching it, seconds each. 400 ms
// lies between the two and costs the person 0.4 s between the key and the
// wizard acting on it.
const quietWindow = 400 * time.Millisecond

// command is a key that needs a person.
type command int

const (
	cmdAccept      command = iota + 1
	cmdDecline             // asks first: declining uses the invitation up
	cmdDeclineSure         // the answer to that question
	cmdTrust               // use the server a link names
	cmdRetry               // repeat an accept or a decline
	cmdReveal              // show the secret once
	cmdPhoneUse            // the codes match: use the phone's text
	cmdPhoneSwap           // the hand-off page's address instead of its code, or back
)

var commandWords = map[command]string{
	cmdAccept: "accept", cmdDecline: "decline", cmdDeclineSure: "decline", cmdTrust: "use this server",
	cmdRetry: "retry", cmdReveal: "show the secret", cmdPhoneUse: "use the phone's text",
	cmdPhoneSwap: "swap the code and the address",
}

// pendingCommand is a command key waiting for the quiet after it.
type pendingCommand struct {
	cmd command
	key string
	seq int
}

type commandDueMsg struct{ seq int }

// Clock is the wizard's time for input: when a key arrived, and a message
// delivered a while later. Tests drive it; the wizard uses the real one.
type Clock interface {
	Now() time.Time
	After(d time.Duration, msg tea.Msg) tea.Cmd
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) After(d time.Duration, msg tea.Msg) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}

// keyPressed takes a key, a paste or a scan, and hands it to handleKey
// unless it came with other input where letters are keys.
func (w Model) keyPressed(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	w.heard(msg)
	w.idle++
	// Any key hides a revealed secret for good, whatever else it does
	// (the screen says so); the reveal key itself shows it after this.
	w.showing = false
	if w.hidden() && !key.Matches(msg, w.keys.Abort) {
		return w, w.kioskIdle()
	}
	if w.lineEnd {
		return w, w.kioskIdle() // the LF of a CR LF: the Enter was the line's end
	}
	var cmds []tea.Cmd
	if stray := !w.stray.IsZero(); stray {
		w.stray = time.Time{}
		if !w.alone && w.inField() {
			// Input followed the unknown key at once: it was a
			// sequence inside a scan or a paste after all.
			m, cmd := w.unknownSequence()
			w, cmds = m.(Model), append(cmds, cmd)
		}
	}
	if !w.alone && !w.inField() && !key.Matches(msg, w.keys.Abort) {
		// Outside a text field, what arrives with other input (a scan
		// one character a read, a paste, typing) is text, never a
		// series of keys: no letter, Enter or Esc of it acts. On the
		// welcome screen it is the invitation.
		if w.machine.State == flow.StateWelcome && msg.Type == tea.KeyRunes {
			w.step(flow.Next{})
			m, cmd := w.invitationKey(msg)
			return m, tea.Batch(append(cmds, cmd, m.(Model).kioskIdle())...)
		}
		switch {
		case w.cancelled: // what the cancelled command's notice says is more to the point
		case msg.Type == tea.KeyRunes && len(msg.Runes) == 1 && !msg.Paste:
			w.notice = fmt.Sprintf("Ignored %s: it arrived with other input, as typed or scanned text does. Press keys one at a time.", flow.Sanitize(msg.String()))
		default:
			w.notice = "Ignored text that arrived outside the invitation field."
		}
		return w, tea.Batch(append(cmds, w.kioskIdle())...)
	}
	if w.machine.State == flow.StateWelcome && msg.Type == tea.KeyRunes && !key.Matches(msg, w.keys.Quit, w.keys.Help) {
		// A letter alone that is no key here: the first of the invitation.
		w.step(flow.Next{})
	}
	m, cmd := w.handleKey(msg)
	cmd = tea.Batch(append(cmds, cmd)...)
	if after := m.(Model); after.tainted && after.taintSeq == w.taintSeq {
		// Still the burst that carried an escape sequence: the quiet
		// it waits for starts again.
		after.taintSeq++
		m, cmd = after, tea.Batch(cmd, after.taintTimer(after.taintSeq))
	}
	return m, tea.Batch(cmd, m.(Model).kioskIdle())
}

// heard records the arrival of input (a key, a paste, a scan; nil for an
// escape sequence Bubble Tea could not read): whether it came alone — one
// key, no other input within quietWindow before it — and that a command
// waiting for quiet did not get it.
func (w *Model) heard(msg tea.Msg) {
	now := w.opts.Clock.Now()
	k, isKey := msg.(tea.KeyMsg)
	together := isKey && k.Type == tea.KeyRunes && (k.Paste || len(k.Runes) > 1)
	quiet := w.lastInput.IsZero() || now.Sub(w.lastInput) >= quietWindow
	w.alone = !together && quiet
	w.lineEnd = isKey && k.Type == tea.KeyCtrlJ && w.lastWasEnter && !quiet
	w.lastWasEnter = isKey && k.Type == tea.KeyEnter
	w.lastInput = now
	w.cancelled = w.pending != nil
	if p := w.pending; p != nil {
		w.pending = nil
		w.notice = fmt.Sprintf("Did not %s: other input followed %s. Press %s on its own to %s.",
			commandWords[p.cmd], p.key, p.key, commandWords[p.cmd])
	}
}

// command takes a command key that came alone (Update lets no other key
// outside a text field through): it acts once the input has stayed quiet
// after it too.
func (w Model) command(c command, msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := flow.Sanitize(msg.String())
	w.cmdSeq++
	w.pending = &pendingCommand{cmd: c, key: k, seq: w.cmdSeq}
	return w, w.opts.Clock.After(quietWindow, commandDueMsg{seq: w.cmdSeq})
}

// commandDue acts on a command that stayed alone, if its screen still
// offers it (a kiosk restart, a window too small, an effect's end may
// have changed the screen meanwhile).
func (w Model) commandDue(msg commandDueMsg) (tea.Model, tea.Cmd) {
	p := w.pending
	if p == nil || p.seq != msg.seq {
		return w, nil
	}
	w.pending = nil
	if w.hidden() {
		w.notice = fmt.Sprintf("Did not %s: the window became too small. Press %s again once the screen shows.", commandWords[p.cmd], p.key)
		return w, nil
	}
	k := w.keys
	switch {
	case p.cmd == cmdAccept && k.Accept.Enabled():
		w.step(flow.AcceptChosen{})
	case p.cmd == cmdDecline && k.Decline.Enabled():
		w.confirmDecline = true
	case p.cmd == cmdDeclineSure && k.DeclineSure.Enabled():
		w.confirmDecline = false
		w.step(flow.DeclineChosen{})
	case p.cmd == cmdTrust && k.Yes.Enabled():
		w.step(flow.ServerConfirmed{OK: true})
	case p.cmd == cmdRetry && k.Retry.Enabled():
		w.step(flow.Retry{})
	case p.cmd == cmdReveal && k.Reveal.Enabled():
		w.revealed, w.showing = true, true
		return w, nil
	case p.cmd == cmdPhoneUse && k.PhoneConfirm.Enabled():
		return w.usePhoneText()
	case p.cmd == cmdPhoneSwap && k.PhoneSwap.Enabled():
		w.phone.address = !w.phone.address
		return w, nil
	}
	return w, w.next()
}
