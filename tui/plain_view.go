package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"enroll/flow"
)

// This file is the plain runner's side of the terminal: what it says, and
// how it reads answers. plain.go decides when.

// plainView writes what the plain runner says: short lines, one fact each,
// no escape sequences, so that a screen reader reads them in order and a
// serial console shows them as they are. Everything that came from outside
// goes through flow.Sanitize here. Write errors are ignored: a session that
// went away shows up as the end of the input, which interrupts the run.
type plainView struct{ w io.Writer }

// Longest values shown, in runes, so a hostile server cannot flood a screen
// reader with one field.
const (
	plainMaxValue = 200
	plainMaxError = 400
)

func (v plainView) say(line string) { fmt.Fprintln(v.w, line) }

func (v plainView) prompt(p string) { fmt.Fprint(v.w, p) }

// row is "Label: value" with the value sanitized.
func (v plainView) row(label, value string) {
	v.say(label + ": " + flow.SanitizeMax(value, plainMaxValue))
}

// enter says what a new state means. Terminal states are reported by the
// runner once their last effects have run.
func (v plainView) enter(m flow.Machine, prev flow.State, prefilled string) {
	if prev == flow.StateLoading {
		for _, w := range m.Warnings {
			v.say("Note: " + flow.SanitizeMax(w, plainMaxError))
		}
		if m.Recovered {
			v.say("An earlier enrollment was interrupted after the service answered. Completing it first.")
		}
	}
	if prev == flow.StateInvitation && (m.State == flow.StateServer || m.State == flow.StateName) {
		v.invitationTaken(m.Invitation)
	}
	if line := m.State.Doing(); line != "" {
		v.say(line + "...")
		return
	}
	switch m.State {
	case flow.StateWelcome:
		v.welcome(m)
	case flow.StateInvitation:
		v.say("Step 2 of 4: invitation.")
		if m.Server != "" {
			v.say("Paste or type the invitation link, or the token alone, then press Enter.")
		} else {
			v.say("Paste or type the invitation link, then press Enter.")
		}
		if prefilled != "" {
			v.say(prefilled)
		}
	case flow.StateName:
		v.say("Step 3 of 4: device name.")
		v.say("Press Enter to keep the name in brackets, or type another.")
	case flow.StateReview:
		v.review(m)
	}
}

func (v plainView) welcome(m flow.Machine) {
	v.say("Step 1 of 4: this device.")
	if m.Server != "" {
		v.row(flow.LabelServer, m.Server)
	} else {
		v.say("Server: none set; it will be read from the invitation link.")
	}
	if ex := m.Existing; ex != nil {
		v.say("This device is already a device client.")
		v.row(flow.LabelName, ex.Name)
		v.row(flow.LabelID, ex.ID)
	} else {
		v.say("This device is new: it is not a device client yet.")
	}
	v.say("An invitation lets this device use an organization's licenses.")
	v.say("It comes from the administrator, usually as a link in an e-mail.")
	if m.Server != "" {
		v.say("The token alone, without the link, works too.")
	}
}

func (v plainView) invitationTaken(inv flow.Invitation) {
	switch {
	case inv.Host != "":
		v.say("Token read from a link at " + flow.SanitizeMax(inv.Host, plainMaxValue) + ".")
	case inv.Source == flow.SourceScheme:
		v.say("Token read from an app link.")
	default:
		v.say("Token read as typed.")
	}
	v.say("Token: " + plainMask(inv.Token))
}

func (v plainView) review(m flow.Machine) {
	v.say("Step 4 of 4: review.")
	v.row(flow.LabelServer, m.Server)
	if ex := m.Existing; ex != nil {
		v.say("Device: already a device client; it is added to the invitation's groups.")
		v.row(flow.LabelID, ex.ID)
	} else {
		v.say("Device: new; the service creates a device client for it.")
	}
	switch {
	case m.NameChosen:
		v.row(flow.LabelName, m.Name)
	case m.Existing != nil && m.Existing.Name != "":
		v.say("Name: unchanged, " + flow.SanitizeMax(m.Existing.Name, plainMaxValue))
	default:
		v.say("Name: unchanged")
	}
	v.say("Token: " + plainMask(m.Invitation.Token))
}

// outcome says how a run that did not fail ended.
func (v plainView) outcome(o flow.Outcome) {
	for _, h := range o.Headline {
		v.say(h)
	}
	if o.Note != "" {
		v.say(o.Note)
	}
	v.rows(o.Rows)
	if o.Next != "" {
		v.say(o.Next)
	}
}

// rows lists an outcome's rows, without the enrollment time (it is now).
func (v plainView) rows(rows []flow.Row) {
	for _, r := range rows {
		if !r.Record {
			v.row(r.Label, r.Value)
		}
	}
}

// failure explains a failure: what happened, why, what was kept where, and
// what to do. reveal is false when credentials kept nowhere else were
// already shown in this run: they are printed once, as the CLI does.
func (v plainView) failure(o flow.Outcome, reveal bool) {
	for _, h := range o.Headline {
		v.say(h)
	}
	if o.Reason != "" {
		v.say("Reason: " + flow.SanitizeMax(o.Reason, plainMaxError))
	}
	switch {
	case o.Shown != "" && !reveal:
		v.say("The credentials shown above are still kept nowhere else: copy them now.")
		return
	case o.Shown != "":
		// What would otherwise be lost (DESIGN §5): whole, escaped.
		v.say(o.Shown)
		v.rows(o.Rows)
		if o.Raw != "" {
			v.say(flow.SanitizeMax(o.Raw, 64<<10))
		}
	case o.Note != "":
		v.say(flow.SanitizeMax(o.Note, plainMaxError))
	}
	if o.Next != "" {
		v.say(o.Next)
	}
}

// plainMask shows enough of a token to recognise it and never all of it:
// the first and last four characters of a long one, nothing of a short one.
func plainMask(token string) string { return maskToken(token, "...", "hidden") }

// plainLine is one answer, or the news that a line was too long.
type plainLine struct {
	text    string
	tooLong bool
}

// plainReadLines reads In on its own goroutine, so that a prompt can be
// interrupted by the context while a read is blocked. The channel is
// closed at the end of the input or on a read error; done stops the
// goroutine when it is waiting to hand over a line.
func plainReadLines(in io.Reader, done <-chan struct{}) <-chan plainLine {
	ch := make(chan plainLine)
	go func() {
		defer close(ch)
		// Room for the longest accepted line and its CR LF.
		br := bufio.NewReaderSize(in, plainMaxLine+2)
		for {
			l, err := plainNextLine(br)
			if l != nil {
				select {
				case ch <- *l:
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// plainNextLine reads one line without its line ending. A last line without
// a newline counts; a line too long for the buffer is skipped to its end,
// so its tail is not taken for the next answer.
func plainNextLine(br *bufio.Reader) (*plainLine, error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		return &plainLine{tooLong: true}, err
	}
	if len(b) == 0 {
		return nil, err
	}
	text := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(text) > plainMaxLine {
		return &plainLine{tooLong: true}, err
	}
	return &plainLine{text: text}, err
}
