package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"enroll/desktop"
	"enroll/flow"
	"enroll/persist"
)

// cmdOpen is the handler the desktop runs for a NAME://accept?token=… link:
// the wizard, with the invitation filled in.
func cmdOpen(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "open", "LINK [flags]", "  enroll open --server https://idp.acme.example 'acme-devices://accept?token=…'", useService|useScreen)
	wait := fs.Bool("wait", false, "at the end, wait for Enter, so that a terminal window opened for the link stays until read")
	kiosk := fs.Bool("kiosk", envErr.bool(e, "kiosk", "ENROLL_KIOSK"), "kiosk mode, as for the wizard (ENROLL_KIOSK)")
	c.readerGroupFlag(fs, e)
	c.sealFlag(fs, e, envErr)
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
	if _, err := desktop.ValidScheme(scheme); err != nil || !isLink || inv.Source != flow.SourceScheme || strings.ContainsAny(link, " \t\r\n") {
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
	if server == "" && !anyStored(c.store(e)) {
		// The wizard would say "a token alone names no server" and
		// ask again for ever: the link cannot do better.
		return fmt.Errorf("%w: an app link names no server and this device has none stored: pass --server URL or set ENROLL_SERVER (a vendor installs the handler with `enroll scheme install --server URL`)", flow.ErrUsage)
	}
	host, _ := e.hostname()
	ses.Invitation = link
	return interactive(ctx, e, c, d, flow.Config{Server: server, Hostname: host}, ses)
}

// anyStored reports whether stored credentials or a journal exist, whose
// server the wizard then uses.
func anyStored(st *persist.Store) bool {
	creds, journal := st.Present()
	return creds || journal
}

// handOver reads in on one goroutine and passes it on through a pipe,
// until waitForEnter closes that pipe: from then on the bytes go to the
// returned channel instead, so a reader still blocked on the pipe gets an
// error rather than the person's Enter. The channel closes at the end of in.
// Input typed ahead that the wizard left unread counts as that Enter too.
func handOver(in io.Reader) *handedOver {
	pr, pw := io.Pipe()
	back := make(chan []byte, 1)
	go func() {
		defer close(back)
		buf := make([]byte, 4096)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				chunk := append([]byte(nil), buf[:n]...)
				if w, werr := pw.Write(chunk); werr != nil {
					back <- chunk[w:]
				}
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return &handedOver{pr, back}
}

type handedOver struct {
	*io.PipeReader
	back chan []byte
}

// waitForEnter asks for Enter and waits for it, the end of the input, or
// the window being closed (SIGHUP cancels ctx).
func waitForEnter(ctx context.Context, e env) {
	fmt.Fprint(e.stderr, "Press Enter to close this window.")
	var back <-chan []byte
	if h, ok := e.stdin.(*handedOver); ok {
		h.PipeReader.Close()
		back = h.back
	} else {
		ch := make(chan []byte, 1)
		go func() {
			defer close(ch)
			buf := make([]byte, 256)
			for {
				n, err := e.stdin.Read(buf)
				if n > 0 {
					ch <- append([]byte(nil), buf[:n]...)
				}
				if err != nil {
					return
				}
			}
		}()
		back = ch
	}
	for {
		select {
		case b, ok := <-back:
			if !ok || strings.Contains(string(b), "\n") || strings.Contains(string(b), "\r") {
				fmt.Fprintln(e.stderr)
				return
			}
		case <-ctx.Done():
			return
		}
	}
}
