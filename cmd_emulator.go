package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"enroll/api/emulator"
	"enroll/flow"
)

func cmdEmulator(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "emulator", "[--listen ADDR] [--invite] [flags]",
		"  enroll emulator --listen 127.0.0.1:0 --invite --json")
	listen := fs.String("listen", "127.0.0.1:0", "loopback `ADDR`ess to serve on (port 0 picks a free one)")
	invite := fs.Bool("invite", false, "also create an invitation and print its link")
	adminToken := fs.String("admin-token", e.getenv("ENROLL_EMULATOR_ADMIN_TOKEN"), "admin bearer token for the send and control endpoints (ENROLL_EMULATOR_ADMIN_TOKEN; default random)")
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	if err := loopbackOnly(*listen); err != nil {
		return fail(e, c, err)
	}
	srv, err := emulator.Listen(*listen, emulator.Options{AdminToken: *adminToken})
	if err != nil {
		return fail(e, c, fmt.Errorf("%w: cannot listen on %s: %w", flow.ErrUsage, flow.Sanitize(*listen), err))
	}
	defer srv.Close()
	out := map[string]string{"url": srv.URL, "adminToken": srv.Emulator.AdminToken()}
	if *invite {
		inv, err := srv.Emulator.CreateInvitation(emulator.InvitationSpec{Groups: []string{emulator.GroupKiosks}})
		if err != nil {
			return fail(e, c, err)
		}
		out["invitationLink"] = inv.Link
	}
	if c.json {
		writeJSON(e.stdout, out)
	} else {
		fmt.Fprintf(e.stdout, "serving     %s\nadmin token %s\n", out["url"], out["adminToken"])
		if link, ok := out["invitationLink"]; ok {
			fmt.Fprintf(e.stdout, "invitation  %s\n", link)
		}
		fmt.Fprintln(e.stderr, "enroll: emulator running; Ctrl-C stops it")
	}
	<-ctx.Done()
	return nil
}

// loopbackOnly refuses to serve the emulator beyond this machine: it speaks
// plain http and hands out credentials to anyone.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: --listen %s: %w", flow.ErrUsage, flow.Sanitize(addr), err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: --listen %s: the emulator serves loopback addresses only", flow.ErrUsage, flow.Sanitize(addr))
}

func cmdDemo(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "demo", "[flags]", "  go run . demo")
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
