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

// updatePhone handles the hand-off's own messages. Messages of an earlier
// session (the person cancelled and started again) are dropped.
func (w Model) updatePhone(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case phoneStartedMsg:
		if w.phoneStage != phoneStarting {
			if msg.phone != nil {
				_ = msg.phone.Close() // cancelled while starting
			}
			return w, nil
		}
		if msg.err != nil {
			w.phoneStage, w.phoneErr = phoneFailed, msg.err
			return w, nil
		}
		w.phone, w.phoneStage = msg.phone, phoneWaiting
		// The start command encoded the URL; were it not in the cache
		// (a message from elsewhere), the code is prepared now.
		return w, tea.Batch(phoneWait(msg.phone), phoneTick(msg.phone, w.now()), w.prepareQR(msg.phone.URL()))
	case phoneResultMsg:
		if msg.phone != w.phone || w.phoneStage != phoneWaiting {
			return w, nil
		}
		w.phoneResult = msg.result
		if msg.result.Err != nil {
			w.phoneStage, w.phoneErr = phoneFailed, msg.result.Err
		} else {
			w.phoneStage = phoneReceived
		}
		return w, nil
	case phoneTickMsg:
		if msg.phone != w.phone || w.phoneStage != phoneWaiting {
			return w, nil
		}
		return w, phoneTick(msg.phone, w.now())
	}
	return w, nil
}

// phoneKey handles keys while the hand-off screen is up.
func (w Model) phoneKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := w.keys
	switch {
	case key.Matches(msg, k.PhoneConfirm):
		return w.command(cmdPhoneUse, msg)
	case key.Matches(msg, k.PhoneCancel):
		w.closePhone()
		return w, nil
	}
	return w, nil
}

// usePhoneText takes the text the phone sent, once the person has said
// the codes match.
func (w Model) usePhoneText() (tea.Model, tea.Cmd) {
	text := w.phoneResult.Text
	w.closePhone()
	if _, bad := invisible(text); bad {
		// Never drawn into the field: the person is told instead.
		w.prefill(&w.invitation, text)
		return w, nil
	}
	w.prefill(&w.invitation, text)
	w.step(flow.InvitationEntered{Text: text})
	return w, w.next()
}

// openPhone starts a hand-off session from the invitation screen.
func (w Model) openPhone() (tea.Model, tea.Cmd) {
	w.phoneStage, w.phoneErr, w.phoneResult = phoneStarting, nil, PhoneResult{}
	return w, phoneStart(w.opts.StartPhone, w.qrCache)
}

// closePhone stops the session's server: the page is one-time, and nothing
// should listen on the network once the person leaves the screen.
func (w *Model) closePhone() {
	if w.phone != nil {
		_ = w.phone.Close()
	}
	w.phone, w.phoneStage = nil, phoneOff
}

// countdown is the time the page stays open, in whole minutes rounded up,
// so that it is never late and changes once a minute.
func countdown(left time.Duration) string {
	return fmt.Sprintf("%d min.", max(1, int((left+time.Minute-1)/time.Minute)))
}

// phoneScreen is the whole screen while a hand-off runs. The QR code needs
// most of an 80×24 terminal, so the text stands beside it when there is
// room, and the header gives way.
func (w Model) phoneScreen() string {
	g := w.styles.glyph
	help := w.help.View(w.keys)
	switch w.phoneStage {
	case phoneStarting:
		return w.spin.View() + " Starting the hand-off page" + g.more + "\n\n" + help
	case phoneFailed:
		return w.styles.bad.Render(g.bad+" The hand-off ended.") + "\n\n" +
			w.wrap(flow.SanitizeMax(sentence(w.phoneErr.Error()), 300)) + "\n\n" + help
	case phoneReceived:
		return w.phoneReceivedView() + "\n\n" + help
	}
	url := w.phone.URL()
	left := w.phone.ExpiresAt().Sub(w.now())
	text := []string{
		w.styles.title.Render("Hand over from a phone"),
		"",
		"Scan the code with the phone's",
		"camera, open the page, paste",
		"the invitation link there and",
		"send it.",
		"",
		"Waiting for your phone " + g.more,
		"This page closes within " + countdown(left),
	}
	// Beside the text the code may use every line but the help line;
	// above the countdown it must leave one more.
	if code, err := w.qrFor(url, 1); err == nil && w.width >= code.Width+2+31 {
		text = append(text, "", "Or open on the phone:")
		text = append(text, w.link(url, w.width-code.Width-4)...)
		return beside(code, text) + "\n" + help
	}
	const reserve = 2 // the countdown and the help line
	code, err := w.qrFor(url, reserve)
	if err != nil {
		// No room for the code: the address itself still works.
		text = append(text, "", w.wrap(w.noRoomForCode(err, reserve)+" Open this address on the phone:"),
			strings.Join(w.link(url, w.contentWidth()), "\n"))
		return strings.Join(text, "\n") + "\n\n" + help
	}
	return code.Text + "\n" + text[7] + " " + text[8] + "\n" + help
}

func (w Model) phoneReceivedView() string {
	r := w.phoneResult
	g := w.styles.glyph
	lines := []string{
		w.styles.title.Render("The phone at " + flow.Sanitize(r.From) + " sent an invitation."),
		"",
		"Check that the phone shows the same code:",
		"",
		"    " + w.styles.title.Render(flow.Sanitize(r.Code)),
		"",
	}
	if inv, err := w.read(r.Text); err != nil {
		lines = append(lines, w.styles.bad.Render(g.bad+" ")+w.wrap(flow.SanitizeMax(flow.Message(err), 300)))
	} else {
		lines = append(lines, w.styles.good.Render(g.ok+" ")+"Invitation "+invitationSource(inv, "as a token")+": "+w.mask(inv.Token))
	}
	lines = append(lines, "", w.wrap("Use it only if the codes match: otherwise someone else sent it."))
	return strings.Join(lines, "\n")
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
