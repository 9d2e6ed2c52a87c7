package main

import (
	"context"
	"fmt"
	"strings"

	"enroll/desktop"
	"enroll/flow"
)

// `enroll scheme install|remove` registers enroll as the desktop's handler
// of NAME://accept?token=… links (package desktop writes the files), and
// `enroll open LINK` (cmd_open.go) is that handler.

const schemeUsage = `Usage: enroll scheme install [--scheme NAME] [--server URL] [--terminal CMD] [flags]
       enroll scheme remove [--scheme NAME] [flags]

Register enroll as this user's desktop handler of NAME://accept?token=… links
(default NAME: enroll), or remove that registration. Run
` + "`enroll scheme install --help`" + ` for the flags.

Example:
  enroll scheme install --scheme acme-devices --server https://idp.acme.example
  enroll scheme remove --scheme acme-devices
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
	o, c, err := schemeOptions(e, args[0], args[1:])
	if err != nil {
		return fail(e, c, err)
	}
	if args[0] == "remove" {
		res, err := desktop.Remove(ctx, o)
		if err != nil {
			return fail(e, c, err)
		}
		reportRemoved(e, c, res)
		return nil
	}
	reg, err := desktop.Install(ctx, o)
	if err != nil {
		return fail(e, c, err)
	}
	reportInstalled(e, c, o, reg)
	return nil
}

// schemeOptions reads the flags of scheme install or remove.
func schemeOptions(e env, verb string, args []string) (desktop.Options, *common, error) {
	synopsis, example := "[--scheme NAME] [flags]", "  enroll scheme remove --scheme acme-devices"
	if verb == "install" {
		synopsis = "[--scheme NAME] [--server URL] [--terminal CMD] [flags]"
		example = "  enroll scheme install --scheme acme-devices --server https://idp.acme.example\n  enroll scheme install --terminal \"xterm -e\""
	}
	u := useJSON
	if verb == "install" {
		u |= useServer | useCredentials | useCAFile
	}
	fs, c, envErr := newFlags(e, "scheme "+verb, synopsis, example, u)
	o := desktop.Options{Getenv: e.getenv, Root: e.uid == 0, Warn: e.stderr}
	if verb == "install" {
		fs.StringVar(&o.Scheme, "scheme", "enroll", "URL `SCHEME` whose links enroll opens: SCHEME://accept?token=…")
		fs.StringVar(&o.Terminal, "terminal", "", "run the handler in this terminal `COMMAND`, split at spaces, e.g. \"xterm -e\", for desktops that ignore Terminal=true")
	} else {
		fs.StringVar(&o.Scheme, "scheme", "enroll", "URL `SCHEME` to stop handling")
	}
	pos, err := parseArgs(e, fs, envErr, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("%w: enroll scheme %s takes no arguments; use --scheme NAME", flow.ErrUsage, verb)
	}
	if err != nil {
		return o, c, err
	}
	// A custom-scheme link names no server, so the handler must know it:
	// --server (or ENROLL_SERVER) goes into Exec, as do the credentials
	// file and CA file when set, so the handler runs as configured here.
	o.Server, err = c.serverURL()
	o.Credentials, o.CAFile = c.credentials, c.caFile
	return o, c, err
}

func reportInstalled(e env, c *common, o desktop.Options, reg desktop.Registration) {
	notes := e.stdout
	if c.json {
		writeJSON(e.stdout, reg)
		notes = e.stderr
	} else {
		fmt.Fprintf(e.stdout, "Registered %s:// links: opening one runs the enroll wizard in a terminal.\n", reg.Scheme)
		fmt.Fprintf(e.stdout, "  desktop entry  %s\n", flow.Sanitize(reg.DesktopFile))
		fmt.Fprintf(e.stdout, "  default in     %s (x-scheme-handler/%s)\n", flow.Sanitize(reg.Mimeapps), reg.Scheme)
		fmt.Fprintf(e.stdout, "  runs           %s\n", flow.Sanitize(reg.Exec))
		fmt.Fprintf(e.stdout, "Invitation links look like %s://accept?token=…\n", reg.Scheme)
	}
	if reg.Previous != "" {
		fmt.Fprintf(notes, "Replaced the previous default handler: %s\n", flow.Sanitize(reg.Previous))
	}
	if o.Server == "" {
		fmt.Fprintln(notes, "No --server given: the links work once this device has stored credentials, or with ENROLL_SERVER set.")
	}
	if e.uid == 0 && e.getenv("XDG_DATA_HOME") == "" {
		fmt.Fprintln(notes, "Note: as root this registers the handler for root only; for every user see the README (system-wide install).")
	}
}

func reportRemoved(e env, c *common, res desktop.Registration) {
	if c.json {
		writeJSON(e.stdout, res)
		return
	}
	var said []string
	if res.DesktopFile != "" {
		said = append(said, "Removed "+flow.Sanitize(res.DesktopFile))
	}
	if res.Mimeapps != "" {
		said = append(said, fmt.Sprintf("Removed x-scheme-handler/%s from %s", res.Scheme, flow.Sanitize(res.Mimeapps)))
	}
	if len(said) == 0 {
		said = append(said, fmt.Sprintf("Nothing to remove: enroll was not registered for %s:// links here.", res.Scheme))
	}
	fmt.Fprintln(e.stdout, strings.Join(said, "\n"))
}
