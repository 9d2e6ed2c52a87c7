package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"

	"enroll/flow"
)

// One view per flow state. Each reads the machine and the fields only.

func (w Model) welcomeView() string {
	lines := []string{w.row(flow.LabelServer, w.serverLine())}
	lines = append(lines, w.deviceRows()...)
	accepting := "Accepting it makes this device a device client of your organization, so the licensed application on it can use the organization's licenses."
	if w.machine.Existing != nil {
		accepting = "Accepting it adds this device client to the invitation's groups, so the licensed application on it can use their licenses."
	}
	how := "You can paste the link, scan it with a barcode scanner, or type the token."
	if w.machine.Server == "" {
		how = "You can paste the link or scan it with a barcode scanner." // a token alone names no server
	}
	lines = append(lines,
		w.row("Credentials", w.opts.Driver.Store.Path()),
		"",
		w.wrap("An invitation comes from your administrator, usually as a link in an e-mail. "+accepting),
		w.wrap(how),
	)
	for _, warn := range w.machine.Warnings {
		lines = append(lines, "", w.styles.warn.Render(w.wrap("! "+flow.SanitizeMax(warn, 300))))
	}
	return strings.Join(lines, "\n")
}

func (w Model) invitationView() string {
	lines := []string{"Paste, scan or type the invitation:", "", fieldView(w.invitation), ""}
	lines = append(lines, w.invitationFeedback())
	if w.opts.DemoLink != "" {
		lines = append(lines, "", w.styles.muted.Render("Demo: the emulator sent this invitation (tab fills it in):"),
			w.styles.muted.Render(w.cut(w.opts.DemoLink, w.width)))
	}
	return strings.Join(lines, "\n")
}

// fieldView is a text field without the blanks it pads itself with to its
// width: the terminal renderer clears the rest of the line anyway, and the
// blanks (some seventy at 80 columns) would be sent again with every key.
func fieldView(f textinput.Model) string { return strings.TrimRight(f.View(), " ") }

// invitationFeedback reads the field as it is typed, so the person sees at
// once whether the paste or scan was complete.
func (w Model) invitationFeedback() string {
	if w.tainted {
		// What arrives now is the rest of the refused input, not a token.
		return w.styles.muted.Render("Discarding the rest of that input" + w.styles.glyph.more)
	}
	if err := w.machine.InputErr; err != nil {
		return w.styles.bad.Render(w.styles.glyph.bad+" ") + w.wrap(flow.SanitizeMax(flow.Message(err), 300))
	}
	value := w.invitation.Value()
	if w.fbHold {
		value = w.fbValue
	}
	if strings.TrimSpace(value) == "" {
		return w.styles.muted.Render("Waiting for the invitation" + w.styles.glyph.more)
	}
	inv, err := w.read(value)
	if err != nil {
		return w.styles.bad.Render(w.styles.glyph.bad+" ") + w.wrap(flow.SanitizeMax(flow.Message(err), 300))
	}
	return w.styles.good.Render(w.styles.glyph.ok+" ") + fmt.Sprintf("Token read %s: %s", invitationSource(inv, "as typed"), w.mask(inv.Token))
}

func (w Model) serverView() string {
	host := w.machine.Invitation.Host
	lines := []string{
		"No server is configured. The invitation link points to:",
		"",
		"    " + w.styles.title.Render(w.cut(flow.Sanitize(host), w.contentWidth()-4)),
		"    " + w.styles.muted.Render(w.cut(flow.Sanitize(w.machine.Proposed), w.contentWidth()-4)),
	}
	if warn := flow.LookAlikeWarning(host); warn != "" {
		lines = append(lines, "", w.styles.warn.Render(w.wrap("! "+warn)))
	}
	lines = append(lines, "",
		w.wrap("Use this server only if it is your organization's 10Duke service: the device will trust it with its credentials."))
	return strings.Join(lines, "\n")
}

func (w Model) nameView() string {
	lines := []string{"Name this device as your administrator should see it:", "", fieldView(w.name), ""}
	if w.tainted {
		lines = append(lines, w.styles.muted.Render("Discarding the rest of that input"+w.styles.glyph.more))
	} else if err := w.machine.InputErr; err != nil {
		lines = append(lines, w.styles.bad.Render(w.styles.glyph.bad+" ")+flow.SanitizeMax(flow.Message(err), 200))
	} else if w.nameUnchanged() {
		lines = append(lines, w.styles.good.Render(w.styles.glyph.ok+" ")+"the name it has, kept as it is")
	} else if _, err := flow.ValidateName(w.name.Value()); err != nil {
		lines = append(lines, w.styles.bad.Render(w.styles.glyph.bad+" ")+flow.SanitizeMax(flow.Message(err), 200))
	} else {
		lines = append(lines, w.styles.good.Render(w.styles.glyph.ok+" ")+"1 to 64 visible characters")
	}
	return strings.Join(lines, "\n")
}

func (w Model) reviewView() string {
	m := w.machine
	device := "new device client"
	accept := "Accept makes this device a device client and stores its credentials in " + flow.Sanitize(w.opts.Driver.Store.Path()) + "."
	if m.Existing != nil {
		device = "existing device client"
		accept = "Accept adds this device client to the invitation's groups; its credentials stay in " + flow.Sanitize(w.opts.Driver.Store.Path()) + "."
	}
	// A store that seals says so (persist's, under --seal tpm or for a
	// file sealed already): the person learns it before accepting.
	if st, ok := w.opts.Driver.Store.(interface{ Seals() bool }); ok && st.Seals() {
		accept = strings.TrimSuffix(accept, ".") + ", the secret sealed to this device's TPM."
	}
	name := m.Name
	if !m.NameChosen {
		name += " (unchanged)"
	}
	from := invitationSource(m.Invitation, "as typed")
	rows := []string{
		w.row(flow.LabelServer, m.Server),
		w.row("Device", device),
	}
	if m.Existing != nil {
		rows = append(rows, w.row(flow.LabelClientID, m.Existing.ClientID))
	}
	rows = append(rows,
		w.row(flow.LabelName, name),
		w.row("Invitation", w.mask(m.Invitation.Token)+" "+from),
		"",
	)
	if w.confirmDecline {
		rows = append(rows, w.paint(w.styles.warn, w.wrap("Decline this invitation? Declining uses it up: it cannot be accepted afterwards, by this device or any other.")))
	} else {
		rows = append(rows, w.wrap(accept+" Decline tells the service you do not want it."))
	}
	return strings.Join(rows, "\n")
}

func (w Model) workingView() string {
	line := w.spin.View() + " " + w.machine.State.Doing() + w.styles.glyph.more
	if !w.machine.Interrupted {
		return line
	}
	why := "Stopping: nothing was sent. Ctrl-C again leaves at once."
	switch w.machine.Outstanding() {
	case flow.OutstandingDecline:
		why = "Stopping once the decline is done."
	case flow.OutstandingCommit:
		why = "Finishing first: the service may already have issued this device's credentials, and they must be stored."
	}
	return line + "\n\n" + w.styles.warn.Render(w.wrap(why))
}

func (w Model) doneView() string {
	m := w.machine
	if w.showingID {
		return w.idView(m.Result.ID)
	}
	o := flow.OutcomeOf(m, w.opts.Driver.Store.Path(), "")
	revealed := ""
	if w.showing {
		revealed = m.Result.ClientSecret
	}
	return strings.Join(slices.Concat(
		[]string{w.paint(w.styles.good, w.wrap(w.styles.glyph.ok+" "+strings.Join(o.Headline, " "))), ""},
		w.credentialRows(o.Rows, revealed),
		[]string{"", w.wrap(o.Next)},
	), "\n")
}

// declinedView is the end of a declined invitation.
func (w Model) declinedView() string {
	o := flow.OutcomeOf(w.machine, "", "")
	return w.paint(w.styles.good, w.wrap(strings.Join(o.Headline, " "))) + "\n\n" + o.Note
}

// credentialRows lays out an outcome's rows, without the enrollment time
// (it is now). The secret's value is never cut: it may have to be copied.
// revealed, if not "", is the stored secret, shown in place of NotShown.
func (w Model) credentialRows(rows []flow.Row, revealed string) []string {
	var out []string
	for _, r := range rows {
		switch {
		case r.Record:
		case r.Label == flow.LabelSecret && revealed != "":
			// Any key hides it: the screen says so, as the help line cannot.
			out = append(out, w.styles.label.Render(r.Label)+flow.Sanitize(revealed),
				w.styles.label.Render("")+w.styles.muted.Render("shown once; any key hides it"))
		case r.Label == flow.LabelSecret:
			out = append(out, w.styles.label.Render(r.Label)+flow.Sanitize(r.Value))
		default:
			out = append(out, w.row(r.Label, r.Value))
		}
	}
	return out
}

// failedView explains a failure: what happened, the detail, what to do.
// The two outcomes that need care after the accept call get their own
// titles and the recovery path.
func (w Model) failedView() string {
	f := w.machine.Failure
	if f == nil {
		return ""
	}
	o := flow.Failed(f.Err, *f, w.opts.Driver.Store.JournalPath())
	summary := strings.Join(o.Headline, " ")
	title := w.styles.glyph.bad + " " + summary
	switch f.Class.Kind {
	case flow.ErrOutcomeUnknown:
		title = "? Outcome unknown"
	case flow.ErrNotStored:
		title = "! Received but not stored"
	}
	lines := []string{w.styles.bad.Render(title), ""}
	if f.Class.Kind == flow.ErrOutcomeUnknown || f.Class.Kind == flow.ErrNotStored {
		lines = append(lines, w.wrap(summary), "")
	}
	if o.Reason != "" {
		lines = append(lines, w.wrap(flow.SanitizeMax(o.Reason, 400)), "")
	}
	if o.Shown != "" {
		lines = append(lines, w.styles.warn.Render(o.Shown))
		lines = append(lines, w.credentialRows(o.Rows, "")...)
		if o.Raw != "" {
			lines = append(lines, w.wrap(flow.SanitizeMax(o.Raw, 2000)))
		}
		lines = append(lines, "")
	}
	if o.Note != "" {
		lines = append(lines, w.wrap(flow.Sanitize(o.Note)), "")
	}
	lines = append(lines, w.wrap(o.Next))
	return strings.Join(lines, "\n")
}

// idView shows the device client's id as a QR code, for asset records.
func (w Model) idView(id string) string {
	head := "Device client id: " + flow.Sanitize(id)
	const reserve = 7 // header, this line, blank lines and the footer
	code, err := w.qrFor(id, reserve)
	if err != nil {
		return w.wrap(head) + "\n\n" + w.wrap(w.noRoomForCode(err, reserve))
	}
	return w.wrap(head) + "\n\n" + code.Text
}
