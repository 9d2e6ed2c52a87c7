package main

import (
	"context"
	"fmt"
	"net"

	"enroll/api/emulator"
	"enroll/flow"
)

func cmdEmulator(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "emulator", "[--listen ADDR] [--invite] [flags]",
		"  enroll emulator --listen 127.0.0.1:0 --invite --json", useJSON)
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
	if flow.IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w: --listen %s: the emulator serves loopback addresses only", flow.ErrUsage, flow.Sanitize(addr))
}
