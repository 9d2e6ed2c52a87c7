package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"enroll/flow"
	"enroll/qr"
)

func cmdStatus(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "status", "[--verify] [flags]", "  enroll status --verify --json", useService|useNoColor)
	verify := fs.Bool("verify", false, "also get an access token, proving the service accepts the stored credentials")
	showQR := fs.Bool("qr", false, "also show the device client's id as a QR code, for asset records (--qr-format picks how)")
	qrFormat := fs.String("qr-format", envOr(e, "ENROLL_QR_FORMAT", "auto"), qr.FormatNames()+" (ENROLL_QR_FORMAT)")
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
		// Escape sequences go to a terminal only: not to a pipe or a
		// file, not under TERM=dumb. NO_COLOR and --no-color keep the
		// code's black and white: a code is a picture, not decoration,
		// and without its colours it reads inverted on a light theme
		// (README, "QR codes and NO_COLOR").
		_, _, stdoutTTY := termSizeOf(e)
		render := qr.Render
		if !stdoutTTY || e.getenv("TERM") == "dumb" {
			render = qr.RenderPlain
		}
		code, err = render(snap.Existing.ID, format, width, height, asciiOnly(e))
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

// termSizeOf is stdout's terminal size; ok is false when it is not one.
func termSizeOf(e env) (int, int, bool) {
	if e.termSize == nil {
		return 0, 0, false
	}
	return e.termSize()
}
