package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"enroll/api"
	"enroll/api/emulator"
	"enroll/internal/proxytest"
)

// Rows about reaching the service: nothing listening, a name that does not
// resolve, certificates, proxies, connections that close or hang.

func networkRows() []faultRow {
	open := emulator.StateOpen
	return []faultRow{
		{"connection refused: nothing listens at the link's address", "exit 5 \"could not be reached\", check network/proxy/--server; accept never sent, invitation open, no file",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.runIn(runOpts{stdin: "http://" + closedAddr(t) + "/invitation?token=" + inv.Token}, "accept", "--token-file", "-")
				x.exit(r, 5, `could not be reached`, `connection refused`, `check the network, proxy and --server`)
				x.calls(emulator.OpAccept, 0)
				x.state(inv, open)
				x.noCreds()
			}},
		{"network down: an enrolled device's server stops answering", "exit 5 after 4 attempts with backoff; old file unchanged, second invitation open",
			func(t *testing.T, x *fx) {
				old := x.enroll()
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.svc.srv.Close()
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 5, `could not be reached`, `gave up after 4 attempts`, `attempt 3 of 4 failed`, `try again`)
				x.credsEqual(old)
				x.state(inv, open)
				x.calls(emulator.OpAccept, 1)
			}},
		{"DNS failure: the link's host does not resolve (.invalid)", "exit 5 naming the host; nothing sent, invitation open, no file",
			func(t *testing.T, x *fx) {
				x.svc = newService(t, svcOpts{base: "https://idp.enroll.invalid"})
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.start(childOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--verbose", "--timeout", "10s").wait()
				x.exit(r, 5, `could not be reached`, `idp\.enroll\.invalid`, `check the network`)
				x.state(inv, open)
				x.noCreds()
			}},
		{"TLS certificate not trusted", "exit 5 \"not trusted, so nothing was sent\" with the --ca-file hint; no request reached the service, no retry, no http fallback",
			func(t *testing.T, x *fx) {
				x.svc = newService(t, svcOpts{tls: true})
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 5, `certificate is not trusted, so nothing was sent`, `--ca-file`, `unknown authority`)
				x.lacks(r, `retrying`)
				for _, op := range []string{emulator.OpAccept, emulator.OpDiscovery, emulator.OpToken} {
					x.calls(op, 0)
				}
				x.state(inv, open)
				x.noCreds()
			}},
		{"the server's certificate is not valid yet at this device's time (a clock behind)", "exit 5 naming the clock, \"set the clock\"; nothing sent, no retry, invitation open",
			func(t *testing.T, x *fx) {
				c := futureCert(t)
				cert, der := &c.tls, c.der
				x.svc = newService(t, svcOpts{tls: true, cert: cert})
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--ca-file", writeCert(t, der))
				x.exit(r, 5, `not valid yet at this device's time`, `this device's clock reads`, `the clock is behind`, `Set the clock`, `"kind": "clock-wrong"|Set the clock`)
				x.lacks(r, `retrying`)
				x.calls(emulator.OpAccept, 0)
				x.state(inv, open)
				x.noCreds()
			}},
		{"private CA given with --ca-file", "exit 0; the complete file, invitation accepted",
			func(t *testing.T, x *fx) {
				x.svc = newService(t, svcOpts{tls: true})
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--ca-file", writeCert(t, x.svc.srv.Certificate().Raw))
				x.exit(r, 0, `Enrolled`)
				x.state(inv, emulator.StateAccepted)
				x.credsIssued()
			}},
		{"--ca-file holding no certificate", "exit 2 naming the file; nothing sent, invitation open",
			func(t *testing.T, x *fx) {
				x.svc = newService(t, svcOpts{tls: true})
				inv := x.svc.invite(emulator.InvitationSpec{})
				junk := filepath.Join(x.dir, "junk.pem")
				if err := os.WriteFile(junk, []byte("not a certificate\x1b[2J"), 0o600); err != nil {
					t.Fatal(err)
				}
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--ca-file", junk)
				x.exit(r, 2, `holds no PEM certificate`, `junk\.pem`)
				x.calls(emulator.OpAccept, 0)
				x.state(inv, open)
			}},
		{"HTTPS_PROXY: the service is reachable only through a CONNECT proxy", "exit 0 through the proxy (with its credentials), the complete file; the proxy password never printed",
			func(t *testing.T, x *fx) {
				cert := issue(t, certSpec{hosts: []string{"idp.enroll.test"}, ca: true}).tls
				x.svc = newService(t, svcOpts{tls: true, cert: &cert, base: "https://idp.enroll.test"})
				// Only the proxy knows where idp.enroll.test is.
				p := proxytest.Start(t, proxytest.Options{Target: x.svc.srv.Listener.Addr().String(), UserPass: "dev:proxy-pass-4711"})
				x.also("proxy-pass-4711")
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.start(childOpts{stdin: inv.Link, vars: map[string]string{"HTTPS_PROXY": "http://dev:proxy-pass-4711@" + p.Addr, "NO_PROXY": ""}},
					"accept", "--token-file", "-", "--verbose", "--ca-file", writeCert(t, cert.Certificate[0])).wait()
				x.exit(r, 0, `Enrolled`)
				if got := p.Seen(); len(got) == 0 || got[0] != "idp.enroll.test:443" {
					t.Errorf("the proxy saw CONNECT %q", got)
				}
				x.state(inv, emulator.StateAccepted)
				x.credsIssued()
			}},
		{"HTTPS_PROXY names a proxy that is down", "exit 5 naming the proxy; nothing sent, invitation open",
			func(t *testing.T, x *fx) {
				x.svc = newService(t, svcOpts{base: "https://idp.enroll.test"})
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.start(childOpts{stdin: inv.Link, vars: map[string]string{"HTTPS_PROXY": "http://" + closedAddr(t), "NO_PROXY": ""}},
					"accept", "--token-file", "-", "--verbose").wait()
				x.exit(r, 5, `could not be reached`, `proxyconnect`, `proxy`)
				x.calls(emulator.OpAccept, 0)
				x.state(inv, open)
			}},
		{"connection closed after the accept was sent, before the service acted", "exit 7 \"not known whether it took effect\", no blind retry, `enroll status` named; invitation in fact open, no file",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{DropBeforeCommit: true})
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 7, `not known whether it took effect`, `Do not reuse the invitation blindly`, `enroll status`)
				x.calls(emulator.OpAccept, 1)
				x.state(inv, open)
				x.noCreds()
				x.exit(x.run("status"), 4, `not enrolled`)
			}},
		{"the service hangs after the accept was sent (--timeout)", "exit 7 outcome unknown after the timeout; one accept call, no file",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.svc.front(api.PathAccept, hangs)
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--timeout", "200ms")
				x.exit(r, 7, `no answer came within the time limit \(--timeout\)`, `enroll status`)
				x.state(inv, open)
				x.noCreds()
			}},
		{"accept redirected to a login page (302 with the token in Location)", "exit 5 showing only the redirect's origin, \"check --server\"; not followed, token not printed",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.svc.front(api.PathAccept, answer(http.StatusFound,
					http.Header{"Location": {"https://login.example.invalid/sso?return=" + inv.Token}}, "<html>log in</html>"))
				r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 5, `redirect to https://login\.example\.invalid;`, `check --server`)
				x.state(inv, open)
				x.noCreds()
			}},
	}
}
