package tui

import (
	"github.com/charmbracelet/bubbles/key"

	"enroll/flow"
)

// keyMap holds every binding of the wizard. Which ones are enabled follows
// the flow state (see sync), so the help line only ever offers keys that do
// something right now.
type keyMap struct {
	Continue key.Binding
	Use      key.Binding
	Fill     key.Binding
	Yes      key.Binding
	No       key.Binding
	Accept   key.Binding
	Decline  key.Binding
	// DeclineSure and DeclineKeep answer whether to decline: it uses the
	// invitation up.
	DeclineSure key.Binding
	DeclineKeep key.Binding
	Retry       key.Binding
	Back        key.Binding
	Reveal      key.Binding
	Finish      key.Binding
	ShowID      key.Binding
	Quit        key.Binding
	Help        key.Binding
	Abort       key.Binding

	Phone        key.Binding
	PhoneConfirm key.Binding
	PhoneCancel  key.Binding
	// PhoneSwap shows the hand-off page's address instead of its code,
	// and back, where the window has no room for both.
	PhoneSwap key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Continue: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Use:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "use it")),
		Fill:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "demo link")),
		// Letters only, no Enter: a scanner's second Enter must not
		// trust a server or accept an invitation.
		Yes:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "use this server")),
		No:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "no")),
		Accept:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "accept")),
		Finish:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "finish")),
		ShowID:  key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "id as a QR code")),
		Decline: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "decline")),

		DeclineSure: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes, decline it")),
		DeclineKeep: key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no, keep it")),
		Retry:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Reveal:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "show the secret once")),
		Quit:        key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Abort:       key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),

		Phone:        key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "from a phone")),
		PhoneConfirm: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "the codes match: use it")),
		PhoneCancel:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to typing")),
		PhoneSwap:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "show the address")),
	}
}

// sync enables the bindings that make sense for the wizard as it is now.
func (k *keyMap) sync(w *Model) {
	m := w.machine
	st := m.State
	typing := w.typing()
	failure := m.Failure
	k.Continue.SetEnabled(st == flow.StateWelcome)
	k.Use.SetEnabled(typing && !w.refusalShown())
	if w.tainted {
		k.Use.SetHelp("enter", "clear")
	} else {
		k.Use.SetHelp("enter", "use it")
	}
	k.Fill.SetEnabled(st == flow.StateInvitation && w.opts.DemoLink != "")
	k.Yes.SetEnabled(st == flow.StateServer)
	k.No.SetEnabled(st == flow.StateServer)
	k.Accept.SetEnabled(st == flow.StateReview && !w.confirmDecline)
	k.Decline.SetEnabled(st == flow.StateReview && !w.confirmDecline)
	k.DeclineSure.SetEnabled(st == flow.StateReview && w.confirmDecline)
	k.DeclineKeep.SetEnabled(st == flow.StateReview && w.confirmDecline)
	k.Retry.SetEnabled(st == flow.StateFailed && failure != nil && failure.Retry)
	k.Back.SetEnabled(st == flow.StateInvitation || st == flow.StateServer || st == flow.StateName ||
		st == flow.StateReview && !w.confirmDecline || (st == flow.StateFailed && failure != nil && failure.Back != flow.StateFailed))
	k.Reveal.SetEnabled(st == flow.StateDone && !w.opts.Kiosk && !w.revealed && !w.showingID && m.Result != nil && !m.Recovered && m.Existing == nil)
	// Letters are text in the two input fields, so only Ctrl-C quits there.
	k.Quit.SetEnabled(!typing && !st.Working() && st != flow.StateLoading)
	k.Finish.SetEnabled(st == flow.StateDone || st == flow.StateDeclined)
	k.ShowID.SetEnabled(st == flow.StateDone && m.Result != nil)
	if w.showingID {
		k.ShowID.SetHelp("i", "back to the summary")
	} else {
		k.ShowID.SetHelp("i", "id as a QR code")
	}
	k.Help.SetEnabled(!typing)
	if w.help.ShowAll {
		k.Help.SetHelp("?", "fewer keys")
	} else {
		k.Help.SetHelp("?", "more keys")
	}
	k.Abort.SetEnabled(true)
	k.Abort.SetHelp("ctrl+c", "quit")
	if st.Working() {
		switch m.Outstanding() {
		case flow.OutstandingDecline:
			k.Abort.SetHelp("ctrl+c", "quit once declined")
		case flow.OutstandingCommit:
			k.Abort.SetHelp("ctrl+c", "quit once stored")
		}
	}
	k.Phone.SetEnabled(st == flow.StateInvitation && w.opts.StartPhone != nil && !w.phone.on())
	k.PhoneConfirm.SetEnabled(false)
	k.PhoneCancel.SetEnabled(false)
	k.PhoneSwap.SetEnabled(false)
	if w.phone.on() {
		// The hand-off screen has its own keys only.
		for _, b := range []*key.Binding{&k.Continue, &k.Use, &k.Fill, &k.Yes, &k.No, &k.Accept, &k.Decline, &k.DeclineSure, &k.DeclineKeep,
			&k.Retry, &k.Back, &k.Reveal, &k.ShowID, &k.Quit, &k.Help} {
			b.SetEnabled(false)
		}
		k.PhoneConfirm.SetEnabled(w.phone.stage == phoneReceived)
		k.PhoneCancel.SetEnabled(true)
		k.PhoneSwap.SetEnabled(w.phone.swappable())
		if w.phone.address {
			k.PhoneSwap.SetHelp("a", "show the code")
		} else {
			k.PhoneSwap.SetHelp("a", "show the address")
		}
	}
}

// ShortHelp is the footer: the keys of this screen. Where letters are
// text, Ctrl-C is the way out, so it is shown there.
func (k keyMap) ShortHelp() []key.Binding {
	// What moves the enrollment on comes first, then the way back and the
	// other ways in: a narrow window cuts the end of the line.
	out := []key.Binding{k.Continue, k.Use, k.Yes, k.No, k.Accept, k.Decline, k.DeclineSure, k.DeclineKeep, k.Retry, k.Reveal, k.ShowID, k.Finish, k.Back, k.Phone, k.PhoneConfirm, k.PhoneSwap, k.PhoneCancel, k.Fill, k.Quit, k.Help}
	if !k.Quit.Enabled() {
		// First, so a narrow window never cuts the only way out.
		out = append([]key.Binding{k.Abort}, out...)
	}
	return out
}

// FullHelp adds the keys that are always there.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Continue, k.Use, k.Fill, k.Phone, k.PhoneConfirm, k.PhoneSwap, k.PhoneCancel, k.Yes, k.No, k.Accept, k.Decline, k.DeclineSure, k.DeclineKeep},
		{k.Retry, k.Reveal, k.ShowID, k.Finish, k.Back, k.Quit, k.Abort, k.Help},
	}
}
