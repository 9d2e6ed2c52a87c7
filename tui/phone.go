package tui

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
	"enroll/qr"
)

// Phone is one hand-off session: the device serves a one-time page, shows
// its URL as a QR code, and a phone sends the invitation through it. The
// qr/handoff server satisfies it through a small adapter in the CLI, so
// tests can use any implementation.
type Phone interface {
	URL() string
	ExpiresAt() time.Time
	// Wait blocks until the phone sent the invitation, the session ended
	// (expired, too many failed attempts) or Close was called.
	Wait() PhoneResult
	Close() error
}

// PhoneResult is what a hand-off produced.
type PhoneResult struct {
	Text string // the invitation as the phone sent it (not yet trusted)
	From string // the phone's address
	Code string // the matching code the phone's page also shows
	Err  error
}

// phoneModel is the hand-off screen, a child of the wizard in the manner of
// Bubble Tea's composable-views example: it keeps the session and where
// the screen is, and has its own Update and View. The wizard keeps the keys
// and the flow machine: it forwards the hand-off's messages, lends the
// screen its help line, and takes the phone's text once the codes match.
type phoneModel struct {
	canvas
	now     func() time.Time
	session Phone      // the running hand-off, or nil
	stage   phoneStage // where the hand-off screen is
	err     error
	result  PhoneResult
	lent    phoneLent
	address bool // the address is shown instead of the code (arrangeSwap)
}

// phoneLent is what the screen borrows from the wizard for one frame.
type phoneLent struct {
	help, spin string // the wizard's help line and spinner
	read       func(text string) (flow.Invitation, error)
}

// phoneStage is where the hand-off screen is. The flow machine stays in
// StateInvitation throughout: the phone is one more way of typing.
type phoneStage int

const (
	phoneOff      phoneStage = iota
	phoneStarting            // the server is starting
	phoneWaiting             // QR code shown, waiting for the phone
	phoneReceived            // the phone sent something: confirm the code
	phoneFailed              // the session ended without an invitation
)

// on reports whether the hand-off screen is up.
func (p phoneModel) on() bool { return p.stage != phoneOff }

// open starts a session; start and now are the wizard's options.
func (p phoneModel) open(start func() (Phone, error), now func() time.Time) (phoneModel, tea.Cmd) {
	p.stage, p.err, p.result, p.now, p.address = phoneStarting, nil, PhoneResult{}, now, false
	return p, phoneStart(start, p.qrCache)
}

// close stops the session's server: the page is one-time, and nothing
// should listen on the network once the person leaves the screen.
func (p phoneModel) close() phoneModel {
	if p.session != nil {
		_ = p.session.Close()
	}
	p.session, p.stage, p.address = nil, phoneOff, false
	return p
}

// Update takes the window's size and the hand-off's own messages. Messages
// of an earlier session (the person cancelled and started again) are
// dropped.
func (p phoneModel) Update(msg tea.Msg) (phoneModel, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.width, p.height = msg.Width, msg.Height
	case phoneStartedMsg:
		if p.stage != phoneStarting {
			if msg.phone != nil {
				_ = msg.phone.Close() // cancelled while starting
			}
			return p, nil
		}
		if msg.err != nil {
			p.stage, p.err = phoneFailed, msg.err
			return p, nil
		}
		p.session, p.stage = msg.phone, phoneWaiting
		// The start command encoded the URL; were it not in the cache
		// (a message from elsewhere), the code is prepared now.
		return p, tea.Batch(phoneWait(msg.phone), phoneTick(msg.phone, p.now()), p.prepareQR(msg.phone.URL()))
	case phoneResultMsg:
		if msg.phone != p.session || p.stage != phoneWaiting {
			return p, nil
		}
		p.result = msg.result
		if msg.result.Err != nil {
			p.stage, p.err = phoneFailed, msg.result.Err
		} else {
			p.stage = phoneReceived
		}
	case phoneTickMsg:
		if msg.phone != p.session || p.stage != phoneWaiting {
			return p, nil
		}
		return p, phoneTick(msg.phone, p.now())
	}
	return p, nil
}

// lend gives the screen what it borrows from the wizard for a frame.
func (p phoneModel) lend(help, spin string, read func(string) (flow.Invitation, error)) phoneModel {
	p.lent = phoneLent{help: help, spin: spin, read: read}
	return p
}

// View is the whole screen while a hand-off runs. The QR code needs most
// of an 80×24 terminal, so the header gives way, and the text stands beside
// or below it when there is room (see arrange).
func (p phoneModel) View() string {
	g := p.styles.glyph
	help := p.lent.help
	switch p.stage {
	case phoneStarting:
		return p.lent.spin + " Starting the hand-off page" + g.more + "\n\n" + help
	case phoneFailed:
		return p.styles.bad.Render(g.bad+" The hand-off ended.") + "\n\n" +
			p.wrap(flow.SanitizeMax(sentence(p.err.Error()), 300)) + "\n\n" + help
	case phoneReceived:
		return p.receivedView() + "\n\n" + help
	}
	return p.waitingView(help)
}

func (p phoneModel) receivedView() string {
	r := p.result
	g := p.styles.glyph
	lines := []string{
		p.styles.title.Render("The phone at " + flow.Sanitize(r.From) + " sent an invitation."),
		"",
		"Check that the phone shows the same code:",
		"",
		"    " + p.styles.title.Render(flow.Sanitize(r.Code)),
		"",
	}
	if inv, err := p.lent.read(r.Text); err != nil {
		lines = append(lines, p.styles.bad.Render(g.bad+" ")+p.wrap(flow.SanitizeMax(flow.Message(err), 300)))
	} else {
		lines = append(lines, p.styles.good.Render(g.ok+" ")+"Invitation "+invitationSource(inv, "as a token")+": "+p.mask(inv.Token))
	}
	lines = append(lines, "", p.wrap("Use it only if the codes match: otherwise someone else sent it."))
	return strings.Join(lines, "\n")
}

type (
	phoneStartedMsg struct {
		phone Phone
		err   error
	}
	phoneResultMsg struct {
		phone  Phone
		result PhoneResult
	}
	phoneTickMsg struct{ phone Phone }
)

// phoneStart starts the session's server and, in the same command, off the
// render path, encodes its URL into cache: the screen's first frame then
// only draws the code (encoding takes about a millisecond, a frame's whole
// budget).
func phoneStart(start func() (Phone, error), cache *qr.Cache) tea.Cmd {
	return func() tea.Msg {
		p, err := start()
		if err == nil && p != nil {
			cache.Prepare(p.URL())
		}
		return phoneStartedMsg{phone: p, err: err}
	}
}

func phoneWait(p Phone) tea.Cmd {
	return func() tea.Msg { return phoneResultMsg{phone: p, result: p.Wait()} }
}

// phoneTick redraws the countdown when its text next changes, once a
// minute. Beside the code, the countdown's line holds a row of the QR code,
// and the terminal is sent a changed line whole: a countdown in seconds
// would send that row, some 190 bytes, every second for ten minutes.
func phoneTick(p Phone, now time.Time) tea.Cmd {
	left := p.ExpiresAt().Sub(now)
	if left <= time.Minute {
		return nil // "within 1 min." until the page closes
	}
	next := left - (left+time.Minute-1)/time.Minute*time.Minute + time.Minute // to the next whole minute
	return tea.Tick(next+10*time.Millisecond, func(time.Time) tea.Msg { return phoneTickMsg{phone: p} })
}

// countdown is the time the page stays open, in whole minutes rounded up,
// so that it is never late and changes once a minute.
func countdown(left time.Duration) string {
	return fmt.Sprintf("%d min.", max(1, int((left+time.Minute-1)/time.Minute)))
}

// beside puts text to the right of a code, two columns apart. Unlike
// lipgloss.JoinHorizontal it pads nothing on the right: the terminal
// renderer clears the rest of each line anyway, and the blanks would be
// bytes on the wire (a hundred per line at 120 columns).
func beside(code qr.Code, text []string) string {
	var b strings.Builder
	b.Grow(len(code.Text) + 40*len(text))
	rows := strings.Split(code.Text, "\n")
	for i := range max(len(rows), len(text)) {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(rows) {
			b.WriteString(rows[i])
		} else {
			b.WriteString(strings.Repeat(" ", code.Width))
		}
		if i < len(text) && text[i] != "" {
			b.WriteString("  ")
			b.WriteString(text[i])
		}
	}
	return b.String()
}

// sentence starts text with a capital letter and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// The wizard's side of the hand-off: the keys of the screen, and the text
// the phone sent, once the person has said the codes match.

// openPhone starts a hand-off session from the invitation screen.
func (w Model) openPhone() (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	w.phone, cmd = w.phone.open(w.opts.StartPhone, w.opts.Now)
	return w, cmd
}

// phoneKey handles keys while the hand-off screen is up.
func (w Model) phoneKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := w.keys
	switch {
	case key.Matches(msg, k.PhoneConfirm):
		return w.command(cmdPhoneUse, msg)
	case key.Matches(msg, k.PhoneSwap):
		// Only a view changes, but a scan's "a" must not flip the
		// screen under the person: a command, alone before and after.
		return w.command(cmdPhoneSwap, msg)
	case key.Matches(msg, k.PhoneCancel):
		w.phone = w.phone.close()
	}
	return w, nil
}

// usePhoneText takes the text the phone sent into the invitation field.
func (w Model) usePhoneText() (tea.Model, tea.Cmd) {
	text := w.phone.result.Text
	w.phone = w.phone.close()
	w.prefill(&w.invitation, text)
	if _, bad := invisible(text); bad {
		return w, nil // never drawn into the field: prefill told the person
	}
	w.step(flow.InvitationEntered{Text: text})
	return w, w.next()
}
