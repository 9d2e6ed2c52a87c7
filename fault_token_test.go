package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"enroll/api"
	"enroll/api/emulator"
)

// Rows about an enrolled device's own credentials: the token endpoint and
// its discovery, which an existing device needs before it may accept.

func tokenRows() []faultRow {
	open := emulator.StateOpen
	// second enrolls the device, then fails the token endpoint as failNext
	// says and accepts a second invitation as the existing device.
	second := func(x *fx, failNext func(e *emulator.Emulator), o runOpts) ([]byte, emulator.Invitation, res) {
		old := x.enroll()
		inv := x.svc.invite(emulator.InvitationSpec{})
		failNext(x.svc.emu)
		o.stdin = inv.Link
		return old, inv, x.runIn(o, "accept", "--token-file", "-")
	}
	repeat := func(n int, f emulator.Fault) func(*emulator.Emulator) {
		return func(e *emulator.Emulator) {
			for range n {
				e.FailNext(emulator.OpToken, f)
			}
		}
	}
	return []faultRow{
		{"token endpoint answers 500, again and again", "exit 5 after 4 attempts with jittered backoff, \"gave up\"; old file unchanged, invitation open, accept never sent",
			func(t *testing.T, x *fx) {
				// x/oauth2 may spend two requests on the first attempt
				// while it learns the client authentication style.
				old, inv, r := second(x, repeat(8, emulator.Fault{Status: 500, Body: `{"error":"server_error","error_description":"database down"}`}), runOpts{})
				x.exit(r, 5, `The service had a problem`, `database down`, `gave up after 4 attempts`, `attempt 3 of 4 failed`, `safe to try again`)
				x.credsEqual(old)
				x.state(inv, open)
				x.calls(emulator.OpAccept, 1)
			}},
		{"token endpoint answers 503 with Retry-After: 1", "waits the 1 s asked each time, exit 5 after 4 attempts; nothing changed",
			func(t *testing.T, x *fx) {
				old, inv, r := second(x, repeat(8, emulator.Fault{Status: 503, RetryAfter: "1", Body: `{"error":"temporarily_unavailable"}`}), runOpts{})
				x.exit(r, 5, `temporarily_unavailable`, `retrying in 1s`, `gave up after 4 attempts`)
				x.credsEqual(old)
				x.state(inv, open)
				x.calls(emulator.OpAccept, 1)
			}},
		{"token endpoint refuses the stored credentials (401 invalid_client)", "exit 4 \"must be re-provisioned: run enroll forget\", no retry; the file (wrong secret and all) untouched, invitation open",
			func(t *testing.T, x *fx) {
				x.enroll()
				// The service no longer knows this secret (rotated, or the
				// client deleted): the file is otherwise intact.
				wrong := bytes.Replace(x.file(), []byte(x.svc.emu.Clients()[0].ClientSecret), []byte("rotated-away-secret-0042"), 1)
				if err := os.WriteFile(x.creds, wrong, 0o600); err != nil {
					t.Fatal(err)
				}
				x.also("rotated-away-secret-0042")
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 4, `refused this device's stored credentials`, `invalid_client`, `re-provisioned: run .enroll forget.`)
				x.lacks(r, `retrying`)
				if n := x.svc.emu.Calls(emulator.OpToken); n > 2 { // one attempt: Basic, then form fields
					t.Errorf("%d token requests: retried", n)
				}
				x.credsEqual(wrong)
				x.state(inv, open)
				x.calls(emulator.OpAccept, 1)
			}},
		{"token endpoint answers 429 with Retry-After: 20, then Ctrl-C", "the wait is honoured and reported (\"asks to wait 20 seconds\"); the interrupted wait exits 130, nothing changed",
			func(t *testing.T, x *fx) {
				watch := newWatch("retrying in")
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					select {
					case <-watch.seen:
					case <-time.After(hangGuard):
					}
					cancel() // Ctrl-C while it waits to retry
				}()
				old, inv, r := second(x, repeat(2, emulator.Fault{Status: 429, RetryAfter: "20", Body: `{"error":"slow_down"}`}), runOpts{ctx: ctx, stderr: watch})
				x.exit(r, 130, `retrying in 20s`, `asks to wait 20 seconds`, `Interrupted`, `Nothing was sent after the interruption`)
				x.credsEqual(old)
				x.state(inv, open)
				x.calls(emulator.OpAccept, 1)
			}},
		{"discovery names a token endpoint on another origin", "exit 5 \"a token endpoint on another origin\"; the secret is never sent there, nothing changed",
			func(t *testing.T, x *fx) {
				front := func(e *emulator.Emulator) {
					x.svc.front(api.PathDiscovery, answer(200, http.Header{"Content-Type": {"application/json"}},
						`{"token_endpoint":"http://idp.evil.example/user/oauth20/token"}`))
				}
				old, inv, r := second(x, front, runOpts{})
				x.exit(r, 5, `a token endpoint on another origin \(http://idp\.evil\.example\)`, `secret only to http://127\.0\.0\.1:\d+, the server it belongs to`)
				x.calls(emulator.OpToken, 0)
				x.credsEqual(old)
				x.state(inv, open)
			}},
		{"token endpoint returns an access token carrying escape sequences", "`enroll token` exits 5 \"unusable access token\"; nothing on stdout",
			func(t *testing.T, x *fx) {
				x.enroll()
				x.svc.front(api.PathToken, answer(200, http.Header{"Content-Type": {"application/json"}},
					`{"access_token":"ok\u001b]52;c;cHduZWQ=\u0007","token_type":"Bearer","expires_in":60}`))
				r := x.run("token")
				x.exit(r, 5, `unusable access token`)
				if r.out != "" {
					t.Errorf("stdout: %q", r.out)
				}
			}},
		{"--server names another server than the enrolled one", "exit 2 \"enrolled with …\"; the stored secret is never sent elsewhere",
			func(t *testing.T, x *fx) {
				old := x.enroll()
				other := newService(t, svcOpts{})
				r := x.run("token", "--server", other.URL)
				x.exit(r, 2, `enrolled with http://127\.0\.0\.1:\d+, not http://127\.0\.0\.1:\d+`)
				for _, s := range []*service{x.svc, other} {
					if n := s.emu.Calls(emulator.OpToken) + s.emu.Calls(emulator.OpDiscovery); n != 0 {
						t.Errorf("%d discovery and token calls", n)
					}
				}
				x.credsEqual(old)
			}},
		{"an enrolled device is handed a link to a look-alike host", "the enrolled server is used, never the link's host: exit 0, groups added, same secret",
			func(t *testing.T, x *fx) {
				old := x.enroll()
				inv := x.svc.invite(emulator.InvitationSpec{Groups: []string{emulator.GroupLab}})
				// "іdp" with a Cyrillic і: it resolves nowhere, so any call
				// to it would fail the run.
				r := x.runIn(runOpts{stdin: "https://іdp.example.com/invitation?token=" + inv.Token}, "accept", "--token-file", "-")
				x.exit(r, 0, `already a device client`)
				x.state(inv, emulator.StateAccepted)
				if !bytes.Contains(x.file(), secretOf(old)) {
					t.Error("the secret changed")
				}
			}},
	}
}
