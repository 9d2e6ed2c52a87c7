// Command enroll makes a headless device a device client of a 10Duke
// Enterprise service by accepting a device-client-group invitation.
//
// main.go parses the command line and maps outcomes to exit codes; each
// subcommand lives in its own cmd_*.go file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"golang.org/x/term"

	"enroll/config"
	"enroll/flow"
	"enroll/persist"
	_ "enroll/tui/noquery" // before Bubble Tea's init: no terminal query at start-up
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], systemEnv())
	stop()
	os.Exit(code)
}

// env is everything a command reads from the process, injected so that every
// path is testable without globals.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	uid    int
	// tty reports whether stdin and stdout are both terminals: only then
	// may enroll ask questions.
	tty bool
	// stdinTTY reports whether stdin alone is a terminal: someone may be
	// typing there even when stdout goes to a file.
	stdinTTY bool
	hostname func() (string, error)
	// termSize is the size of the terminal on stdout; ok is false when
	// stdout is not one (nil in tests: no terminal).
	termSize func() (width, height int, ok bool)
	// fs is the filesystem of the credentials store; nil is the real one.
	// Tests put a failing one here to fill the disk at a chosen moment.
	fs persist.FS
	// defaults is the defaults file as read at start-up (its settings are
	// in the environment already, where the environment did not set them),
	// fromFile the keys it set; doctor reports them.
	defaults    config.File
	defaultsErr error
	fromFile    map[string]bool
	// describe, when set, receives a command's flags and texts instead of
	// running it: the generated help, completions and man pages read the
	// definitions the commands run with.
	describe func(*flag.FlagSet, *envErrors)
}

// systemEnv is the process's environment, with the defaults file's
// settings added where the environment does not set them: the same
// configuration the first-boot unit gets from EnvironmentFile=, so that
// every way enroll is run sees it. This is the one change enroll makes to
// its own environment, once, before anything reads it.
func systemEnv() env {
	file, err := config.Read(config.Path(os.Getenv))
	fromFile := map[string]bool{}
	for _, k := range config.Apply(file, os.Getenv, os.Setenv) {
		fromFile[k] = true
	}
	return env{
		defaults: file, defaultsErr: err, fromFile: fromFile,
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv:   os.Getenv,
		uid:      os.Getuid(),
		tty:      term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())),
		stdinTTY: term.IsTerminal(int(os.Stdin.Fd())),
		hostname: os.Hostname,
		termSize: func() (int, int, bool) {
			w, h, err := term.GetSize(int(os.Stdout.Fd()))
			return w, h, err == nil && w > 0 && h > 0
		},
	}
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
	hidden  bool // for packagers, not listed in the usage
}

func commands() []command {
	return []command{
		{"accept", "accept an invitation without questions", cmdAccept, false},
		{"decline", "decline an invitation", cmdDecline, false},
		{"status", "show the stored credentials (--verify gets a token)", cmdStatus, false},
		{"token", "print a fresh access token for the stored client", cmdToken, false},
		{"forget", "delete the stored credentials (local only)", cmdForget, false},
		{"seal", "seal the stored client secret to this device's TPM, in place", cmdSeal, false},
		{"doctor", "diagnose this device: settings, network, TLS, clock, service, credentials file, TPM", cmdDoctor, false},
		{"open", "the wizard for an app link NAME://accept?token=… (the desktop's link handler)", cmdOpen, false},
		{"scheme", "install or remove enroll as this desktop's handler of NAME:// links", cmdScheme, false},
		{"invite", "send invitations as an administrator, one or a CSV file's worth", cmdInvite, false},
		{"demo", "enroll against the built-in emulator, in a temporary directory", cmdDemo, false},
		{"emulator", "serve the emulator of the service on loopback", cmdEmulator, false},
		{"version", "print the version, commit, build date and platform (also --version)", cmdVersion, false},
		{"completion", "print the shell completion script for bash, zsh or fish", cmdCompletion, false},
		{"man", "write the man pages into a directory", cmdMan, true},
	}
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, e env) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return exitCode(ctx, e, cmdVersion(ctx, e, args[1:]))
	}
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0])) {
		return exitCode(ctx, e, cmdWizard(ctx, e, args))
	}
	name := args[0]
	switch {
	case name == "help" && len(args) > 1: // enroll help COMMAND is enroll COMMAND --help
		return run(ctx, append(args[1:2], "--help"), e)
	case isHelp(name) || name == "help":
		usage(e, e.stdout)
		return flow.ExitOK
	case name == cobra.ShellCompRequestCmd || name == cobra.ShellCompNoDescRequestCmd:
		return complete(e, args)
	}
	for _, c := range commands() {
		if c.name == name {
			return exitCode(ctx, e, c.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(e.stderr, "enroll: unknown command %q\n", flow.Sanitize(name))
	if near := commandTree(e).SuggestionsFor(name); len(near) > 0 {
		fmt.Fprintf(e.stderr, "Did you mean %s?\n", strings.Join(near, " or "))
	}
	fmt.Fprintln(e.stderr, "Run `enroll --help` for the commands.")
	return flow.ExitUsage
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// errReported marks an error whose message a command already printed.
type errReported struct{ err error }

func (r errReported) Error() string { return r.err.Error() }
func (r errReported) Unwrap() error { return r.err }

// errExit ends a command with exactly this code, its messages printed
// already: enroll invite's rows each carry their own outcome, and the run's
// code is chosen from them rather than classified from one error.
type errExit = flow.Exit

// exitWith ends a command whose messages are printed already.
func exitWith(code int) error {
	if code == flow.ExitOK {
		return nil
	}
	return flow.Exit(code)
}

func exitCode(ctx context.Context, e env, err error) int {
	if err == nil {
		return flow.ExitOK
	}
	if errors.Is(err, errHelp) {
		return flow.ExitOK
	}
	if ctx.Err() != nil && !errors.Is(err, flow.ErrInterrupted) && errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %w", flow.ErrInterrupted, err)
	}
	if code := errExit(0); errors.As(err, &code) {
		return int(code)
	}
	var rep errReported
	if !errors.As(err, &rep) {
		c := flow.Classify(err)
		fmt.Fprintf(e.stderr, "enroll: %s\n", flow.SanitizeMax(err.Error(), 400))
		if c.Hint != "" && c.Kind != nil {
			fmt.Fprintf(e.stderr, "  %s\n", c.Hint)
		}
	}
	return flow.Classify(err).Exit
}

const exitCodesHelp = `Exit codes:
  0    done
  1    unexpected error
  2    usage: bad flags, or an invitation enroll cannot read
  3    invitation refused: unknown, expired, revoked, used, or not for this device
  4    this device's stored credentials were refused, or it is not enrolled
  5    network or server unavailable; nothing changed, safe to retry
  6    credentials cannot be stored; checked before accepting, invitation unused
  7    outcome unknown, or credentials received but not stored (next step printed)
  130  interrupted`

func usage(e env, w io.Writer) {
	fmt.Fprintln(w, "Usage: enroll [--kiosk] [--plain] [flags]   the wizard, on a terminal")
	fmt.Fprintln(w, "       enroll COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Make this device a device client of a 10Duke Enterprise service.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `enroll help COMMAND` (or `enroll COMMAND --help`) for its flags and an example.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The wizard's flags:")
	if d := describe(e, cmdWizard); d.fs != nil {
		d.fs.SetOutput(w)
		d.fs.PrintDefaults()
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, exitCodesHelp)
}
