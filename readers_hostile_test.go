package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"enroll/api"
)

// A token endpoint that discovery names on the same origin, at a path of
// its own, is the one each reader uses, on every form of plain http to
// this machine the credentials file allows: 127.0.0.1, localhost, [::1].
func TestReaderCustomTokenPath(t *testing.T) {
	x := newFx(t)
	x.enroll()
	front := newRdrFront(t, nil, nil, rdrCustomPath(x.svc.emu))
	port := front.srv.Listener.Addr().(*net.TCPAddr).Port
	servers := []string{front.srv.URL, fmt.Sprintf("http://localhost:%d/", port)}
	var front6 *rdrFront
	if ln := rdrLoopback6(t); ln != nil {
		front6 = newRdrFront(t, ln, nil, rdrCustomPath(x.svc.emu))
		servers = append(servers, front6.srv.URL)
	}
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			for _, server := range servers {
				f := front
				if front6 != nil && server == front6.srv.URL {
					f = front6
				}
				before := f.posts("/custom/token")
				stdout, stderr, err := rdrRun(t, x, argv, rdrEnv(t), rdrCreds(t, x, server))
				rdrToken(t, x, server, stdout, stderr, err)
				if n := f.posts("/custom/token") - before; n != 1 {
					t.Errorf("%s: %d requests to the token endpoint discovery named, want 1", server, n)
				}
			}
		})
	}
	if n := front.posts(api.PathToken); n != 0 {
		t.Errorf("%d requests to the default token path, which discovery did not name", n)
	}
	x.finish()
}

// A token endpoint that discovery names on another origin is refused:
// the other server receives nothing, and nor does the default path.
func TestReaderCrossOriginTokenEndpoint(t *testing.T) {
	x := newFx(t)
	x.enroll()
	other := newRdrFront(t, nil, nil, func(w http.ResponseWriter, r *http.Request) { rdrToEmulator(x.svc.emu, w, r) })
	var mu sync.Mutex
	named := ""
	front := newRdrFront(t, nil, nil, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == api.PathDiscovery:
			mu.Lock()
			defer mu.Unlock()
			rdrDiscovery(w, named)
		case r.URL.Path == api.PathToken:
			rdrToEmulator(x.svc.emu, w, r)
		default:
			http.NotFound(w, r)
		}
	})
	fport := front.srv.Listener.Addr().(*net.TCPAddr).Port
	oport := other.srv.Listener.Addr().(*net.TCPAddr).Port
	file := rdrCreds(t, x, front.srv.URL)
	endpoints := map[string]string{
		"another port":              other.srv.URL + api.PathToken,
		"another host name":         fmt.Sprintf("http://localhost:%d%s", fport, api.PathToken),
		"another scheme":            fmt.Sprintf("https://127.0.0.1:%d%s", fport, api.PathToken),
		"the origin as a user name": fmt.Sprintf("http://127.0.0.1:%d@127.0.0.1:%d%s", fport, oport, api.PathToken),
		"no scheme":                 fmt.Sprintf("//127.0.0.1:%d%s", oport, api.PathToken),
	}
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			for how, endpoint := range endpoints {
				mu.Lock()
				named = endpoint
				mu.Unlock()
				stdout, stderr, err := rdrRun(t, x, argv, rdrEnv(t), file)
				rdrRefused(t, how, stdout, stderr, err, "another origin")
			}
		})
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}
	if n := front.posts(api.PathToken); n != 0 {
		t.Errorf("the default token path received %d requests after a refused discovery", n)
	}
	x.finish()
}

// A token endpoint that answers the grant with a redirect, to another
// server on this machine, is not followed: a 307 or 308 would take the
// secret along. The other server receives nothing.
func TestReaderTokenRedirect(t *testing.T) {
	x := newFx(t)
	x.enroll()
	secret := x.svc.emu.Clients()[0].ClientSecret
	other := newRdrFront(t, nil, nil, func(w http.ResponseWriter, r *http.Request) { rdrToEmulator(x.svc.emu, w, r) })
	var mu sync.Mutex
	code := 0
	front := newRdrFront(t, nil, nil, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == api.PathDiscovery:
			rdrDiscovery(w, rdrOrigin(r)+api.PathToken)
		case r.URL.Path == api.PathToken:
			mu.Lock()
			defer mu.Unlock()
			http.Redirect(w, r, other.srv.URL+api.PathToken, code)
		default:
			http.NotFound(w, r)
		}
	})
	file := rdrCreds(t, x, front.srv.URL)
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			for _, c := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound, http.StatusMovedPermanently, http.StatusSeeOther} {
				mu.Lock()
				code = c
				mu.Unlock()
				stdout, stderr, err := rdrRun(t, x, argv, rdrEnv(t), file)
				rdrRefused(t, fmt.Sprint(c), stdout, stderr, err, "redirect")
			}
		})
	}
	if other.holds(secret) {
		t.Errorf("the server the redirect named received the secret: %+v", other.requests())
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the server the redirect named received %d requests: %+v", n, other.requests())
	}
	x.finish()
}

// Plain http goes to this machine only, and the readers parse the host
// exactly: a user name before it, or a name that merely begins like a
// loopback address, is another host. Each is refused before anything is
// sent (the trap, where one of them really leads, receives nothing).
func TestReaderRefusesInsecureServers(t *testing.T) {
	x := newFx(t)
	x.enroll()
	trap := newRdrFront(t, nil, nil, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.PathToken {
			rdrToEmulator(x.svc.emu, w, r)
			return
		}
		http.NotFound(w, r)
	})
	port := trap.srv.Listener.Addr().(*net.TCPAddr).Port
	servers := []string{
		fmt.Sprintf("http://127.0.0.1@localhost:%d", port),
		fmt.Sprintf("http://localhost:%d@127.0.0.1:%d", port, port),
		fmt.Sprintf("http://127.0.0.1.invalid:%d", port),
		fmt.Sprintf("http://localhost.invalid:%d", port),
		fmt.Sprintf("http://127.0.0.1.5:%d", port),
		"http://idp.invalid",
	}
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			for _, server := range servers {
				stdout, stderr, err := rdrRun(t, x, argv, rdrEnv(t), rdrCreds(t, x, server))
				rdrRefused(t, server, stdout, stderr, err, "refusing the server")
			}
		})
	}
	if n := len(trap.requests()); n != 0 {
		t.Errorf("the trap received %d requests: %+v", n, trap.requests())
	}
	x.finish()
}

// rdrCA is a certificate authority of a test's own, with its certificate
// in a PEM file.
type rdrCA struct {
	*issued
	pem string
}

func newRdrCA(t *testing.T, name string) *rdrCA {
	t.Helper()
	ca := issue(t, certSpec{hosts: []string{name}, ca: true})
	return &rdrCA{ca, writeCert(t, ca.der)}
}

// serverCert is a certificate it issues for 127.0.0.1.
func (ca *rdrCA) serverCert(t *testing.T) *tls.Certificate {
	return &issue(t, certSpec{hosts: []string{"127.0.0.1", "localhost"}, parent: ca.issued}).tls
}

// ENROLL_CA_FILE, as enroll's --ca-file, adds CAs to trust, for discovery
// and the token request alike (the service's token endpoint is at a path
// only discovery names); and it adds them: the system's CAs are still
// trusted. SSL_CERT_FILE stands in for the system's CAs.
func TestReaderCAFile(t *testing.T) {
	x := newFx(t)
	x.enroll()
	extra, system := newRdrCA(t, "extra"), newRdrCA(t, "system")
	env := []string{"ENROLL_CA_FILE=" + extra.pem, "SSL_CERT_FILE=" + system.pem}
	byExtra := newRdrFront(t, nil, extra.serverCert(t), rdrCustomPath(x.svc.emu))
	bySystem := newRdrFront(t, nil, system.serverCert(t), rdrCustomPath(x.svc.emu))
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			stdout, stderr, err := rdrRun(t, x, argv, rdrEnv(t, env...), rdrCreds(t, x, byExtra.srv.URL))
			rdrToken(t, x, "a certificate of ENROLL_CA_FILE's CA", stdout, stderr, err)
			// Without ENROLL_CA_FILE, the certificate is not trusted.
			stdout, stderr, err = rdrRun(t, x, argv, rdrEnv(t, env[1]), rdrCreds(t, x, byExtra.srv.URL))
			rdrRefused(t, "without ENROLL_CA_FILE", stdout, stderr, err, "")
			if r.name == "shell" {
				return // curl's --cacert replaces its default CAs: it cannot add to them
			}
			stdout, stderr, err = rdrRun(t, x, argv, rdrEnv(t, env...), rdrCreds(t, x, bySystem.srv.URL))
			rdrToken(t, x, "a certificate of a system CA, with ENROLL_CA_FILE set", stdout, stderr, err)
		})
	}
	if n := byExtra.posts(api.PathToken) + bySystem.posts(api.PathToken); n != 0 {
		t.Errorf("%d requests to the default token path, which discovery did not name", n)
	}
	x.finish()
}

// A token endpoint whose answer holds no usable access token fails the
// reader with a message, and nothing on standard output: not "null", not
// an empty line, not a token with terminal controls in it.
func TestReaderAnswerWithoutToken(t *testing.T) {
	x := newFx(t)
	x.enroll()
	var mu sync.Mutex
	answer := ""
	front := newRdrFront(t, nil, nil, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == api.PathDiscovery:
			rdrDiscovery(w, rdrOrigin(r)+api.PathToken)
		case r.URL.Path == api.PathToken:
			mu.Lock()
			defer mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, answer)
		default:
			http.NotFound(w, r)
		}
	})
	file := rdrCreds(t, x, front.srv.URL)
	rows := []struct{ answer, why string }{
		{`{"token_type":"Bearer","expires_in":3600}`, "access_token"},
		{`{"access_token":null,"token_type":"Bearer"}`, "access_token"},
		{`{"access_token":"","token_type":"Bearer"}`, "access_token"},
		{`{"access_token":"abc\u001b]0;owned\u0007","token_type":"Bearer"}`, ""},
		{`{"access_token":"abc\ndef","token_type":"Bearer"}`, ""},
		{``, ""},
	}
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			for _, row := range rows {
				mu.Lock()
				answer = row.answer
				mu.Unlock()
				stdout, stderr, err := rdrRun(t, x, argv, rdrEnv(t), file)
				rdrRefused(t, fmt.Sprintf("%q", row.answer), stdout, stderr, err, row.why)
			}
		})
	}
	x.finish()
}
