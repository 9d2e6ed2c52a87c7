package main

import (
	"os"
	"syscall"
	"testing"

	"enroll/api"
	"enroll/api/emulator"
)

// Rows about signals: Ctrl-C (SIGINT) and SIGTERM before, during and after
// the accept call of `enroll accept`, and the wizard's terminal going away
// (SIGHUP, an SSH session that drops) or Ctrl-C pressed in it. Each signal
// is sent once the process reported the point it is at, and the work it
// interrupts waits for the process to report the signal received: no
// sleeps, no races.

func signalRows() []faultRow {
	var rows []faultRow
	for _, s := range []struct {
		name string
		sig  os.Signal
	}{{"Ctrl-C (SIGINT)", os.Interrupt}, {"SIGTERM", syscall.SIGTERM}} {
		rows = append(rows,
			faultRow{s.name + " before the accept call (while the store is prepared)", "exit 130 \"Interrupted… Nothing was sent\"; invitation unused, no file",
				func(t *testing.T, x *fx) {
					inv := x.svc.invite(emulator.InvitationSpec{})
					c := x.start(childOpts{gate: "probe:signal", stdin: inv.Link}, "accept", "--token-file", "-", "--verbose")
					c.waitMark("gate probe")
					c.signal(s.sig)
					x.exit(c.wait(), 130, `Interrupted\.`, `Nothing was sent after the interruption`)
					x.calls(emulator.OpAccept, 0)
					x.state(inv, emulator.StateOpen)
					x.noCreds()
				}},
			faultRow{s.name + " during the accept call", "the call and the commit finish first: exit 0 with the complete file, invitation accepted",
				func(t *testing.T, x *fx) {
					inv := x.svc.invite(emulator.InvitationSpec{})
					h := x.svc.holdNext(api.PathAccept)
					c := x.start(childOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--verbose")
					h.wait(t)
					c.signal(s.sig)
					c.waitMark("signal")
					close(h.release)
					x.exit(c.wait(), 0, `Enrolled`)
					x.state(inv, emulator.StateAccepted)
					x.credsIssued()
					x.absent(x.creds + ".pending")
				}},
			faultRow{s.name + " after the answer, during the commit", "the commit finishes: exit 0 with the complete file, no journal left",
				func(t *testing.T, x *fx) {
					inv := x.svc.invite(emulator.InvitationSpec{})
					c := x.start(childOpts{gate: "commit:signal", stdin: inv.Link}, "accept", "--token-file", "-", "--verbose")
					c.waitMark("gate commit")
					c.signal(s.sig)
					x.exit(c.wait(), 0, `Enrolled`)
					x.state(inv, emulator.StateAccepted)
					x.credsIssued()
					x.absent(x.creds + ".pending")
				}},
		)
	}
	// wizardTo drives the wizard in a terminal to the review screen.
	wizardTo := func(x *fx, c *child, link string) {
		p := c.pty
		p.waitFor("step 1 of 4", "enter continue")
		p.send("\r")
		p.waitFor("step 2 of 4")
		p.send("\x1b[200~" + link + "\x1b[201~")
		p.send("\r")
		p.waitFor("step 3 of 4")
		p.send("\r")
		p.waitFor("step 4 of 4", "a accept")
	}
	rows = append(rows,
		faultRow{"Ctrl-C (SIGINT) to the line-by-line runner (--plain) while the store is prepared", "exit 130; the accept call is never made, invitation unused, no file",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				c := x.start(childOpts{gate: "probe:signal", stdin: inv.Link + "\n\na\n"}, "--plain", "--server", x.svc.URL)
				c.waitMark("gate probe")
				c.signal(os.Interrupt)
				x.exit(c.wait(), 130, `Interrupted`)
				x.calls(emulator.OpAccept, 0)
				x.state(inv, emulator.StateOpen)
				x.noCreds()
			}},
		faultRow{"SIGHUP: the SSH session drops on the wizard's review screen", "exit 130, \"Interrupted… Nothing was sent\" on stderr; invitation unused, no file",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				c := x.startWizard(childOpts{}, "--server", x.svc.URL)
				wizardTo(x, c, inv.Link)
				c.pty.f.Close() // the terminal goes away: the kernel sends SIGHUP
				c.waitMark("signal")
				x.exit(c.wait(), 130, `Interrupted\.`, `Nothing was sent`)
				x.calls(emulator.OpAccept, 0)
				x.state(inv, emulator.StateOpen)
				x.noCreds()
			}},
		faultRow{"SIGTERM to the wizard while the store is prepared", "exit 130, \"Nothing was sent\"; the accept call is never made, no file",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				c := x.startWizard(childOpts{gate: "probe:signal"}, "--server", x.svc.URL)
				wizardTo(x, c, inv.Link)
				c.pty.decide("a")
				c.waitMark("gate probe")
				c.signal(syscall.SIGTERM)
				x.exit(c.wait(), 130, `Interrupted\.`, `Nothing was sent`)
				x.calls(emulator.OpAccept, 0)
				x.state(inv, emulator.StateOpen)
				x.noCreds()
			}},
		faultRow{"SIGHUP: the SSH session drops while the wizard's accept call is in flight", "the call and the commit finish with nobody watching: the complete file, invitation accepted",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				h := x.svc.holdNext(api.PathAccept)
				c := x.startWizard(childOpts{}, "--server", x.svc.URL)
				wizardTo(x, c, inv.Link)
				c.pty.decide("a")
				h.wait(t)
				c.pty.f.Close()
				c.waitMark("signal")
				close(h.release)
				x.exit(c.wait(), 0)
				x.state(inv, emulator.StateAccepted)
				x.credsIssued()
				x.absent(x.creds + ".pending")
			}},
		faultRow{"Ctrl-C pressed in the wizard while the accept call is in flight", "the commit finishes, then the wizard quits: exit 0 with the complete file",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				h := x.svc.holdNext(api.PathAccept)
				c := x.startWizard(childOpts{}, "--server", x.svc.URL)
				wizardTo(x, c, inv.Link)
				c.pty.decide("a")
				h.wait(t)
				c.pty.send("\x03")
				close(h.release)
				r := c.wait()
				x.exit(r, 0, `Enrolled`, `secret +stored, not shown`)
				x.state(inv, emulator.StateAccepted)
				x.credsIssued()
			}},
	)
	return rows
}
