package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"enroll/flow"
)

func cmdAccept(ctx context.Context, e env, args []string) error {
	return acceptOrDecline(ctx, e, args, false)
}

func cmdDecline(ctx context.Context, e env, args []string) error {
	return acceptOrDecline(ctx, e, args, true)
}

const acceptExample = `  enroll accept --server https://idp.example.com --token-file /boot/invitation.txt --name "$(hostname)"
  ENROLL_TOKEN='https://idp.example.com/invitation?token=…' enroll accept --json`

const declineExample = `  enroll decline --token-file - < invitation.txt`

func acceptOrDecline(ctx context.Context, e env, args []string, decline bool) error {
	name, example := "accept", acceptExample
	if decline {
		name, example = "decline", declineExample
	}
	fs, c, envErr := newFlags(e, name, "[LINK|TOKEN] [flags]", example, useService)
	tokenFile := fs.String("token-file", e.getenv("ENROLL_TOKEN_FILE"), "read the invitation link or token from `FILE` (- for stdin; ENROLL_TOKEN_FILE)")
	var deviceName *string
	if !decline {
		deviceName = fs.String("name", e.getenv("ENROLL_NAME"), "device client `NAME` (ENROLL_NAME; default: this host's name, or the stored name of an enrolled device)")
		c.readerGroupFlag(fs, e)
		c.sealFlag(fs, e, envErr)
	}
	pos, err := parseArgs(e, fs, envErr, args)
	if err != nil {
		return fail(e, c, err)
	}
	text, err := readInvitation(e, pos, *tokenFile)
	if err != nil {
		return fail(e, c, err)
	}
	server, err := c.serverURL()
	if err != nil {
		return fail(e, c, err)
	}
	d, err := c.driver(e)
	if err != nil {
		return fail(e, c, err)
	}
	script := flow.Script{Invitation: text, Decline: decline, TrustLinkServer: true}
	if deviceName != nil {
		script.Name = *deviceName
	}
	host, _ := e.hostname()
	seen := map[flow.State]bool{}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	m, err := flow.Run(ctx, d, flow.Config{Server: server, Hostname: host}, script, func(m flow.Machine) {
		reportProgress(e, c, m, seen)
	})
	if err != nil {
		return reportFailure(e, c, m, d.Store.JournalPath(), err)
	}
	return reportDone(e, c, m, d.Store.Path())
}

// readInvitation takes the invitation from exactly one place: the argument,
// --token-file, or ENROLL_TOKEN. Without a terminal enroll never waits for
// input, so a missing invitation is a usage error, not a prompt.
func readInvitation(e env, pos []string, tokenFile string) (string, error) {
	fromEnv := e.getenv("ENROLL_TOKEN")
	given := 0
	for _, set := range []bool{len(pos) > 0, tokenFile != "", fromEnv != ""} {
		if set {
			given++
		}
	}
	if given > 1 {
		return "", fmt.Errorf("%w: give the invitation one way only: as an argument, with --token-file, or in ENROLL_TOKEN", flow.ErrUsage)
	}
	if len(pos) > 1 {
		return "", fmt.Errorf("%w: expected one invitation, got %d arguments (quote a link that contains spaces)", flow.ErrUsage, len(pos))
	}
	switch {
	case len(pos) == 1:
		fmt.Fprintln(e.stderr, "enroll: warning: an invitation given as an argument is visible to other users in the process list; prefer --token-file or ENROLL_TOKEN")
		return pos[0], nil
	case tokenFile == "-":
		if e.stdinTTY {
			// Someone typing, not a pipe: say what is awaited, and how to end.
			fmt.Fprintln(e.stderr, "enroll: reading the invitation from the terminal: paste it, then press Enter and Ctrl-D.")
		}
		return readCapped(e.stdin, "standard input")
	case tokenFile != "":
		f, err := os.Open(tokenFile)
		if err != nil {
			return "", fmt.Errorf("%w: cannot read the token file: %w", flow.ErrUsage, err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() && fi.Mode()&os.ModeNamedPipe == 0 && fi.Mode()&os.ModeCharDevice == 0 {
			return "", fmt.Errorf("%w: the token file %s is not a regular file", flow.ErrUsage, flow.Sanitize(tokenFile))
		}
		return readCapped(f, flow.Sanitize(tokenFile))
	}
	if fromEnv != "" {
		return fromEnv, nil
	}
	// Nothing given: the flow may still finish a journaled enrollment
	// without one, and says "no invitation" only if it needs it.
	return "", nil
}

// readCapped reads at most one byte past the parser's limit so that an
// oversized or endless input (a device file, a pipe) is refused quickly.
func readCapped(r io.Reader, what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, flow.MaxInvitationBytes+1))
	if err != nil {
		return "", fmt.Errorf("%w: cannot read the invitation from %s: %w", flow.ErrUsage, what, err)
	}
	return string(b), nil
}

// progressLine is a working state's --verbose line, as a phrase
// ("accepting the invitation"); "" for other states.
func progressLine(s flow.State) string {
	d := s.Doing()
	if d == "" {
		return ""
	}
	return strings.ToLower(d[:1]) + d[1:]
}

func reportProgress(e env, c *common, m flow.Machine, seen map[flow.State]bool) {
	if m.State == flow.StateWelcome {
		for _, w := range m.Warnings {
			fmt.Fprintf(e.stderr, "enroll: warning: %s\n", flow.Sanitize(w))
		}
	}
	if m.State == flow.StateName && m.Invitation.Origin != "" && !seen[flow.StateName] {
		c.logf(e.stderr, "token read from a link at %s", flow.Sanitize(m.Invitation.Host))
	}
	if line := progressLine(m.State); line != "" && !seen[m.State] {
		c.logf(e.stderr, "%s…", line)
	}
	seen[m.State] = true
}
