package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
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
		"https://example.com/a%20b":         "https://example.com/a%20b",
		"https://xn--bcher-kva.example/api": "https://xn--bcher-kva.example/api",
	} {
		if got, err := NormalizeServer(in); err != nil || got != want {
			t.Errorf("NormalizeServer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":                        "no server given",
		"example.com":             "has no scheme",
		"example.com:443":         "has no scheme",
		"ftp://example.com":       `scheme "ftp" is not supported`,
		"https://u:p@example.com": "user name or password",
		"https://example.com?x=1": "must not have a query",
		"https://example.com/?":   "must not have a query",
		"https://example.com#f":   "must not have a fragment",
		"https://example.com/#":   "must not have a fragment",
		"https://":                "has no host",
		"https://:443":            "has no host",
		"http://example.com":      "refusing insecure http to example.com; use https",
		"http://127.0.0.1.nip.io": "refusing insecure http",
		"https://exa mple.com":    "is not a URL",
	} {
		_, err := NormalizeServer(in)
		if !errors.Is(err, flow.ErrUsage) || !strings.Contains(err.Error(), want) {
			t.Errorf("NormalizeServer(%q) = %v; want %q", in, err, want)
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

func TestUntrustedCertificateIsNetworkErrorWithCause(t *testing.T) {
	srv := quietTLS(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("request got through") }))
	c, _ := newReal(t, HTTPOptions{})
	_, err := accept(c, srv.URL)
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	if !errors.Is(err, flow.ErrNetwork) || !errors.As(err, &cve) || !errors.As(err, &uae) {
		t.Fatalf("got %v", err)
	}
}

func TestCAFileTrustsServer(t *testing.T) {
	srv := quietTLS(t, acceptHandler(t, acceptOK))
	c, _ := newReal(t, HTTPOptions{CAFile: writeCA(t, srv)})
	raw, err := accept(c, srv.URL)
	if err != nil || string(raw) != acceptOK {
		t.Fatalf("got %q, %v", raw, err)
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
	// A redirect from a loopback server to plain http elsewhere is refused too.
	srv := httptest.NewServer(http.RedirectHandler("http://example.invalid/next", http.StatusTemporaryRedirect))
	defer srv.Close()
	c := New(Options{HTTP: hc})
	if _, err := accept(c, srv.URL); !errors.Is(err, flow.ErrUsage) || !strings.HasPrefix(err.Error(), "accept: refusing insecure http") {
		t.Fatalf("redirect: %v", err)
	}
	for _, h := range seen() {
		if h != "127.0.0.1" {
			t.Errorf("transport went as far as the proxy lookup for %q", h)
		}
	}
}

func TestRedirectRules(t *testing.T) {
	plain := httptest.NewServer(acceptHandler(t, acceptOK))
	defer plain.Close()
	down := quietTLS(t, http.RedirectHandler(plain.URL+"/x", http.StatusTemporaryRedirect))
	c, _ := newReal(t, HTTPOptions{CAFile: writeCA(t, down)})
	if _, err := accept(c, down.URL); !errors.Is(err, flow.ErrServer) || !strings.Contains(err.Error(), "redirected from https to insecure http://") {
		t.Fatalf("downgrade: %v", err)
	}
	var hits atomic.Int32
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer loop.Close()
	if _, err := accept(c, loop.URL); !errors.Is(err, flow.ErrServer) || !strings.Contains(err.Error(), "more than 5") || hits.Load() != 6 {
		t.Fatalf("loop: %v after %d requests", err, hits.Load())
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
	if raw, err := accept(c, srv.URL); err != nil || len(raw) != MaxBody {
		t.Fatalf("accept: %d bytes, %v", len(raw), err)
	}
}
