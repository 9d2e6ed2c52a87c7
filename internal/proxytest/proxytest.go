// Package proxytest is an HTTPS (CONNECT) proxy for tests: it records the
// tunnels asked for and splices them to their host, or to one target. It
// imports nothing of enroll's, so that any package's tests may use it.
package proxytest

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Options: Target, when set, receives every tunnel whatever host it names
// (only the proxy knows where a made-up name is); UserPass, when set, is
// the "user:pass" the proxy requires.
type Options struct {
	Target   string
	UserPass string
}

// Proxy is a running CONNECT proxy.
type Proxy struct {
	URL  string // http://127.0.0.1:PORT
	Addr string // 127.0.0.1:PORT

	mu    sync.Mutex
	hosts []string
}

// Start runs a proxy until the test ends.
func Start(t testing.TB, o Options) *Proxy {
	t.Helper()
	p := &Proxy{}
	want := ""
	if o.UserPass != "" {
		want = "Basic " + base64.StdEncoding.EncodeToString([]byte(o.UserPass))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		if want != "" && r.Header.Get("Proxy-Authorization") != want {
			http.Error(w, "CONNECT with credentials only", http.StatusProxyAuthRequired)
			return
		}
		p.mu.Lock()
		p.hosts = append(p.hosts, r.Host)
		p.mu.Unlock()
		target := o.Target
		if target == "" {
			target = r.Host
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(up, brw); up.Close() }()
		_, _ = io.Copy(conn, up)
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	p.URL, p.Addr = srv.URL, srv.Listener.Addr().String()
	return p
}

// Seen lists the hosts of the tunnels asked for, in order.
func (p *Proxy) Seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string{}, p.hosts...)
}
