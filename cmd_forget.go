package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"enroll/flow"
	"enroll/persist"
)

func cmdForget(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "forget", "[--yes] [flags]", "  enroll forget --yes --credentials /var/lib/enroll/credentials.json", useCredentials|useJSON)
	yes := fs.Bool("yes", false, "do not ask first (asked only on a terminal)")
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	st := c.store(e)
	// With nothing stored there is nothing to ask about: Forget says so.
	if e.stdinTTY && !*yes && !c.json && storedCredentials(st) {
		// A person at a terminal is asked: the secret cannot be had again,
		// only a new enrollment replaces it. Scripts are not asked.
		fmt.Fprintf(e.stderr, "Delete the credentials in %s? This device then needs a new invitation to be a device client again. [y/N]: ", flow.Sanitize(st.Path()))
		answer, _ := bufio.NewReader(io.LimitReader(e.stdin, 256)).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(e.stderr, "Nothing was deleted.")
			return errReported{flow.ErrInterrupted}
		}
	}
	if err := st.Forget(); err != nil {
		return fail(e, c, err)
	}
	if c.json {
		writeJSON(e.stdout, result{Status: "forgotten", Credentials: st.Path()})
		return nil
	}
	fmt.Fprintf(e.stdout, "Deleted %s. The device client still exists on the service; an administrator can remove it there.\n", flow.Sanitize(st.Path()))
	return nil
}

// storedCredentials reports whether the credentials file exists.
func storedCredentials(st *persist.Store) bool {
	creds, _ := st.Present()
	return creds
}
