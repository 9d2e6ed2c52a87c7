package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"enroll/flow"
)

// `enroll scheme install|remove` registers enroll as the desktop's handler
// of NAME://accept?token=… links, and `enroll open LINK` is that handler.
// The files themselves are written by scheme_files.go.

const schemeUsage = `Usage: enroll scheme install [--scheme NAME] [--server URL] [--terminal CMD] [flags]
       enroll scheme remove [--scheme NAME] [flags]

Register enroll as this user's desktop handler of NAME://accept?token=… links
(default NAME: enroll), or remove that registration. Run
` + "`enroll scheme install --help`" + ` for the flags.
`

func cmdScheme(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && (isHelp(args[0]) || args[0] == "help") {
		fmt.Fprint(e.stdout, schemeUsage)
		return nil
	}
	if len(args) == 0 || (args[0] != "install" && args[0] != "remove") {
		fmt.Fprint(e.stderr, schemeUsage)
		return fail(e, nil, fmt.Errorf("%w: enroll scheme needs install or remove", flow.ErrUsage))
	}
	if args[0] == "remove" {
		return schemeRemove(ctx, e, args[1:])
	}
	return schemeInstall(ctx, e, args[1:])
}

// schemeResult is the --json object of `enroll scheme`.
type schemeResult struct {
	Scheme      string `json:"scheme"`
	DesktopFile string `json:"desktopFile,omitempty"`
	Mimeapps    string `json:"mimeapps,omitempty"`
	Exec        string `json:"exec,omitempty"`
}

func schemeInstall(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "scheme install", "[--scheme NAME] [--server URL] [--terminal CMD] [flags]",
		"  enroll scheme install --scheme acme-devices --server https://idp.acme.example\n  enroll scheme install --terminal \"xterm -e\"")
	name := fs.String("scheme", "enroll", "URL `SCHEME` whose links enroll opens: SCHEME://accept?token=…")
	terminal := fs.String("terminal", "", "run the handler in this terminal `COMMAND`, split at spaces, e.g. \"xterm -e\", for desktops that ignore Terminal=true")
	pos, err := parseArgs(e, fs, envErr, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("%w: enroll scheme install takes no arguments; use --scheme NAME", flow.ErrUsage)
	}
	if err != nil {
		return fail(e, c, err)
	}
	scheme, err := validScheme(*name)
	if err != nil {
		return fail(e, c, err)
	}
	// A custom-scheme link names no server, so the handler must know it:
	// --server (or ENROLL_SERVER) goes into Exec, as do the credentials
	// file and CA file when set, so the handler runs as configured here.
	server, err := c.serverURL()
	if err != nil {
		return fail(e, c, err)
	}
	prog, err := programPath(e)
	if err != nil {
		return fail(e, c, err)
	}
	argv := append(strings.Fields(*terminal), prog, "open", "--wait")
	if server != "" {
		argv = append(argv, "--server", server)
	}
	for _, f := range []struct{ flag, path string }{{"--credentials", c.credentials}, {"--ca-file", c.caFile}} {
		if f.path != "" {
			abs, err := filepath.Abs(f.path) // the desktop starts the handler elsewhere
			if err != nil {
				return fail(e, c, err)
			}
			argv = append(argv, f.flag, abs)
		}
	}
	// "--" ends the flags: whatever the link holds is never read as one.
	execValue, err := execLine(append(argv, "--"), "%u")
	if err != nil {
		return fail(e, c, err)
	}
	apps, desktop, mimeapps, err := schemePaths(e, scheme)
	if err != nil {
		return fail(e, c, err)
	}
	// New directories are private, as XDG asks, except for root, whose use
	// of this is a system-wide install through XDG_DATA_HOME=/usr/share.
	// Failures to write are not usage errors: exit 1 with the OS's reason.
	perm := os.FileMode(0o700)
	if e.uid == 0 {
		perm = 0o755
	}
	for _, dir := range []string{apps, filepath.Dir(mimeapps)} {
		if err := os.MkdirAll(dir, perm); err != nil {
			return fail(e, c, fmt.Errorf("cannot create %s: %w", flow.Sanitize(dir), err))
		}
	}
	if err := writeAtomic(desktop, []byte(desktopEntry(scheme, execValue, *terminal == ""))); err != nil {
		return fail(e, c, fmt.Errorf("cannot write the desktop entry: %w", err))
	}
	old, err := readIfExists(mimeapps)
	if err != nil {
		return fail(e, c, fmt.Errorf("cannot read %s: %w", flow.Sanitize(mimeapps), err))
	}
	updated, previous := setDefault(old, "x-scheme-handler/"+scheme, desktopID(scheme))
	if err := writeAtomic(mimeapps, []byte(updated)); err != nil {
		return fail(e, c, fmt.Errorf("cannot write %s: %w", flow.Sanitize(mimeapps), err))
	}
	refreshDesktopDatabase(ctx, e, apps)

	notes := e.stdout
	if c.json {
		writeJSON(e.stdout, schemeResult{Scheme: scheme, DesktopFile: desktop, Mimeapps: mimeapps, Exec: execValue})
		notes = e.stderr
	} else {
		fmt.Fprintf(e.stdout, "Registered %s:// links: opening one runs the enroll wizard in a terminal.\n", scheme)
		fmt.Fprintf(e.stdout, "  desktop entry  %s\n", flow.Sanitize(desktop))
		fmt.Fprintf(e.stdout, "  default in     %s (x-scheme-handler/%s)\n", flow.Sanitize(mimeapps), scheme)
		fmt.Fprintf(e.stdout, "  runs           %s\n", flow.Sanitize(execValue))
		fmt.Fprintf(e.stdout, "Invitation links look like %s://accept?token=…\n", scheme)
	}
	if previous != "" && strings.TrimSuffix(previous, ";") != desktopID(scheme) {
		fmt.Fprintf(notes, "Replaced the previous default handler: %s\n", flow.Sanitize(previous))
	}
	if server == "" {
		fmt.Fprintln(notes, "No --server given: the links work once this device has stored credentials, or with ENROLL_SERVER set.")
	}
	if e.uid == 0 && e.getenv("XDG_DATA_HOME") == "" {
		fmt.Fprintln(notes, "Note: as root this registers the handler for root only; for every user see the README (system-wide install).")
	}
	return nil
}

func schemeRemove(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "scheme remove", "[--scheme NAME] [flags]", "  enroll scheme remove --scheme acme-devices")
	name := fs.String("scheme", "enroll", "URL `SCHEME` to stop handling")
	pos, err := parseArgs(e, fs, envErr, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("%w: enroll scheme remove takes no arguments; use --scheme NAME", flow.ErrUsage)
	}
	if err != nil {
		return fail(e, c, err)
	}
	scheme, err := validScheme(*name)
	if err != nil {
		return fail(e, c, err)
	}
	apps, desktop, mimeapps, err := schemePaths(e, scheme)
	if err != nil {
		return fail(e, c, err)
	}
	res := schemeResult{Scheme: scheme}
	var said []string
	switch err := os.Remove(desktop); {
	case err == nil:
		res.DesktopFile = desktop
		said = append(said, "Removed "+flow.Sanitize(desktop))
		refreshDesktopDatabase(ctx, e, apps)
	case !os.IsNotExist(err):
		return fail(e, c, fmt.Errorf("cannot remove the desktop entry: %w", err))
	}
	old, err := readIfExists(mimeapps)
	if err != nil {
		return fail(e, c, fmt.Errorf("cannot read %s: %w", flow.Sanitize(mimeapps), err))
	}
	if updated, removed := removeDefault(old, "x-scheme-handler/"+scheme, desktopID(scheme)); removed {
		if err := writeAtomic(mimeapps, []byte(updated)); err != nil {
			return fail(e, c, fmt.Errorf("cannot write %s: %w", flow.Sanitize(mimeapps), err))
		}
		res.Mimeapps = mimeapps
		said = append(said, fmt.Sprintf("Removed x-scheme-handler/%s from %s", scheme, flow.Sanitize(mimeapps)))
	}
	if c.json {
		writeJSON(e.stdout, res)
		return nil
	}
	if len(said) == 0 {
		said = append(said, fmt.Sprintf("Nothing to remove: enroll was not registered for %s:// links here.", scheme))
	}
	fmt.Fprintln(e.stdout, strings.Join(said, "\n"))
	return nil
}

// cmdOpen is the handler the desktop runs for a NAME://accept?token=… link:
// the wizard, with the invitation filled in.
func cmdOpen(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "open", "LINK [flags]", "  enroll open --server https://idp.acme.example 'acme-devices://accept?token=…'")
	wait := fs.Bool("wait", false, "at the end, wait for Enter, so that a terminal window opened for the link stays until read")
	kiosk := fs.Bool("kiosk", envErr.bool(e, "kiosk", "ENROLL_KIOSK"), "kiosk mode, as for the wizard (ENROLL_KIOSK)")
	c.readerGroupFlag(fs, e)
	screen := addScreenFlags(fs, e)
	pos, err := parseArgs(e, fs, envErr, args)
	if err != nil {
		return fail(e, c, err)
	}
	if *wait && e.tty && (c.plain || e.getenv("TERM") == "dumb") {
		// The plain runner may leave a reader blocked on stdin when it
		// returns; it must not swallow the Enter the wait asks for.
		e.stdin = handOver(e.stdin)
	}
	ses := session{Kiosk: *kiosk}
	if err := screen.apply(&ses); err != nil {
		return fail(e, c, err)
	}
	err = fail(e, c, openLink(ctx, e, c, pos, ses))
	if *wait && e.tty {
		waitForEnter(ctx, e)
	}
	return err
}

func openLink(ctx context.Context, e env, c *common, pos []string, ses session) error {
	if len(pos) != 1 {
		return fmt.Errorf("%w: enroll open takes one link, NAME://accept?token=…, as the desktop passes it", flow.ErrUsage)
	}
	// The desktop hands the link over in argv (%u): every URL handler gets
	// it that way. The token is single-use, and enroll never prints or logs
	// it; the parser's errors hold no part of it.
	link := strings.TrimSpace(pos[0])
	inv, err := flow.ParseInvitation(link)
	if err != nil {
		return err
	}
	scheme, _, isLink := strings.Cut(link, "://")
	if _, err := validScheme(scheme); err != nil || !isLink || inv.Source != flow.SourceScheme || strings.ContainsAny(link, " \t\r\n") {
		return fmt.Errorf("%w: enroll open takes an app link such as enroll://accept?token=…; for a web link or a token run `enroll` or `enroll accept`", flow.ErrUsage)
	}
	if !e.tty && !c.plain {
		return fmt.Errorf("%w: enroll open needs a terminal to ask its questions (or --plain); the desktop entry sets Terminal=true, and where a desktop ignores that, `enroll scheme install --terminal \"xterm -e\"` opens one", flow.ErrUsage)
	}
	server, err := c.serverURL()
	if err != nil {
		return err
	}
	d, err := c.driver(e)
	if err != nil {
		return err
	}
	if server == "" && !storedHere(e, d.Store.Path(), d.Store.JournalPath()) {
		// The wizard would say "a token alone names no server" and
		// ask again for ever: the link cannot do better.
		return fmt.Errorf("%w: an app link names no server and this device has none stored: pass --server URL or set ENROLL_SERVER (a vendor installs the handler with `enroll scheme install --server URL`)", flow.ErrUsage)
	}
	host, _ := e.hostname()
	ses.Invitation = link
	return interactive(ctx, e, c, d, flow.Config{Server: server, Hostname: host}, ses)
}
