package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"enroll/flow"
	"enroll/qr"
	"enroll/qr/handoff"
	"enroll/tui"
)

// screenFlags are the flags of the commands that open the wizard.
type screenFlags struct {
	handoffListen string
	qrFormat      string
}

func addScreenFlags(fs *flag.FlagSet, e env) *screenFlags {
	f := &screenFlags{}
	fs.StringVar(&f.handoffListen, "handoff-listen", e.getenv("ENROLL_HANDOFF_LISTEN"),
		"`IP[:PORT]` of the phone hand-off page (ENROLL_HANDOFF_LISTEN; default: this device's address on the default route)")
	fs.StringVar(&f.qrFormat, "qr-format", envOr(e, "ENROLL_QR_FORMAT", "auto"),
		"how QR codes are drawn: "+qr.FormatNames()+" (ENROLL_QR_FORMAT)")
	return f
}

// apply checks the values and puts them into the session.
func (f *screenFlags) apply(ses *session) error {
	format, err := qr.ParseFormat(f.qrFormat)
	if err != nil {
		return fmt.Errorf("%w: --qr-format: %w", flow.ErrUsage, err)
	}
	ses.QRFormat, ses.HandoffListen = format, f.handoffListen
	return nil
}

// startPhone starts one hand-off page. Nothing listens on the network until
// the person asks for it on the invitation screen.
func startPhone(listen string) func() (tui.Phone, error) {
	return func() (tui.Phone, error) {
		s, err := handoff.Start(handoff.Options{Listen: listen})
		if err != nil {
			return nil, forPerson(err)
		}
		return phoneSession{s}, nil
	}
}

// phoneSession adapts the hand-off server to what the wizard needs.
type phoneSession struct{ s *handoff.Server }

func (p phoneSession) URL() string          { return p.s.URL() }
func (p phoneSession) ExpiresAt() time.Time { return p.s.ExpiresAt() }
func (p phoneSession) Close() error         { return p.s.Close() }

func (p phoneSession) Wait() tui.PhoneResult { return phoneResult(<-p.s.Done()) }

// phoneResult passes on what the phone sent, but not text holding a control
// or invisible character (line breaks aside): the wizard would put it into
// its invitation field, which draws its value as it is, so a bidi override
// would reorder the link on screen. Typed and pasted text is refused the
// same way.
func phoneResult(r handoff.Result) tui.PhoneResult {
	if r.Err != nil {
		return tui.PhoneResult{Err: forPerson(r.Err)}
	}
	if c, bad := flow.Invisible(r.Received.Text); bad {
		return tui.PhoneResult{Err: fmt.Errorf("the phone sent text with an invisible character %s, so it was not used; copy the link again, from plain text", flow.Sanitize(string(c)))}
	}
	return tui.PhoneResult{Text: r.Received.Text, From: r.Received.From, Code: r.Received.Code}
}

// forPerson is a hand-off error as the wizard shows it: without the
// package's "handoff: " prefix, which says where in enroll it came from,
// not what happened. The error itself stays in the chain.
func forPerson(err error) error {
	return personError{err: err, msg: strings.TrimPrefix(err.Error(), "handoff: ")}
}

type personError struct {
	err error
	msg string
}

func (e personError) Error() string { return e.msg }
func (e personError) Unwrap() error { return e.err }

func envOr(e env, key, fallback string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return fallback
}
