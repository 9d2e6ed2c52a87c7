// Package tui is the interactive side of enroll: a Bubble Tea wizard for the
// person at the device, and a line-by-line runner for screen readers and
// serial consoles. Both drive flow's state machine; no enrollment logic
// lives here.
package tui

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"enroll/flow"
	"enroll/qr"
	_ "enroll/tui/noquery" // before Bubble Tea's init: no terminal query at start-up
)

// Options configure the wizard.
type Options struct {
	Driver flow.Driver
	Config flow.Config
	// Renderer draws the styles; its colour profile decides colours (tests
	// pin termenv.Ascii). nil means lipgloss's default renderer.
	Renderer *lipgloss.Renderer
	// Kiosk: no reveal of the secret, and back to the start after
	// KioskTimeout on a final screen.
	Kiosk        bool
	KioskTimeout time.Duration
	// DemoLink, when set, is offered to be filled in with a key.
	DemoLink string
	// ASCII draws symbols in ASCII: for the Linux console and terminals
	// without a UTF-8 locale.
	ASCII bool
	// Invitation, when set (a link opened through the URL scheme), is
	// filled into the invitation field; the person still reviews it.
	Invitation string
	// StartPhone starts a QR hand-off session; nil hides the feature.
	StartPhone func() (Phone, error)
	// QRFormat is how the hand-off's QR code is drawn (qr.FormatAuto
	// when empty).
	QRFormat qr.Format
	// Now is the clock of the hand-off countdown; time.Now when nil.
	Now func() time.Time
	// Clock times the input for the rule that a command needs a person
	// (lone.go); the real clock when nil.
	Clock Clock
}

// Minimum size of a usable layout; below it the wizard asks for more room
// rather than drawing a broken screen.
const (
	minWidth  = 60
	minHeight = 18
)

// Model is the wizard. It keeps the flow machine and the loop of the
// effects the machine asked for, and runs them one at a time as commands.
type Model struct {
	opts    Options
	ctx     context.Context
	machine flow.Machine
	loop    flow.Loop          // the effects the machine asked for, still to run
	busy    bool               // an effect is running
	cancel  context.CancelFunc // cancels an interruptible effect in flight
	// quitIdle asks to quit once the effect in flight (the store's
	// release) is done; see quit.
	quitIdle bool

	canvas     // the window, the styles, the QR codes
	invitation textinput.Model
	name       textinput.Model
	spin       spinner.Model
	help       help.Model
	keys       keyMap
	phone      phoneModel // the hand-off screen, a child model
	parsed     *parseMemo // shared by copies of the model: one parse per text shown, not per frame
	frame      *frameMemo // what the last View drew, for the keys that follow

	// The feedback line under the invitation field holds still while
	// someone types key by key (each change would be one more line sent
	// to the terminal per key) and catches up once typing pauses for
	// feedbackDelay. A paste or a scan shows it at once.
	fbHold  bool   // the feedback describes fbValue, not the field
	fbValue string // the field's value when typing began
	fbSeq   int    // the latest catch-up timer; older ones are stale

	// spinning: a spinner tick is on its way. The spinner ticks only while
	// it is on screen: its ticks would otherwise wake the program ten
	// times a second for nothing.
	spinning bool

	notice    string // one line about the last key, e.g. refused characters
	revealed  bool   // the secret was shown (it is shown once)
	showing   bool   // the secret is on screen now
	showingID bool   // the done screen shows the id as a QR code
	gen       int    // kiosk restarts; stale timers carry an older number
	idle      int    // key presses so far; a kiosk idle timer carries the count it saw
	tainted   bool   // an unreadable sequence arrived inside the field's text
	taintSeq  int    // the latest such arrival; its quiet timer carries it
	quitting  bool

	// A command needs a person (lone.go).
	lastInput      time.Time       // when the latest input arrived
	lastWasEnter   bool            // the latest input was Enter
	lineEnd        bool            // the input being handled is the LF of a CR LF
	cancelled      bool            // the input being handled cancelled a pending command
	stray          time.Time       // an unknown key arrived alone then; input right after makes it part of a burst
	alone          bool            // the input being handled came alone
	pending        *pendingCommand // a command key waiting for quiet after it
	cmdSeq         int             // the latest command key; its timer carries it
	confirmDecline bool            // the review screen asks whether to decline
}

// New returns a wizard ready to run.
func New(ctx context.Context, o Options) Model {
	if o.KioskTimeout <= 0 {
		o.KioskTimeout = time.Minute
	}
	r := o.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	if o.QRFormat == "" {
		o.QRFormat = qr.FormatAuto
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	c := canvas{width: 80, height: 24, styles: newStyles(r, o.ASCII), qrCache: &qr.Cache{}, qrFormat: o.QRFormat, ascii: o.ASCII}
	w := Model{opts: o, ctx: ctx, canvas: c, keys: newKeyMap(), phone: phoneModel{canvas: c}, parsed: &parseMemo{}, frame: &frameMemo{}}
	g := w.styles.glyph
	w.invitation = textinput.New()
	w.invitation.Prompt = g.prompt
	w.invitation.Placeholder = "paste or scan the invitation link, or type the token"
	if o.Config.Server == "" {
		// A token alone does not say which server to use.
		w.invitation.Placeholder = "paste or scan the invitation link"
	}
	w.invitation.CharLimit = flow.MaxInvitationBytes + 1 // the parser refuses more, nothing is cut silently
	w.name = textinput.New()
	w.name.Prompt = g.prompt
	w.name.CharLimit = 256
	// A steady cursor: a blinking one redraws the line twice a second,
	// bytes a slow SSH link or serial console pays for.
	w.invitation.Cursor.SetMode(cursor.CursorStatic)
	w.name.Cursor.SetMode(cursor.CursorStatic)
	w.spin = spinner.New(spinner.WithSpinner(spinner.Line))
	w.help = help.New()
	w.help.Styles = w.styles.help
	w.help.ShortSeparator, w.help.Ellipsis = g.sep, g.more
	w.restart()
	w.keys.sync(&w)
	w.spinning = true // Init starts it
	return w
}

// Machine is the flow machine as the wizard left it: the outcome of a run.
func (w Model) Machine() flow.Machine { return w.machine }

// restart begins a new enrollment: at start-up and, in kiosk mode, after a
// final screen timed out.
func (w *Model) restart() {
	w.machine = w.loop.Start(w.opts.Config)
	w.busy, w.revealed, w.showing, w.notice, w.tainted, w.showingID = false, false, false, "", false, false
	w.fbHold = false
	w.invitation.Reset()
	w.name.Reset()
	w.gen++
	w.afterStep(flow.StateLoading)
}

// Init starts the spinner, and the first effect (loading the store) by a
// message: Init's model is a copy, so what next() records (the effect in
// flight, the queue) must be recorded by Update on the model that lives on.
func (w Model) Init() tea.Cmd {
	return tea.Batch(w.spin.Tick, begin, w.kioskIdle())
}

// Messages. Each is tiny and unexported; a same-named function makes the
// command where one is needed.
type (
	beginMsg      struct{}
	effectDoneMsg struct{ event flow.Event }
	kioskResetMsg struct{ gen int }
	feedbackMsg   struct{ seq int }
	// InterruptMsg is a signal from outside (SIGTERM, SIGHUP): treated
	// like Ctrl-C. The CLI sends it with Program.Send.
	InterruptMsg struct{}
)

func begin() tea.Msg { return beginMsg{} }

// next starts the next queued effect, if none is running.
func (w *Model) next() tea.Cmd {
	if w.busy {
		return w.settle()
	}
	run, ok := w.loop.Next(w.opts.Driver, w.machine)
	if !ok {
		return w.settle()
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.busy, w.cancel = true, cancel
	return func() tea.Msg {
		defer cancel()
		return effectDoneMsg{event: run(ctx)}
	}
}

// step feeds one event to the machine and queues what it asks for.
func (w *Model) step(ev flow.Event) {
	before := w.machine.State
	w.loop.Feed(&w.machine, ev)
	w.afterStep(before)
}

// effectDone feeds the machine an effect's outcome. A signal comes through
// ctx, and its InterruptMsg may queue behind this message, so one that
// came while the effect ran is heard first (flow.Loop.Done says why); only
// a working machine is told here, the others hear the InterruptMsg. Ctrl-C
// is a key, seen in order.
func (w *Model) effectDone(ev flow.Event) {
	before := w.machine.State
	w.loop.Done(&w.machine, ev, w.ctx.Err() != nil && w.machine.State.Working())
	w.afterStep(before)
}

// afterStep prepares the screen of a state just entered.
func (w *Model) afterStep(before flow.State) {
	st := w.machine.State
	if st != before {
		w.notice, w.fbHold, w.tainted = "", false, false
		w.pending, w.confirmDecline = nil, false
		w.invitation.Blur()
		w.name.Blur()
		switch st {
		case flow.StateInvitation:
			if w.invitation.Value() == "" && w.opts.Invitation != "" {
				w.prefill(&w.invitation, w.opts.Invitation)
			}
			w.invitation.Focus()
		case flow.StateName:
			if w.name.Value() == "" {
				w.prefill(&w.name, w.machine.Name)
			}
			w.name.Focus()
		}
	}
}

// Update is the whole event loop. Nothing happens after quitting.
func (w Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := w.update(msg)
	w = m.(Model)
	// The keys follow the state in one place, after any change, so the
	// help line is always true.
	w.keys.sync(&w)
	if !w.spinning && w.spinnerShown() {
		w.spinning = true
		cmd = tea.Batch(cmd, w.spin.Tick)
	}
	return w, cmd
}

// spinnerShown reports whether the screen has the spinner on it.
func (w Model) spinnerShown() bool {
	st := w.machine.State
	return !w.quitting && (st == flow.StateLoading || st.Working() || (st == flow.StateInvitation && w.phone.stage == phoneStarting))
}

func (w Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if w.quitting {
		return w, nil
	}
	if w.quitIdle {
		if m, cmd, done := w.whileLeaving(msg); done {
			return m, cmd
		}
	}

	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		w.width, w.height = msg.Width, msg.Height
		w.phone, _ = w.phone.Update(msg)
		w.help.Width = msg.Width
		w.invitation.Width = max(10, min(msg.Width, 100)-6)
		w.name.Width = max(10, min(msg.Width, 100)-6)
		if w.help.ShowAll && !w.allKeysFit() {
			w.help.ShowAll = false // back to the keys of this screen
		}
		return w, nil
	case beginMsg:
		return w, w.next()
	case effectDoneMsg:
		w.busy, w.cancel = false, nil
		w.effectDone(msg.event)
		return w, w.next()
	case kioskResetMsg:
		if msg.gen == w.gen && w.machine.State.Terminal() && !w.mustStay() {
			w.restart()
			return w, w.next()
		}
		return w, nil
	case InterruptMsg:
		return w.interrupt()
	case phoneStartedMsg, phoneResultMsg, phoneTickMsg:
		var cmd tea.Cmd
		w.phone, cmd = w.phone.Update(msg)
		return w, cmd
	case spinner.TickMsg:
		if !w.spinnerShown() {
			w.spinning = false // let it stop; Update starts it again when needed
			return w, nil
		}
		var cmd tea.Cmd
		w.spin, cmd = w.spin.Update(msg)
		return w, cmd
	case feedbackMsg:
		if msg.seq == w.fbSeq {
			w.fbHold = false
		}
		return w, nil
	case commandDueMsg:
		return w.commandDue(msg)
	case tea.KeyMsg:
		return w.keyPressed(msg)
	case kioskIdleMsg:
		return w.kioskIdleDone(msg)
	case taintOverMsg:
		return w.taintOver(msg)
	}
	if isUnreadableInput(msg) {
		w.heard(nil)
		if w.alone && w.inField() {
			// A key on its own that the terminal knows and Bubble Tea
			// does not (Ctrl-Delete): it does nothing, unless input
			// follows at once (then it was inside a scan; see stray).
			w.stray = w.lastInput
			w.notice = "That key does nothing here."
			return w, nil
		}
		return w.unknownSequence()
	}
	return w, nil
}
