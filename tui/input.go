package tui

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// handleKey maps a key to a flow event or to a field edit. Keys that are
// disabled in this state do nothing, exactly as the help line says.
func (w Model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := w.keys
	if w.escapedText(msg) {
		return w.unknownSequence()
	}
	switch {
	case key.Matches(msg, k.Abort):
		return w.interrupt()
	case key.Matches(msg, k.Help):
		w.help.ShowAll = !w.help.ShowAll
		if w.help.ShowAll && !w.allKeysFit() {
			w.help.ShowAll = false
			w.notice = "All the keys need a larger window."
		}
		return w, nil
	case w.phone.on():
		return w.phoneKey(msg)
	case key.Matches(msg, k.Quit):
		return w.quit()
	case key.Matches(msg, k.Back):
		w.step(flow.Back{})
		return w, w.next()
	}
	switch w.machine.State {
	case flow.StateWelcome:
		if key.Matches(msg, k.Continue) {
			w.step(flow.Next{})
		}

	case flow.StateInvitation:
		return w.invitationKey(msg)
	case flow.StateServer:
		switch {
		case key.Matches(msg, k.Yes):
			return w.command(cmdTrust, msg)
		case key.Matches(msg, k.No):
			w.step(flow.ServerConfirmed{OK: false})
			w.notice = "Not using that server. Give a link to your organization's service, or run enroll with --server."
		}
	case flow.StateName:
		return w.nameKey(msg)
	case flow.StateReview:
		switch {
		case key.Matches(msg, k.Accept):
			return w.command(cmdAccept, msg)
		case key.Matches(msg, k.Decline):
			return w.command(cmdDecline, msg)
		case key.Matches(msg, k.DeclineSure):
			return w.command(cmdDeclineSure, msg)
		case key.Matches(msg, k.DeclineKeep):
			w.confirmDecline = false
			return w, nil
		}
	case flow.StateFailed:
		if key.Matches(msg, k.Retry) {
			return w.command(cmdRetry, msg)
		}
	case flow.StateDone, flow.StateDeclined:
		if key.Matches(msg, k.Reveal) {
			return w.command(cmdReveal, msg)
		}
		if key.Matches(msg, k.ShowID) {
			w.showingID = !w.showingID
			if w.showingID && w.machine.Result != nil {
				return w, w.prepareQR(w.machine.Result.ID) // drawn once encoded
			}
			return w, nil
		}
		if key.Matches(msg, k.Finish) {
			return w.quit()
		}
	}
	return w, w.next()
}

// invitationKey edits the invitation field. A paste or a barcode scanner's
// burst arrives as runes, often followed by Enter in the same read; both go
// through here unchanged.
func (w Model) invitationKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, w.keys.Use):
		if w.tainted {
			// An escape sequence arrived in the middle of this text: what
			// is left is not what was sent.
			w.tainted = false
			w.invitation.Reset()
			return w, nil
		}
		w.step(flow.InvitationEntered{Text: w.invitation.Value()})
		return w, w.next()
	case key.Matches(msg, w.keys.Phone):
		return w.openPhone()
	case key.Matches(msg, w.keys.Fill):
		w.invitation.SetValue(w.opts.DemoLink)
		w.invitation.CursorEnd()
		w.machine.InputErr, w.notice, w.tainted, w.fbHold = nil, "", false, false
		return w, nil
	}
	if msg, ok := refuseInvisible(&w, msg); !ok {
		return w, nil
	} else {
		before := w.invitation.Value()
		cmd := edit(&w.invitation, msg)
		if w.invitation.Value() != before {
			w.machine.InputErr = nil // the refusal was of the text before
		}
		if burst := msg.Type == tea.KeyRunes && (msg.Paste || len(msg.Runes) > 1); burst || w.invitation.Value() == before {
			w.fbHold = false
			return w, cmd
		}
		// One key of typing: the feedback waits for a pause.
		if !w.fbHold {
			w.fbHold, w.fbValue = true, before
		}
		w.fbSeq++
		seq := w.fbSeq
		return w, tea.Batch(cmd, w.opts.Clock.After(feedbackDelay, feedbackMsg{seq: seq}))
	}
}

// feedbackDelay is the pause in typing after which the feedback line under
// the invitation field catches up with the field.
const feedbackDelay = 400 * time.Millisecond

func (w Model) nameKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if key.Matches(msg, w.keys.Use) {
		if w.tainted {
			w.tainted = false
			w.name.Reset()
			return w, nil
		}
		if w.nameUnchanged() {
			// Unchanged: do not overwrite a name the administrator may
			// have set on the service since.
			w.step(flow.NameDefault{})
		} else {
			w.step(flow.NameEntered{Text: w.name.Value()})
		}
		return w, w.next()
	}
	if msg, ok := refuseInvisible(&w, msg); !ok {
		return w, nil
	} else {
		before := w.name.Value()
		cmd := edit(&w.name, msg)
		if w.name.Value() != before {
			w.machine.InputErr = nil // the refusal was of the name before
		}
		return w, cmd
	}
}

// refuseInvisible keeps control and format characters out of the fields:
// the text input would drop controls silently (turning a link with an
// escape sequence into a different, wrong token) and draw format characters
// such as bidi overrides as they are. The person is told instead. Line
// breaks and tabs pass: a paste often ends with one, and the field turns
// them into spaces the parser trims.
func refuseInvisible(w *Model, msg tea.KeyMsg) (tea.KeyMsg, bool) {
	if msg.Type != tea.KeyRunes {
		return msg, true
	}
	if strings.ContainsRune(string(msg.Runes), utf8.RuneError) {
		// A character that could not be read (U+FFFD, or bytes that were
		// not UTF-8): the field would drop it, silently changing the text.
		w.notice = "Not inserted: the text holds a character that could not be read (U+FFFD); it is not what was sent. Copy it again."
		return msg, false
	}
	if r, bad := invisible(string(msg.Runes)); bad {
		again := "Copy the link again, from plain text."
		if w.machine.State == flow.StateName {
			again = "Type the name instead."
		}
		w.notice = fmt.Sprintf("Not inserted: the text contains an invisible character %s. %s", flow.Sanitize(string(r)), again)
		return msg, false
	}
	if !w.tainted { // the escape sequence's notice stays while its burst ends
		w.notice = ""
	}
	return msg, true
}

// invisible finds the first character a field would not draw as itself.
func invisible(s string) (rune, bool) { return flow.Invisible(s) }

// unknownSequence handles what Bubble Tea's input parser could not read:
// an escape sequence inside a burst that was not a bracketed paste. The
// parser swallows it and passes the text around it on, so the field would
// hold a different, wrong token. The field is cleared and marked instead.
func (w Model) unknownSequence() (tea.Model, tea.Cmd) {
	if w.machine.State != flow.StateInvitation && w.machine.State != flow.StateName {
		return w, nil
	}
	// The rest of a scan or paste may still follow, within milliseconds:
	// until the input has been quiet a moment, what reaches the field is
	// not what was sent, and Enter clears it. Then the field is cleared of
	// such leftovers and takes the person's next try as usual.
	w.tainted, w.fbHold = true, false
	w.taintSeq++
	quiet := w.taintTimer(w.taintSeq)
	w.clearField()
	if w.machine.State == flow.StateName {
		w.notice = "Not inserted: an escape sequence arrived inside the text. Type the name again."
		return w, quiet
	}
	w.notice = "Not inserted: an escape sequence arrived inside the text. Copy the link again, from plain text, and paste or scan it again."
	return w, quiet
}

// escapedText reports a character with Alt in a text field that is none of
// the field's own Alt keys (a word left or right, delete a word): ESC and a
// character that arrived inside a scan or a paste, such as the start of a
// terminal title sequence. Inserting the character would quietly change
// the token.
func (w Model) escapedText(msg tea.KeyMsg) bool {
	if !msg.Alt || (msg.Type != tea.KeyRunes && msg.Type != tea.KeySpace) || !w.typing() || w.phone.on() {
		return false
	}
	km := w.invitation.KeyMap
	return !key.Matches(msg, km.WordForward, km.WordBackward, km.DeleteWordForward, km.DeleteWordBackward)
}

// taintQuiet is how long input must pause after an escape sequence inside
// text before the field takes new text again: a scanner's or a paste's
// burst arrives far faster, a person's next try far slower.
const taintQuiet = 250 * time.Millisecond

type taintOverMsg struct{ seq int }

func (w Model) taintTimer(seq int) tea.Cmd {
	return w.opts.Clock.After(taintQuiet, taintOverMsg{seq: seq})
}

// taintOver ends the wait after an escape sequence: whatever the rest of
// the burst left in the field goes, and the notice stays.
func (w Model) taintOver(msg taintOverMsg) (tea.Model, tea.Cmd) {
	if msg.seq == w.taintSeq && w.tainted {
		w.tainted = false
		w.clearField()
	}
	return w, nil
}

// clearField empties the field of the current screen.
func (w *Model) clearField() {
	if w.machine.State == flow.StateName {
		w.name.Reset()
	} else if w.machine.State == flow.StateInvitation {
		w.invitation.Reset()
	}
}

// isUnreadableInput reports Bubble Tea's messages for input it could not
// parse (an escape sequence inside typed or scanned text). Their types are
// unexported, so they are told by name.
func isUnreadableInput(msg tea.Msg) bool {
	name := fmt.Sprintf("%T", msg)
	return name == "tea.unknownCSISequenceMsg" || name == "tea.unknownInputByteMsg"
}

// refusalShown reports whether the screen already says why the field's
// text is refused: Enter would only say it again, so it is not offered
// until the text changes.
func (w Model) refusalShown() bool {
	if w.tainted {
		return false // Enter clears what an escape sequence left behind
	}
	if w.machine.InputErr != nil {
		return true
	}
	if w.machine.State == flow.StateName {
		_, err := flow.ValidateName(w.name.Value()) // shown as it is typed
		return err != nil && !w.nameUnchanged()
	}
	if w.machine.State != flow.StateInvitation || w.fbHold {
		return false
	}
	v := w.invitation.Value()
	if strings.TrimSpace(v) == "" {
		return false
	}
	_, err := w.read(v)
	return err != nil
}

// read is what the machine will make of text as an invitation, as it is
// typed, scanned or sent from a phone: read once per text, and refused
// where this run could not use it (a token alone with no server known).
func (w Model) read(text string) (flow.Invitation, error) {
	inv, err := w.parsed.parse(text)
	if err == nil {
		err = w.machine.Usable(inv)
	}
	return inv, err
}

// nameUnchanged reports an enrolled device's own name left as it is: it is
// kept (not sent), whatever the rules for a new name say of it.
func (w Model) nameUnchanged() bool {
	ex := w.machine.Existing
	return ex != nil && strings.TrimSpace(w.name.Value()) == strings.TrimSpace(ex.Name)
}

// inField reports whether a text field has the keys: letters are text
// there, not keys (the hand-off screen, over the invitation screen, has
// none).
func (w Model) inField() bool { return w.typing() && !w.phone.on() }

// typing reports whether letters are text in a field rather than keys.
func (w Model) typing() bool {
	st := w.machine.State
	return st == flow.StateInvitation || st == flow.StateName
}

// prefill puts text from outside (a stored name the server chose, a link
// the desktop opened) into a field only if it holds nothing invisible: the
// field draws its value as it is.
func (w *Model) prefill(field *textinput.Model, text string) {
	if r, bad := invisible(text); bad {
		w.notice = "Not filled in: the text holds an invisible character " + flow.Sanitize(string(r)) + "."
		return
	}
	field.SetValue(text)
	field.CursorEnd()
}
