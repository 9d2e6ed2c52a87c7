package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"enroll/flow"
)

func TestNormalizeServer(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com":               "https://example.com",
		"HTTPS://Example.COM:8443/prefix/":  "https://example.com:8443/prefix",
		" https://example.com// ":           "https://example.com",
		"http://localhost:8080/":            "http://localhost:8080",
		"http://127.0.0.2:9":                "http://127.0.0.2:9",
		"http://[::1]:9/x":                  "http://[::1]:9/x",
		"http://[0:0:0:0:0:0:0:1]:9":        "http://[::1]:9", // one spelling: the schema's and the readers'
		"https://[2001:DB8::1]":             "https://[2001:db8::1]",
		"https://example.com/a%20b":         "https://example.com/a%20b",
		"https://xn--bcher-kva.example/api": "https://xn--bcher-kva.example/api",
	} {
		if got, err := NormalizeServer(in); err != nil || got != want {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                          "no server given",
		"example.com":               "has no scheme; use https://example.com",
		"example.com:443":           "has no scheme; use https://example.com:443",
		"ftp://example.com":         `scheme "ftp" is not supported`,
		"https://u:p@example.com":   "user name or password",
		"https://example.com?x=1":   "not a link with a query (https://example.com?…)",
		"https://example.com/?":     "not a link with a query (https://example.com?…)",
		"https://example.com#f":     "not a link with a fragment (https://example.com#…)",
		"https://example.com/#":     "not a link with a fragment (https://example.com#…)",
		"https://":                  "has no host",
		"https://:443":              "has no host",
		"http://example.com":        "refusing insecure http to example.com; use https",
		"http://127.0.0.1.nip.io":   "refusing insecure http",
		"http://localhost.:8080":    "refusing insecure http",
		"http://[::ffff:127.0.0.1]": "refusing insecure http",
		"https://exa mple.com":      "is not a URL (https://exa mple.com)",
	} {
		_, err := NormalizeServer(in)
		if !errors.Is(err, flow.ErrUsage) || !strings.Contains(err.Error(), want) {
			t.Errorf("NormalizeServer(%q) = %v; want %q", in, err, want)
		}
	}
}

// A link pasted into --server must not have its token, or anything past
// the host, echoed in the error.
func TestNormalizeServerShowsOnlySchemeAndHost(t *testing.T) {
	tok := "token=" + secretToken
	for in, want := range map[string]string{
		"https://idp.example.com/invitation/accept?" + tok: "--server must be the service's base URL, not a link with a query (https://idp.example.com/…?…)",
		"https://idp.example.com?" + tok + "#x":            "--server must be the service's base URL, not a link with a query (https://idp.example.com?…#…)",
		"https://idp.example.com/accept#" + tok:            "--server must be the service's base URL, not a link with a fragment (https://idp.example.com/…#…)",
		"idp.example.com/invitation/accept?" + tok:         "--server has no scheme; use https://idp.example.com",
		"idp.example.com/a?next=https://x.test/" + tok:     "--server has no scheme; use https://idp.example.com",
		"?" + tok:                                                     "--server has no scheme; use https://HOST",
		"https://exa mple.com/accept?" + tok:                          "--server is not a URL (https://exa mple.com/…?…)",
		"https://idp.example.com/%zz/" + secretToken:                  "--server is not a URL (https://idp.example.com/…)",
		"https://u:" + secretToken + "@idp.example.com/%zz":           "--server is not a URL (https://…@idp.example.com/…)",
		"https://u:" + secretToken + "@idp.example.com/":              "--server must not hold a user name or password",
		"https://@idp.example.com/%zz":                                "--server is not a URL (https://…@idp.example.com/…)",
		"ftp://idp.example.com/?" + tok:                               `--server scheme "ftp" is not supported; use https`,
		"https://idp\x1b[2J.example.com/%zz?" + tok:                   `--server is not a URL (https://idp\x1b[2J.example.com/…?…)`,
		"https:///invitation?" + tok:                                  "--server has no host (https:///…?…)",
		"http://idp.example.com/accept?" + tok:                        "--server must be the service's base URL, not a link with a query (http://idp.example.com/…?…)",
		"https://idp.example.com/accept?" + strings.Repeat("x", 5000): "--server must be the service's base URL, not a link with a query (https://idp.example.com/…?…)",
	} {
		_, err := NormalizeServer(in)
		if !errors.Is(err, flow.ErrUsage) || err.Error() != want {
			t.Errorf("NormalizeServer(%.50q)\n got  %v\n want %s", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), secretToken) {
			t.Errorf("NormalizeServer(%.50q) leaks the token: %v", in, err)
		}
	}
}

// quietTLS is an httptest TLS server that does not print the handshake
// failures the tests provoke on purpose.
func quietTLS(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func writeCA(t *testing.T, srv *httptest.Server) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func acceptHandler(t *testing.T, answer string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != MethodAccept || r.URL.Path != PathAccept {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", ContentTypeJSON)
		_, _ = io.WriteString(w, answer)
	})
}

func newReal(t *testing.T, o HTTPOptions) (*Client, *http.Client) {
	hc, err := NewHTTPClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return New(Options{HTTP: hc}), hc
}

var acceptReq = flow.AcceptRequest{Token: secretToken, Name: "Press 4"}

func accept(c *Client, server string) ([]byte, error) {
	req := acceptReq
	req.Server = server
	return c.Accept(context.Background(), req)
}

func TestUntrustedCertificateIsCertificateErrorWithCause(t *testing.T) {
	srv := quietTLS(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("request got through") }))
	c, _ := newReal(t, HTTPOptions{})
	_, err := accept(c, srv.URL)
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	if !errors.Is(err, flow.ErrCertificate) || errors.Is(err, flow.ErrNetwork) || !errors.As(err, &cve) || !errors.As(err, &uae) {
		t.Fatalf("got %v", err)
	}
	if cl := flow.Classify(err); cl.Kind != flow.ErrCertificate || cl.Retry {
		t.Fatalf("classified as %+v", cl)
	}
}

// A certificate from a trusted CA but for another name: the httptest
// certificate names 127.0.0.1, ::1 and example.com, not localhost.
func TestWrongHostCertificateIsCertificateError(t *testing.T) {
	srv := quietTLS(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("request got through") }))
	c, _ := newReal(t, HTTPOptions{CAFile: writeCA(t, srv)})
	_, port, _ := strings.Cut(srv.Listener.Addr().String(), "127.0.0.1:")
	err := c.Decline(context.Background(), flow.DeclineRequest{Server: "https://localhost:" + port, Token: secretToken})
	var hne x509.HostnameError
	if !errors.Is(err, flow.ErrCertificate) || !errors.As(err, &hne) {
		t.Fatalf("got %v", err)
	}
}

// Discovery and the token grant are retried on network trouble, but an
// untrusted certificate will not become trusted by waiting.
func TestUntrustedCertificateIsNotRetried(t *testing.T) {
	var hits atomic.Int32
	srv := quietTLS(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	hc, err := NewHTTPClient(HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	var slept atomic.Int32
	c := New(Options{HTTP: hc, Sleep: func(context.Context, time.Duration) error { slept.Add(1); return nil }})
	_, err = c.Authenticate(context.Background(), srv.URL, creds)
	if !errors.Is(err, flow.ErrCertificate) || !strings.HasPrefix(err.Error(), "discovery: ") || slept.Load() != 0 || hits.Load() != 0 {
		t.Fatalf("got %v after %d retries, %d requests", err, slept.Load(), hits.Load())
	}
}

func TestCAFileTrustsServer(t *testing.T) {
	srv := quietTLS(t, acceptHandler(t, acceptOK))
	caFile := writeCA(t, srv)
	c, hc := newReal(t, HTTPOptions{CAFile: caFile})
	raw, err := accept(c, srv.URL)
	if err != nil || string(raw) != acceptOK {
		t.Fatalf("got %q, %v", raw, err)
	}
	// The file's CAs join the system's roots rather than replace them: a
	// proxy's CA must not cut the device off from public services.
	want, err := x509.SystemCertPool()
	if err != nil || want.Equal(x509.NewCertPool()) {
		t.Skipf("no system roots to keep here (%v)", err)
	}
	pemBytes, _ := os.ReadFile(caFile)
	want.AppendCertsFromPEM(pemBytes)
	if got := hc.Transport.(*guard).base.(*http.Transport).TLSClientConfig.RootCAs; !got.Equal(want) {
		t.Error("with --ca-file the client trusts only the file, not the system's roots as well")
	}
}

func TestCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{filepath.Join(dir, "missing.pem"): "cannot read the CA file", junk: "holds no PEM certificate"} {
		if _, err := NewHTTPClient(HTTPOptions{CAFile: path}); !errors.Is(err, flow.ErrUsage) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// recordProxy records every host the transport asks a proxy for, which
// it does before dialing anything.
func recordProxy() (func(*http.Request) (*url.URL, error), func() []string) {
	var mu sync.Mutex
	var hosts []string
	return func(r *http.Request) (*url.URL, error) {
			mu.Lock()
			defer mu.Unlock()
			hosts = append(hosts, r.URL.Hostname())
			return nil, nil
		}, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), hosts...)
		}
}

func TestInsecureHTTPRefusedBeforeDial(t *testing.T) {
	proxy, seen := recordProxy()
	_, hc := newReal(t, HTTPOptions{Proxy: proxy})
	_, err := hc.Get("http://example.invalid/x")
	if !errors.Is(err, flow.ErrUsage) || !strings.Contains(err.Error(), "refusing insecure http to example.invalid; use https") {
		t.Fatalf("got %v", err)
	}
	// A redirect from a loopback server to plain http elsewhere is refused
	// too (only GET follows redirects at all).
	srv := httptest.NewServer(http.RedirectHandler("http://example.invalid/next", http.StatusTemporaryRedirect))
	defer srv.Close()
	if _, err := hc.Get(srv.URL + PathDiscovery); !errors.Is(err, flow.ErrUsage) || !strings.Contains(err.Error(), "refusing insecure http to example.invalid") {
		t.Fatalf("redirect: %v", err)
	}
	for _, h := range seen() {
		if h != "127.0.0.1" {
			t.Errorf("transport went as far as the proxy lookup for %q", h)
		}
	}
}

// Discovery (GET) follows redirects, within limits.
func TestRedirectRules(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("downgraded request got through") }))
	defer plain.Close()
	down := quietTLS(t, http.RedirectHandler(plain.URL+"/x", http.StatusTemporaryRedirect))
	c, _ := newReal(t, HTTPOptions{CAFile: writeCA(t, down)})
	if _, err := c.DiscoverTokenURL(context.Background(), down.URL); !errors.Is(err, flow.ErrServer) || !strings.Contains(err.Error(), "redirected from https to insecure http://") {
		t.Fatalf("downgrade: %v", err)
	}
	var hits atomic.Int32
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer loop.Close()
	if _, err := c.DiscoverTokenURL(context.Background(), loop.URL); !errors.Is(err, flow.ErrServer) || !strings.Contains(err.Error(), "more than 5") || hits.Load() != 6 {
		t.Fatalf("loop: %v after %d requests", err, hits.Load())
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+PathDiscovery, http.RedirectHandler("/moved", http.StatusMovedPermanently))
	var moved *httptest.Server
	mux.HandleFunc("GET /moved", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"token_endpoint":"`+moved.URL+`/token"}`)
	})
	moved = httptest.NewServer(mux)
	defer moved.Close()
	if u, err := c.DiscoverTokenURL(context.Background(), moved.URL); err != nil || u != moved.URL+"/token" {
		t.Fatalf("moved: %q, %v", u, err)
	}
}

// Accept, decline and send never follow a redirect: a 302 to a login
// page must not be taken for the answer, and a 307 or 308 must not carry
// the token to the host it names.
func TestNonIdempotentCallsDoNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", ContentTypeJSON)
		_, _ = io.WriteString(w, acceptOK) // what a hostile host would answer
	}))
	defer other.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, target := range []string{"/login?return=%2Faccept", other.URL + "/collect?x=1"} {
			t.Run(fmt.Sprintf("%d-%s", status, target[:6]), func(t *testing.T) {
				var portal, calls atomic.Int32
				mux := http.NewServeMux()
				mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
					portal.Add(1)
					w.Header().Set("Content-Type", "text/html")
					_, _ = io.WriteString(w, "<html>Sign in</html>")
				})
				mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					_, _ = io.ReadAll(r.Body)
					http.Redirect(w, r, target, status)
				})
				srv := httptest.NewServer(mux)
				defer srv.Close()
				c, _ := newReal(t, HTTPOptions{})
				ctx := context.Background()
				raw, err1 := accept(c, srv.URL)
				err2 := c.Decline(ctx, flow.DeclineRequest{Server: srv.URL, Token: secretToken})
				_, err3 := c.SendInvitation(ctx, srv.URL, secretBearer, "o", SendBody{})
				host := srv.URL
				if !strings.HasPrefix(target, "/") {
					host = other.URL
				}
				for i, err := range []error{err1, err2, err3} {
					op := []string{"accept", "decline", "send"}[i]
					want := fmt.Sprintf("%s: the service answered %d %s, a redirect to %s; check --server", op, status, http.StatusText(status), host)
					if !errors.Is(err, flow.ErrServer) || err.Error() != want {
						t.Errorf("got  %v\nwant %s", err, want)
					}
				}
				if raw != nil || calls.Load() != 3 || portal.Load() != 0 || elsewhere.Load() != 0 {
					t.Errorf("accept answer %q; %d calls, the portal got %d requests and the other host %d", raw, calls.Load(), portal.Load(), elsewhere.Load())
				}
			})
		}
	}
}

func TestBodyCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		n := MaxBody
		if r.URL.Query().Has("big") || r.Method == MethodAccept {
			n = 2 * MaxBody
		}
		_, _ = w.Write(make([]byte, n))
	}))
	defer srv.Close()
	c, hc := newReal(t, HTTPOptions{})
	for query, wantErr := range map[string]bool{"": false, "?big": true} {
		resp, err := hc.Get(srv.URL + "/" + query)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) != MaxBody || (err != nil) != wantErr || wantErr && (!errors.Is(err, flow.ErrBadResponse) || err.Error() != "answer larger than 1 MiB") {
			t.Errorf("%q: %d bytes, %v", query, len(b), err)
		}
	}
	if raw, err := accept(c, srv.URL); !errors.Is(err, flow.ErrBadResponse) || len(raw) != MaxBody {
		t.Fatalf("accept: %d bytes, %v", len(raw), err)
	}
}
