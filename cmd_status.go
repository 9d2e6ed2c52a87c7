package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"enroll/flow"
	"enroll/persist"
	"enroll/qr"
)

func cmdStatus(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "status", "[--verify] [flags]", "  enroll status --verify --json")
	verify := fs.Bool("verify", false, "also get an access token, proving the service accepts the stored credentials")
	showQR := fs.Bool("qr", false, "also show the device client's id as a QR code, for asset records (--qr-format picks how)")
	qrFormat := fs.String("qr-format", envOr(e, "ENROLL_QR_FORMAT", "auto"), "auto, small, large or ascii (ENROLL_QR_FORMAT)")
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	c.readOnly = true // status reports; it never changes a mode, an owner or a name
	st := c.store(e)
	snap, err := st.Load(ctx)
	if err != nil {
		return fail(e, c, err)
	}
	for _, w := range snap.Warnings {
		fmt.Fprintf(e.stderr, "enroll: warning: %s\n", flow.Sanitize(w))
	}
	pending := ""
	if snap.Pending != nil {
		pending = st.JournalPath()
		fmt.Fprintf(e.stderr, "enroll: an interrupted enrollment is waiting in %s; run `enroll accept` to complete it\n", flow.Sanitize(pending))
	}
	if snap.Existing == nil {
		if c.json {
			writeJSON(e.stdout, result{Status: "not-enrolled", Credentials: st.Path(), Pending: pending, Warnings: snap.Warnings})
		} else {
			fmt.Fprintf(e.stdout, "This device is not enrolled (no credentials in %s).\n", flow.Sanitize(st.Path()))
		}
		return errReported{flow.ErrNotEnrolled}
	}
	if err := c.sameServer(snap.Existing); err != nil {
		return fail(e, c, err)
	}
	r := credentialsResult("enrolled", snap.Existing, st.Path())
	r.Pending, r.Warnings = pending, snap.Warnings
	if *verify {
		svc, err := c.client(e)
		if err != nil {
			return fail(e, c, err)
		}
		if _, err := svc.Authenticate(ctx, snap.Existing.Server, *snap.Existing); err != nil {
			return fail(e, c, err)
		}
		ok := true
		r.Verified = &ok
	}
	var code qr.Code
	qrNote := ""
	if *showQR {
		format, err := qr.ParseFormat(*qrFormat)
		if err != nil {
			return fail(e, c, fmt.Errorf("%w: --qr-format: %w", flow.ErrUsage, err))
		}
		if c.json {
			format = qr.FormatASCII // JSON carries text, not terminal colours
		}
		// On a terminal the code must fit the window whole to be scanned:
		// a wrapped row breaks it, so auto picks a layout that fits.
		const reserve = 1 // the shell's prompt after it
		width, height := 0, 0
		if e.termSize != nil && !c.json {
			if w, h, ok := e.termSize(); ok {
				width, height = w, max(h-reserve, 1) // 0 would mean no limit
			}
		}
		code, err = qr.Render(snap.Existing.ID, format, width, height, asciiOnly(e))
		var small *qr.TooSmallError
		switch {
		case errors.As(err, &small):
			x := "×"
			if asciiOnly(e) {
				x = "x"
			}
			qrNote = fmt.Sprintf("The window is too small for the id as a QR code (it needs %d%s%d): make it larger and run this again.",
				small.NeedWidth, x, small.NeedHeight+reserve)
		case err != nil:
			return fail(e, c, err)
		}
		r.IDQR = code.Text
	}
	if c.json {
		writeJSON(e.stdout, r)
		return nil
	}
	var b strings.Builder // one write, as reportDone
	fmt.Fprintln(&b, "This device is a device client.")
	printCredentials(&b, snap.Existing, st.Path())
	if *verify {
		fmt.Fprintln(&b, "  verified     the service issued an access token")
	}
	switch {
	case qrNote != "":
		fmt.Fprintf(&b, "\n%s\n", qrNote)
	case *showQR:
		fmt.Fprintf(&b, "\nDevice client id as a QR code:\n%s\n", code.Text)
	}
	_, _ = io.WriteString(e.stdout, b.String())
	return nil
}

func cmdToken(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "token", "[flags]", "  curl -H \"Authorization: Bearer $(enroll token)\" https://…")
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

func cmdForget(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "forget", "[--yes] [flags]", "  enroll forget --yes --credentials /var/lib/enroll/credentials.json")
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

// version is set by the linker for releases: -ldflags "-X main.version=v1.2.3".
var version = ""

func cmdVersion(_ context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "version", "", "  enroll version")
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(e.stdout, "enroll %s\n", v)
	return nil
}

// storedCredentials reports whether the credentials file exists.
func storedCredentials(st *persist.Store) bool {
	creds, _ := st.Present()
	return creds
}
