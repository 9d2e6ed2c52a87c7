package main

import (
	"path/filepath"
	"testing"
	"time"

	"enroll/api/emulator"
)

// Rows about the accept call's answer when it is a refusal or a failure.
// Where the emulator can reach the state for real (used, revoked,
// expired, unknown, not for this device) it does; statuses it never sends
// on its own come from its fault queue.

func acceptRows() []faultRow {
	open := emulator.StateOpen
	// refused runs accept for inv and checks what every refusal shares:
	// exit 3, a new invitation is the way on, no credentials file.
	refused := func(x *fx, inv emulator.Invitation, patterns ...string) res {
		r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--json")
		x.exit(r, 3, patterns...)
		if j := x.jsonOut(r); j.Error == nil || j.Error.Exit != 3 {
			x.t.Errorf("--json: %+v", j)
		}
		x.noCreds()
		return r
	}
	fault := func(status int, body string) func(*fx) emulator.Invitation {
		return func(x *fx) emulator.Invitation {
			inv := x.svc.invite(emulator.InvitationSpec{})
			x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: status, Body: body})
			return inv
		}
	}
	return []faultRow{
		{"accept answered 400 (malformed token)", "exit 3 \"the service does not know this invitation\" with the server's reason and \"check that the whole link or token was copied\"; invitation open",
			func(t *testing.T, x *fx) {
				inv := fault(400, `{"error":"invalid_request","error_description":"The invitation token is malformed."}`)(x)
				refused(x, inv, `does not know this invitation`, `The invitation token is malformed\.`, `whole link or token was copied`)
				x.state(inv, open)
			}},
		{"accept answered 404 (unknown invitation)", "exit 3 \"does not know this invitation\", \"No invitation has this token\"; nothing created",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				unknown := inv
				unknown.Link = x.svc.URL + "/invitation?token=unknownTokenABCDEFGHIJKLMNOP"
				x.also("unknownTokenABCDEFGHIJKLMNOP")
				refused(x, unknown, `does not know this invitation`, `No invitation has this token`, `invitation_not_found`)
				x.state(inv, open)
				if n := len(x.svc.emu.Clients()); n != 0 {
					t.Errorf("%d clients", n)
				}
			}},
		{"accept answered 409 (already used by another device)", "exit 3 \"already been used\", \"ask for a new invitation\"; the other device's enrollment stands",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				other := filepath.Join(x.dir, "other", "credentials.json")
				x.exit(x.runIn(runOpts{stdin: inv.Link, vars: map[string]string{"ENROLL_CREDENTIALS": other}}, "accept", "--token-file", "-"), 0)
				refused(x, inv, `already been used`, `has already been accepted`, `Ask the administrator for a new invitation`)
				x.state(inv, emulator.StateAccepted)
			}},
		{"accept answered 410 (revoked)", "exit 3 \"expired or was revoked\", \"ask for a new invitation\"; invitation stays revoked",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				if err := x.svc.emu.Revoke(inv.Token); err != nil {
					t.Fatal(err)
				}
				refused(x, inv, `expired or was revoked`, `has been revoked`, `new invitation`)
				x.state(inv, emulator.StateRevoked)
			}},
		{"accept answered 410 (expired)", "exit 3 \"expired or was revoked\"; invitation unused",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{ValidUntil: time.Now().Add(-time.Minute)})
				refused(x, inv, `expired or was revoked`, `has expired`, `new invitation`)
				x.state(inv, open)
			}},
		{"accept answered 422 (only for already registered devices)", "exit 3 \"not for this device\", \"limited to already registered devices\"; invitation open",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{ExistingClientsOnly: true})
				refused(x, inv, `not for this device`, `already registered`, `ask the administrator for one meant for this device`)
				x.state(inv, open)
			}},
		{"accept answered 422 (meant for another device client)", "exit 3 \"not for this device\", \"The invitation is for another device\"; invitation open, old file unchanged",
			func(t *testing.T, x *fx) {
				old := x.enroll()
				inv := x.svc.invite(emulator.InvitationSpec{OnlyClientID: "someone-else"})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 3, `not for this device`, `The invitation is for another device`)
				x.state(inv, open)
				x.credsEqual(old)
			}},
		{"accept answered 403 (forbidden)", "exit 3 \"not for this device\" with the server's reason; invitation open",
			func(t *testing.T, x *fx) {
				inv := fault(403, `{"code":"forbidden","message":"Devices of this model may not join."}`)(x)
				refused(x, inv, `not for this device`, `Devices of this model may not join\. \(forbidden\)`)
				x.state(inv, open)
			}},
		{"accept answered 500 with escape sequences and the token echoed in the body", "exit 5 \"safe to try again\", the server's text escaped and the token [redacted]; the retry enrolls",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: 500,
					Body: `{"code":"internal","message":"db \u001b[2J\u001b]0;owned\u0007 down for ` + inv.Token + `\u202e"}`})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 5, `The service had a problem`, `db \\x1b\[2J\\x1b\]0;owned\\x07 down for \[redacted\]\\u202e`, `safe to try again`)
				x.state(inv, open)
				x.noCreds()
				x.exit(x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-"), 0, `Enrolled`)
				x.state(inv, emulator.StateAccepted)
				x.credsIssued()
			}},
		{"accept answered 502 by a gateway", "exit 7 outcome unknown (the gateway may have forwarded it), `enroll status` named; no file",
			func(t *testing.T, x *fx) {
				inv := fault(502, "<html>Bad Gateway</html>")(x)
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 7, `not known whether it took effect`, `502 Bad Gateway`, `enroll status`)
				x.noCreds()
				x.state(inv, open)
			}},
		{"accept answered 429 with Retry-After: 86400", "exit 5 \"asks to wait 1 day\", never retried by itself; invitation open",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: 429, RetryAfter: "86400", Body: `{"error":"slow_down"}`})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 5, `asked enroll to slow down`, `the service asks to wait 1 day`, `try again after the wait the service asks for`)
				x.calls(emulator.OpAccept, 1)
				x.state(inv, open)
				x.noCreds()
			}},
		{"accept committed, then the connection dropped before the answer", "exit 7 outcome unknown with the recovery steps, no blind retry; the invitation is in fact used, no file; `enroll status` then says not enrolled",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{DropAfterCommit: true})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--json")
				x.exit(r, 7, `not known whether it took effect`, `"kind": "outcome-unknown"`, `run .enroll status.; if this device is not enrolled, ask the administrator`)
				x.calls(emulator.OpAccept, 1)
				x.state(inv, emulator.StateAccepted)
				x.noCreds()
				x.exit(x.run("status"), 4, `not enrolled`)
			}},
	}
}
