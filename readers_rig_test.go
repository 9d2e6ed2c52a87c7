package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api"
)

// The secret goes to the enrolled origin only. The rows below put a small
// server (rdrFront) in front of the emulator, enrolled as the device's
// server, and another (the "other" server) that records whatever reaches
// it: a reader must get its token through a token endpoint discovery
// names on the same origin, and must refuse one on another origin, a
// redirect of the token request and a plain-http server that only looks
// like loopback; an answer without a usable token fails it; and
// ENROLL_CA_FILE adds to the CAs it trusts. No reader prints the secret,
// whatever happens.

// rdrSeen is one request a front or the other server received.
type rdrSeen struct {
	Method, URI, Host string
	Header            http.Header
	Body              string
}

// rdrFront is a recording server with a handler of the row's.
type rdrFront struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []rdrSeen
}

// newRdrFront serves h on 127.0.0.1, or on ln; with cert, over TLS.
func newRdrFront(t *testing.T, ln net.Listener, cert *tls.Certificate, h http.HandlerFunc) *rdrFront {
	t.Helper()
	f := &rdrFront{}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		f.mu.Lock()
		f.seen = append(f.seen, rdrSeen{r.Method, r.RequestURI, r.Host, r.Header.Clone(), string(b)})
		f.mu.Unlock()
		h(w, r)
	}))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes an untrusting reader fails
	if ln != nil {
		f.srv.Listener.Close()
		f.srv.Listener = ln
	}
	if cert != nil {
		f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *rdrFront) requests() []rdrSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rdrSeen{}, f.seen...)
}

// posts counts the POSTs to path.
func (f *rdrFront) posts(path string) int {
	n := 0
	for _, r := range f.requests() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URI, path) {
			n++
		}
	}
	return n
}

// holds reports whether any request f received carries the secret, as
// is or form-encoded, anywhere: URL, headers or body.
func (f *rdrFront) holds(secret string) bool {
	for _, r := range f.requests() {
		all := fmt.Sprint(r.URI, r.Header, r.Body)
		if strings.Contains(all, secret) || strings.Contains(all, url.QueryEscape(secret)) {
			return true
		}
	}
	return false
}

// rdrOrigin is the origin a request was addressed to.
func rdrOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// rdrToEmulator hands a request to the emulator's token endpoint,
// whatever path it came to.
func rdrToEmulator(emu http.Handler, w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = api.PathToken, ""
	emu.ServeHTTP(w, r2)
}

// rdrDiscovery answers discovery naming endpoint.
func rdrDiscovery(w http.ResponseWriter, endpoint string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "enroll-test", "token_endpoint": endpoint})
}

// rdrCustomPath is a service whose discovery names /custom/token on the
// origin it was asked on, and which has no token endpoint at the default
// path: a reader gets a token only through discovery.
func rdrCustomPath(emu http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == api.PathDiscovery:
			rdrDiscovery(w, rdrOrigin(r)+"/custom/token")
		case r.Method == http.MethodPost && r.URL.Path == "/custom/token":
			rdrToEmulator(emu, w, r)
		default:
			http.NotFound(w, r)
		}
	}
}

// rdrEnv is a reader's environment: a home of its own whose ~/.curlrc
// says --location, as a careless one might (token.sh must not read it).
func rdrEnv(t *testing.T, env ...string) []string {
	t.Helper()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".curlrc"), []byte("location\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}, env...)
}

// rdrCreds is a copy of the device's credentials file naming server.
func rdrCreds(t *testing.T, x *fx, server string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(x.file(), &m); err != nil {
		t.Fatal(err)
	}
	m["server"], _ = json.Marshal(server)
	b, _ := json.Marshal(m)
	p := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// rdrRun runs a reader on file. Neither output may hold the secret.
func rdrRun(t *testing.T, x *fx, argv []string, env []string, file string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], file)...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	x.record(o.String(), e.String())
	secret := x.svc.emu.Clients()[0].ClientSecret
	for _, out := range []string{o.String(), e.String()} {
		if strings.Contains(out, secret) || strings.Contains(out, url.QueryEscape(secret)) {
			t.Errorf("the reader printed the client secret:\n%s", out)
		}
	}
	return o.String(), e.String(), err
}

// rdrToken asserts that the run printed an access token of the enrolled
// client.
func rdrToken(t *testing.T, x *fx, how, stdout, stderr string, err error) {
	t.Helper()
	tok := strings.TrimSpace(stdout)
	if c, ok := x.svc.emu.ClientOfToken(tok); err != nil || !ok || c.ClientID != x.svc.emu.Clients()[0].ClientID {
		t.Errorf("%s: exit %v, printed %q: not an access token of the enrolled client\n%s", how, err, tok, stderr)
	}
}

// rdrRefused asserts that the run failed, printed no token and said why.
func rdrRefused(t *testing.T, how, stdout, stderr string, err error, why string) {
	t.Helper()
	if err == nil || strings.TrimSpace(stdout) != "" || !strings.Contains(stderr, why) {
		t.Errorf("%s: exit %v, printed %q, want a failure saying %q; stderr:\n%s", how, err, stdout, why, stderr)
	}
}

// rdrLoopback6 listens on [::1], or skips the rows that need it.
func rdrLoopback6(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Logf("no IPv6 loopback: %v", err)
		return nil
	}
	return ln
}
