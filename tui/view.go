package tui

import (
	"fmt"
	"strings"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"enroll/flow"
)

// View draws the screen of the current state: a header with the step, the
// body of that state, and a footer with a notice and the keys that work.
func (w Model) View() string {
	if w.quitting {
		return ""
	}
	v, shown := w.screen()
	w.frame.hidden = !shown
	return v
}

// frameMemo is shared by the copies of a model: Bubble Tea draws each
// model it gets back from Update, so this is what the person sees when the
// next key arrives.
type frameMemo struct{ hidden bool }

// screen draws the current screen, or the request for a larger window
// instead (shown is false then).
func (w Model) screen() (view string, shown bool) {
	if w.width < minWidth || w.height < minHeight {
		return w.tooSmall(), false
	}
	if w.phone.on() && w.machine.State == flow.StateInvitation {
		return w.phone.lend(w.help.View(w.keys), w.spin.View(), w.read).View(), true
	}
	var b strings.Builder
	b.WriteString(w.header())
	b.WriteString("\n\n")
	b.WriteString(w.body())
	b.WriteString("\n\n")
	b.WriteString(w.footer())
	out := b.String()
	if fitted, ok := fit(out, w.height); ok {
		return fitted, true
	}
	// The terminal would drop the top lines, header included.
	return w.tooSmallFor(max(w.width, minWidth), lipgloss.Height(out)), false
}

// allKeysFit reports whether the screen still fits the window with all the
// keys under it: where they do not, they are not shown (the short help
// stays, and the screen is never hidden for want of room for the help).
func (w Model) allKeysFit() bool {
	w.help.ShowAll = true
	_, shown := w.screen()
	return shown
}

// hidden reports whether the screen is replaced by the request for a larger
// window: keys then do nothing but Ctrl-C, so that nothing is accepted,
// declined or typed blind. The last frame tells, not a render per key.
func (w Model) hidden() bool {
	return w.width < minWidth || w.height < minHeight || w.frame.hidden
}

// fit drops blank lines, the last first, from a screen taller than the
// window: spacing goes before any content does. It reports whether the
// screen then fits.
func fit(screen string, height int) (string, bool) {
	lines := strings.Split(screen, "\n")
	if len(lines) <= height {
		return screen, true
	}
	for i := len(lines) - 1; i >= 0 && len(lines) > height; i-- {
		if strings.TrimSpace(ansi.Strip(lines[i])) == "" {
			lines = append(lines[:i], lines[i+1:]...)
		}
	}
	return strings.Join(lines, "\n"), len(lines) <= height
}

// tooSmall asks for room, wrapped to the window so that the request itself
// is never cut off.
func (w Model) tooSmall() string { return w.tooSmallFor(minWidth, minHeight) }

func (w Model) tooSmallFor(needW, needH int) string {
	x := w.styles.glyph.times
	msg := fmt.Sprintf("Make the window larger: this screen needs %d%s%d; the window is %d%s%d. Until then only Ctrl-C works.", needW, x, needH, w.width, x, w.height)
	if w.machine.State == flow.StateFailed && w.mustStay() {
		msg += " What this screen shows must not be lost."
	}
	return wrapTo(msg, max(w.width, 10))
}

var stepOf = map[flow.State]int{
	flow.StateWelcome: 1, flow.StateInvitation: 2, flow.StateServer: 2, flow.StateName: 3, flow.StateReview: 4,
}

func (w Model) header() string {
	title := w.styles.title.Render("enroll") + w.styles.muted.Render(w.styles.glyph.dot+"make this device a device client")
	if n, ok := stepOf[w.machine.State]; ok {
		title += w.styles.step.Render(fmt.Sprintf("  step %d of 4", n))
	}
	return title
}

func (w Model) body() string {
	switch w.machine.State {
	case flow.StateLoading:
		return w.spin.View() + " Reading this device's credentials" + w.styles.glyph.more
	case flow.StateWelcome:
		return w.welcomeView()
	case flow.StateInvitation:
		return w.invitationView()
	case flow.StateServer:
		return w.serverView()
	case flow.StateName:
		return w.nameView()
	case flow.StateReview:
		return w.reviewView()
	case flow.StateDone:
		return w.doneView()
	case flow.StateDeclined:
		return w.declinedView()
	case flow.StateFailed:
		return w.failedView()
	}
	return w.workingView()
}

func (w Model) footer() string {
	var lines []string
	if w.notice != "" {
		lines = append(lines, w.styles.warn.Render(w.wrap(w.notice)))
	}
	lines = append(lines, w.help.View(w.keys))
	return strings.Join(lines, "\n")
}

// parseMemo remembers the last invitation text a screen showed feedback
// for, so that a frame costs a string comparison rather than a parse (a
// pasted e-mail of a few KiB takes about 0.2 ms to read).
type parseMemo struct {
	mu   sync.Mutex
	done bool
	text string
	inv  flow.Invitation
	err  error
}

func (p *parseMemo) parse(text string) (flow.Invitation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done || text != p.text {
		p.done, p.text = true, text
		p.inv, p.err = flow.ParseInvitation(text)
	}
	return p.inv, p.err
}

// invitationSource says where a token came from, for the screens that show
// it: a link's host, an app link, or plain (the words for a bare token).
// The plain runner says the same in its own sentences (invitationTaken).
func invitationSource(inv flow.Invitation, plain string) string {
	switch {
	case inv.Host != "":
		return "from a link at " + flow.Sanitize(inv.Host)
	case inv.Source == flow.SourceScheme:
		return "from an app link"
	}
	return plain
}

// maskToken shows a token's first and last four characters around more, or
// hidden when it is too short to show any of it (the wizard and the plain
// runner differ only in the words).
func maskToken(token, more, hidden string) string {
	r := []rune(token)
	if len(r) <= 12 {
		return hidden
	}
	return flow.Sanitize(string(r[:4])) + more + flow.Sanitize(string(r[len(r)-4:]))
}

func (w Model) deviceRows() []string {
	if ex := w.machine.Existing; ex != nil {
		return []string{w.row("This device", "a device client already"), w.row(flow.LabelName, ex.Name), w.row(flow.LabelID, ex.ID)}
	}
	return []string{w.row("This device", "not a device client yet")}
}

func (w Model) serverLine() string {
	if w.machine.Server == "" {
		return "none yet: read from the invitation link"
	}
	return w.machine.Server
}
