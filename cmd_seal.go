package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"enroll/flow"
)

const sealExample = `  enroll seal
  ENROLL_TPM=swtpm:/run/swtpm/tpm.sock enroll seal --json`

// cmdSeal seals the secret of an enrolled device's plain file to its TPM,
// in place: the store's one atomic, durable replace, so that a crash
// leaves the plain file or the sealed one, never neither. The TPM is
// proven (a data key sealed and unsealed) before the file is touched, and
// the sealed file is read back through the TPM before it is reported.
func cmdSeal(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "seal", "[flags]", sealExample, useCredentials|useJSON|useVerbose)
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	c.sealOffered, c.seal = true, sealTPM
	st := c.store(e)
	snap, err := st.Load(ctx)
	if err != nil {
		return fail(e, c, err)
	}
	for _, w := range snap.Warnings {
		fmt.Fprintf(e.stderr, "enroll: warning: %s\n", flow.Sanitize(w))
	}
	switch {
	case snap.Pending != nil:
		return fail(e, c, fmt.Errorf("%w: %s holds an answer that was never committed; run enroll accept to finish it (sealed), then seal", flow.ErrPending, st.JournalPath()))
	case snap.Existing == nil:
		return fail(e, c, fmt.Errorf("%w: there are no credentials in %s to seal", flow.ErrNotEnrolled, st.Path()))
	case snap.Existing.Sealed:
		return reportSealed(e, c, snap.Existing, st.Path(), "already-sealed")
	}
	c.logf(e.stderr, "proving the TPM at %s (a data key sealed and unsealed)…", c.tpm(e).Device())
	if err := st.Prepare(ctx); err != nil {
		return fail(e, c, err)
	}
	c.logf(e.stderr, "replacing %s with its sealed form…", st.Path())
	err = st.Save(*snap.Existing)
	if rerr := st.Release(); err == nil && rerr != nil {
		c.logf(e.stderr, "releasing the lock: %v", rerr)
	}
	if err != nil {
		// Save replaces atomically: the plain file is still there.
		return fail(e, c, fmt.Errorf("%w; %s is unchanged, still unsealed", err, st.Path()))
	}
	// Read back by a new store, as the next command would: through the TPM.
	c.readOnly = true
	back, err := c.store(e).Load(ctx)
	if err == nil && (back.Existing == nil || back.Existing.ClientSecret != snap.Existing.ClientSecret || !back.Existing.Sealed) {
		err = errors.New("the sealed file does not read back as the credentials it replaced")
	}
	if err != nil {
		return fail(e, c, fmt.Errorf("sealed %s, but reading it back failed: %w", st.Path(), err))
	}
	return reportSealed(e, c, back.Existing, st.Path(), "sealed")
}

func reportSealed(e env, c *common, creds *flow.Credentials, path, status string) error {
	if c.json {
		writeJSON(e.stdout, credentialsResult(status, creds, path))
		return nil
	}
	var b strings.Builder
	if status == "sealed" {
		fmt.Fprintln(&b, "Sealed: the client secret is now sealed to this device's TPM.")
	} else {
		fmt.Fprintln(&b, "The client secret is sealed to this device's TPM already; nothing changed.")
	}
	printCredentials(&b, creds, path)
	fmt.Fprintln(&b, "The licensed application gets access tokens with `enroll token` (or `enroll token --json`).")
	_, _ = fmt.Fprint(e.stdout, b.String())
	return nil
}
