package main

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"enroll/flow"
	"enroll/qr"
	"enroll/tui"
)

// cmdWizard is `enroll` without a command: the wizard, when a person is
// there to answer it.
func cmdWizard(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "", "[flags]", "  enroll --server https://idp.example.com", useService|useScreen)
	kiosk := fs.Bool("kiosk", envErr.bool(e, "kiosk", "ENROLL_KIOSK"), "kiosk mode: never reveal the secret, clear the screen at the end, start over after a minute (ENROLL_KIOSK)")
	c.readerGroupFlag(fs, e)
	c.sealFlag(fs, e, envErr)
	screen := addScreenFlags(fs, e)
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	ses := session{Kiosk: *kiosk}
	if err := screen.apply(&ses); err != nil {
		return fail(e, c, err)
	}
	if !e.tty && !c.plain && e.getenv("TERM") != "dumb" {
		return fail(e, c, fmt.Errorf("%w: the wizard needs a terminal (or --plain for line-by-line questions); in scripts use `enroll accept --token-file FILE` (see enroll --help)", flow.ErrUsage))
	}
	server, err := c.serverURL()
	if err != nil {
		return fail(e, c, err)
	}
	d, err := c.driver(e)
	if err != nil {
		return fail(e, c, err)
	}
	host, _ := e.hostname()
	return interactive(ctx, e, c, d, flow.Config{Server: server, Hostname: host}, ses)
}

// session is what a wizard run starts with besides the flow's config.
type session struct {
	Kiosk      bool
	DemoLink   string // enroll demo: offered to be filled in
	Invitation string // enroll open: the invitation from the link, filled in
	// HandoffListen is where the phone hand-off page listens ("" = the
	// address of the default route); QRFormat how its code is drawn.
	HandoffListen string
	QRFormat      qr.Format
}

// interactive runs the wizard, or the line-by-line runner with --plain or
// on a dumb terminal, then leaves a plain record of the outcome on the
// terminal (the wizard's own screen disappears when it ends).
func interactive(ctx context.Context, e env, c *common, d flow.Driver, cfg flow.Config, ses session) error {
	kiosk, demoLink := ses.Kiosk, ses.DemoLink
	if c.plain || e.getenv("TERM") == "dumb" {
		if _, err := tui.RunPlain(ctx, tui.PlainOptions{In: e.stdin, Out: e.stdout, Driver: d, Config: cfg, DemoLink: demoLink, Invitation: ses.Invitation}); err != nil {
			return errReported{err} // the plain runner has said it all
		}
		return nil
	}
	r := lipgloss.NewRenderer(e.stdout)
	r.SetColorProfile(colorProfile(e, c))
	model := tui.New(ctx, tui.Options{
		Driver: d, Config: cfg, Renderer: r, Kiosk: kiosk, DemoLink: demoLink, Invitation: ses.Invitation,
		ASCII: asciiOnly(e), QRFormat: ses.QRFormat, StartPhone: startPhone(ses.HandoffListen),
	})
	// Signals come through ctx (main's NotifyContext), never through
	// Bubble Tea's own handler: that one quits at once, even while the
	// accept call is in flight.
	p := tea.NewProgram(model, tea.WithInput(e.stdin), tea.WithOutput(e.stdout), tea.WithAltScreen(), tea.WithoutSignalHandler())
	go func() {
		// SIGTERM and SIGHUP (the SSH session dropped) arrive as a
		// cancelled context; the wizard treats them like Ctrl-C.
		<-ctx.Done()
		p.Send(tui.InterruptMsg{})
	}()
	final, err := p.Run()
	if err != nil {
		return fmt.Errorf("the wizard stopped: %w", err)
	}
	m := final.(tui.Model).Machine()
	if kiosk {
		// Nothing of this enrollment stays on a shared screen.
		fmt.Fprint(e.stdout, "\x1b[H\x1b[2J\x1b[3J")
		return outcomeError(m)
	}
	return reportWizard(e, c, m, d.Store)
}

// reportWizard leaves a plain record of how the wizard ended.
func reportWizard(e env, c *common, m flow.Machine, st flow.Store) error {
	switch {
	case m.State == flow.StateDone || m.State == flow.StateDeclined:
		return reportDone(e, c, m, st.Path())
	case m.State == flow.StateFailed && m.Failure != nil:
		return reportFailure(e, c, m, st.JournalPath(), m.Failure.Err)
	}
	if m.State.Working() && !(m.Interrupted && m.NothingSent()) {
		// Not expected: the wizard waits for work in flight unless asked
		// twice to leave before anything was sent. Be honest.
		fmt.Fprintf(e.stderr, "enroll: stopped while %s; run `enroll status` to see what was stored.\n", m.State)
		return errReported{flow.ErrOutcomeUnknown}
	}
	fmt.Fprintln(e.stderr, "enroll: quit before accepting; nothing was sent.")
	return errReported{flow.ErrInterrupted}
}

func outcomeError(m flow.Machine) error {
	switch {
	case m.State == flow.StateDone || m.State == flow.StateDeclined:
		return nil
	case m.State == flow.StateFailed && m.Failure != nil:
		return errReported{m.Failure.Err}
	}
	return errReported{flow.ErrInterrupted}
}

// colorProfile picks colours without asking the terminal anything (a query
// costs a round trip on a slow link): the 16 ANSI colours, which every
// colour terminal and the Linux console show, or none.
func colorProfile(e env, c *common) termenv.Profile {
	if c.noColor || e.getenv("TERM") == "dumb" {
		return termenv.Ascii
	}
	return termenv.ANSI
}

// asciiOnly is true where block and check-mark glyphs do not show: the
// Linux console's default font, and any locale that is not UTF-8.
func asciiOnly(e env) bool {
	if e.getenv("TERM") == "linux" {
		return true
	}
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := e.getenv(k); v != "" {
			v = strings.ToLower(v)
			return !strings.Contains(v, "utf-8") && !strings.Contains(v, "utf8")
		}
	}
	return true
}
