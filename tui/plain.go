package tui

import (
	"context"
	"fmt"
	"io"
	"strings"

	"enroll/flow"
)

// PlainOptions configure RunPlain.
type PlainOptions struct {
	In     io.Reader // answers, one a line; nil reads as no input at all
	Out    io.Writer // plain text only; nil discards
	Driver flow.Driver
	Config flow.Config
	// Credentials is the file shown on the done screen; "" means
	// Driver.Store.Path().
	Credentials string
	// DemoLink, when set (enroll demo), is used for an empty answer at the
	// invitation prompt. It is never printed: it holds the token.
	DemoLink string
	// Invitation, when set (enroll open), is the invitation from the link
	// that was opened: used for an empty answer, like DemoLink.
	Invitation string
}

// plainMaxLine is the longest answer read. A longer line is refused and
// asked again, so a runaway paste or a stuck scanner costs bounded memory.
const plainMaxLine = 8 << 10

// RunPlain is the line-by-line wizard that --plain and TERM=dumb select, for
// screen readers and serial consoles: one fact a line, no escape sequences,
// prompts read from In. It drives the same flow machine as the Bubble Tea
// wizard and the scripted path, so it has no enrollment logic of its own.
//
// Cancelling ctx, or the end of In, is an interruption: at a prompt the run
// stops with flow.ErrInterrupted; while the accept call is in flight or
// after it, the commit finishes first (the machine sees to that).
//
// It returns the final machine and, for a failed one, its failure error.
// The goroutine that reads In may stay blocked in In.Read after RunPlain
// returns; nothing can unblock a read of a terminal, and it holds nothing.
func RunPlain(ctx context.Context, o PlainOptions) (flow.Machine, error) {
	if o.In == nil {
		o.In = strings.NewReader("")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Credentials == "" && o.Driver.Store != nil {
		o.Credentials = o.Driver.Store.Path()
	}
	done := make(chan struct{})
	defer close(done)
	r := &plainRun{ctx: ctx, o: o, view: plainView{w: o.Out}, lines: plainReadLines(o.In, done)}
	return r.run()
}

// plainRun is one run: the machine and its effects, and where the answers
// come from. Only the calling goroutine touches it.
type plainRun struct {
	ctx      context.Context
	o        PlainOptions
	view     plainView
	lines    <-chan plainLine
	m        flow.Machine
	loop     flow.Loop  // the effects m asked for
	shown    flow.State // the state the view last said it entered
	revealed bool       // credentials kept nowhere else were shown once
}

func (r *plainRun) run() (flow.Machine, error) {
	r.m = r.loop.Start(r.o.Config)
	r.shown = r.m.State
	cancelled := func() bool { return r.ctx.Err() != nil }
	for {
		// The machine decides what an interruption means: stop now, or
		// finish the commit.
		r.loop.Drain(r.ctx, r.o.Driver, &r.m, cancelled, r.stepped)
		switch r.m.State {
		case flow.StateFailed:
			// Reported only now, once its effects (setting a journal
			// aside) have run, so the report names where things are.
			if !r.afterFailure() {
				return r.m, plainFailureErr(r.m)
			}
		case flow.StateDone:
			r.view.outcome(flow.OutcomeOf(r.m, r.o.Credentials, ""))
			return r.m, nil
		case flow.StateDeclined:
			r.view.outcome(flow.OutcomeOf(r.m, "", ""))
			return r.m, nil
		default:
			if !r.ask() {
				return r.m, fmt.Errorf("tui: the plain runner has no prompt for state %v", r.m.State)
			}
		}
	}
}

// feed steps the machine with a person's answer.
func (r *plainRun) feed(ev flow.Event) {
	r.loop.Feed(&r.m, ev)
	r.stepped(ev)
}

// interrupt tells the machine of an interruption at a prompt.
func (r *plainRun) interrupt() {
	if r.loop.Interrupt(&r.m) {
		r.stepped(flow.Interrupt{})
	}
}

// stepped says what a step changed, as a step heading or one progress
// line, and what an interruption while working means.
func (r *plainRun) stepped(ev flow.Event) {
	m := r.m
	if _, ok := ev.(flow.Interrupt); ok && m.State.Working() && m.Outstanding() == flow.OutstandingCommit {
		r.view.say("Interrupted. Finishing first: the invitation may already be used, so the credentials must be stored.")
	}
	if prev := r.shown; m.State != prev {
		r.shown = m.State
		r.view.enter(m, prev, r.prefilledHint())
	}
}

// ask asks for the input the current state waits for and feeds the answer.
// A refused answer leaves the state as it is, so the loop asks again.
func (r *plainRun) ask() bool {
	switch r.m.State {
	case flow.StateWelcome:
		r.feed(flow.Next{}) // the welcome text was shown on entering it
	case flow.StateInvitation:
		prompt := "Invitation link or token: "
		if r.m.Server == "" {
			prompt = "Invitation link: " // a token alone names no server
		}
		if line, ok := r.readLine(prompt); ok {
			switch {
			case line == "" && r.o.Invitation != "":
				r.view.say("Using the invitation from the link that was opened.")
				line = r.o.Invitation
			case line == "" && r.o.DemoLink != "":
				r.view.say("Using the demo invitation.")
				line = r.o.DemoLink
			}
			r.input(flow.InvitationEntered{Text: line})
		}
	case flow.StateServer:
		if warn := flow.LookAlikeWarning(r.m.Invitation.Host); warn != "" {
			r.view.say("Warning: " + warn)
		}
		prompt := "The link names the server " + flow.SanitizeMax(r.m.Proposed, 200) + ". Use it? [y/n]: "
		if line, ok := r.readLine(prompt); ok {
			r.answerServer(line)
		}
	case flow.StateName:
		if line, ok := r.readLine("Device name [" + flow.SanitizeMax(r.m.Name, 80) + "]: "); ok {
			r.input(r.nameEvent(line))
		}
	case flow.StateReview:
		if line, ok := r.readLine("Accept (a), decline (d) or go back (b)? "); ok {
			r.answerReview(line)
		}
	default:
		return false
	}
	return true
}

// input feeds a typed answer and explains a refusal.
func (r *plainRun) input(ev flow.Event) {
	r.feed(ev)
	if r.m.InputErr != nil {
		r.view.say("Not accepted: " + flow.SanitizeMax(flow.Message(r.m.InputErr), plainMaxError))
	}
}

func (r *plainRun) answerServer(line string) {
	switch plainWord(line) {
	case "y", "yes":
		r.feed(flow.ServerConfirmed{OK: true})
	case "n", "no":
		r.view.say("Not using it. Give a link to the right server, or run enroll with --server.")
		r.feed(flow.ServerConfirmed{OK: false})
	default:
		r.view.say("Please answer y for yes or n for no.")
	}
}

// nameEvent turns the answer at the name prompt into an event. An empty
// line keeps the proposal: a new device sends it (it is named after its
// host, as the scripted path does), an existing one keeps its name by not
// sending any.
func (r *plainRun) nameEvent(line string) flow.Event {
	if strings.TrimSpace(line) != "" {
		return flow.NameEntered{Text: line}
	}
	if r.m.Existing == nil && r.m.Name != "" {
		return flow.NameEntered{Text: r.m.Name}
	}
	return flow.NameDefault{}
}

func (r *plainRun) answerReview(line string) {
	switch plainWord(line) {
	case "a", "accept":
		r.feed(flow.AcceptChosen{})
	case "d", "decline":
		// Declining uses the invitation up: asked once more, and only a
		// line that says yes declines.
		line, ok := r.readLine("Declining uses the invitation up: it cannot be accepted afterwards. Decline it? [yes/no]: ")
		if !ok {
			return
		}
		if w := plainWord(line); w == "y" || w == "yes" {
			r.feed(flow.DeclineChosen{})
			return
		}
		r.view.say("Not declined.")
	case "b", "back":
		r.feed(flow.Back{})
	default:
		r.view.say("Please answer a to accept, d to decline or b to go back.")
	}
}

// afterFailure reports the failure and offers what the failure allows. It
// returns false when the run ends here.
func (r *plainRun) afterFailure() bool {
	f := r.m.Failure
	if f == nil {
		return false
	}
	r.view.failure(flow.Failed(f.Err, *f, r.journalPath(f)), !r.revealed)
	r.revealed = r.revealed || f.Reveal != nil || f.RevealRaw != nil
	canBack := f.Back != flow.StateFailed
	if !f.Retry && !canBack {
		return false
	}
	prompt := plainFailurePrompt(f.Retry, canBack)
	for {
		line, ok := r.readLine(prompt)
		if !ok {
			return false
		}
		switch w := plainWord(line); {
		case f.Retry && (w == "r" || w == "retry"):
			r.feed(flow.Retry{})
			return true
		case canBack && (w == "b" || w == "back"):
			r.feed(flow.Back{})
			return true
		case w == "q" || w == "quit":
			return false
		}
		r.view.say("Please answer with one of the letters in brackets.")
	}
}

func (r *plainRun) journalPath(f *flow.Failure) string {
	if f.SetAsideTo != "" {
		return f.SetAsideTo
	}
	if r.o.Driver.Store == nil {
		return ""
	}
	return r.o.Driver.Store.JournalPath()
}

// readLine shows prompt and waits for one line. A cancelled context or the
// end of the input is an interruption: the machine hears it and ok is
// false. A line over plainMaxLine is refused here and asked again.
func (r *plainRun) readLine(prompt string) (line string, ok bool) {
	ended := false
	for {
		if r.ctx.Err() == nil {
			r.view.prompt(prompt)
			select {
			case l, open := <-r.lines:
				if !open {
					ended = true
					break
				}
				if l.tooLong {
					r.view.say(fmt.Sprintf("Not accepted: the line is longer than %d KiB.", plainMaxLine>>10))
					continue
				}
				return l.text, true
			case <-r.ctx.Done():
			}
			r.view.say("") // end the prompt's line
			if ended {
				r.view.say("The input ended before this question was answered.")
			}
		}
		r.interrupt()
		return "", false
	}
}

func plainWord(line string) string { return strings.ToLower(strings.TrimSpace(line)) }

func plainFailurePrompt(retry, back bool) string {
	switch {
	case retry && back:
		return "Retry (r), go back (b) or quit (q)? "
	case retry:
		return "Retry (r) or quit (q)? "
	}
	return "Go back (b) or quit (q)? "
}

func plainFailureErr(m flow.Machine) error {
	if m.Failure != nil && m.Failure.Err != nil {
		return m.Failure.Err
	}
	return flow.ErrInterrupted // failed without a reason: only an interruption does that
}

// prefilledHint tells the person that an empty answer uses the invitation
// enroll already has, and which one it is.
func (r *plainRun) prefilledHint() string {
	switch {
	case r.o.Invitation != "":
		return "Press Enter on an empty line to use the invitation from the link that was opened."
	case r.o.DemoLink != "":
		return "This is a demo: press Enter on an empty line to use the demo invitation."
	}
	return ""
}
