package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"enroll/api/emulator"
	"enroll/flow"
)

func cmdDemo(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "demo", "[flags]", "  go run . demo", useTimeout|useJSON|useVerbose|useScreen)
	screen := addScreenFlags(fs, e)
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	var ses session
	if err := screen.apply(&ses); err != nil {
		return fail(e, c, err)
	}
	srv, err := emulator.Listen("127.0.0.1:0", emulator.Options{})
	if err != nil {
		return fail(e, c, err)
	}
	defer srv.Close()
	// A shorter token than the service's keeps the demo link within 80
	// columns, so it can be copied from the screen whole.
	inv, err := srv.Emulator.CreateInvitation(emulator.InvitationSpec{Groups: []string{emulator.GroupKiosks}, Token: demoToken()})
	if err != nil {
		return fail(e, c, err)
	}
	dir, err := os.MkdirTemp("", "enroll-demo-")
	if err != nil {
		return fail(e, c, fmt.Errorf("%w: %w", flow.ErrStoreUnavailable, err))
	}
	defer os.RemoveAll(dir)
	c.credentials = filepath.Join(dir, "enroll", "credentials.json")
	c.server = ""

	say := func(format string, args ...any) {
		if !c.json {
			fmt.Fprintf(e.stdout, format+"\n", args...)
		}
	}
	d, err := c.driver(e)
	if err != nil {
		return fail(e, c, err)
	}
	host, _ := e.hostname()
	if e.tty && !c.json {
		fmt.Fprintf(e.stdout, "enroll demo: the built-in emulator of the 10Duke service runs at %s\nand has sent this device an invitation:\n\n  %s\n\n", srv.URL, inv.Link)
		if err := interactive(ctx, e, c, d, flow.Config{Hostname: host}, withDemo(ses, inv.Link)); err != nil {
			return fail(e, c, err)
		}
		fmt.Fprintln(e.stdout, "\nThe demo's credentials file was temporary and is removed now that the demo ends.")
		return nil
	}
	say("enroll demo: a built-in emulator of the 10Duke service is running at %s.", srv.URL)
	say("An administrator has sent this device an invitation:\n\n  %s\n", inv.Link)
	say("Accepting it as a script would: enroll accept --token-file FILE\n")

	seen := map[flow.State]bool{}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	m, err := flow.Run(ctx, d, flow.Config{Hostname: host}, flow.Script{Invitation: inv.Link, Name: flow.DefaultName(host), TrustLinkServer: true},
		func(m flow.Machine) {
			if line := progressLine(m.State); line != "" && !seen[m.State] {
				say("  … %s", line)
			}
			seen[m.State] = true
		})
	if err != nil {
		return reportFailure(e, c, m, d.Store.JournalPath(), err)
	}
	say("")
	if err := reportDone(e, c, m, d.Store.Path()); err != nil {
		return fail(e, c, err)
	}
	say("\nThe credentials file above is temporary and is removed now that the demo ends.")
	say("Next: `enroll emulator --invite` serves the emulator for your own scripts; see the README.")
	return nil
}

func demoToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

func withDemo(ses session, link string) session {
	ses.DemoLink = link
	return ses
}
