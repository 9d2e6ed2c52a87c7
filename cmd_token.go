package main

import (
	"context"
	"fmt"

	"enroll/flow"
)

func cmdToken(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "token", "[flags]", "  curl -H \"Authorization: Bearer $(enroll token)\" https://…", useService)
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	c.readOnly = true // a licensed application's way to a token: it changes nothing
	snap, err := c.store(e).Load(ctx)
	if err != nil {
		return fail(e, c, err)
	}
	if snap.Existing == nil {
		return reportFailure(e, c, flow.Machine{}, "", flow.ErrNotEnrolled)
	}
	if err := c.sameServer(snap.Existing); err != nil {
		return fail(e, c, err)
	}
	svc, err := c.client(e)
	if err != nil {
		return fail(e, c, err)
	}
	token, err := svc.Authenticate(ctx, snap.Existing.Server, *snap.Existing)
	if err != nil {
		return fail(e, c, err)
	}
	if c.json {
		writeJSON(e.stdout, map[string]string{"accessToken": token, "tokenType": "Bearer"})
		return nil
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}
