package api

// Loopback tests of the transport outcomes the CLI tells apart: outcome
// unknown, network down, a proxy in the way, and the token grant end to end.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"enroll/flow"
	"enroll/internal/proxytest"
)

func TestConnectionClosedAfterRequestIsOutcomeUnknown(t *testing.T) {
	var got atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); strings.Contains(string(b), secretToken) {
			got.Store(true)
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c, _ := newReal(t, HTTPOptions{})
	_, err := accept(c, srv.URL)
	if !errors.Is(err, flow.ErrOutcomeUnknown) || !got.Load() || strings.Contains(err.Error(), secretToken) {
		t.Fatalf("got %v (server saw token: %v)", err, got.Load())
	}
}

func TestHeaderTimeoutAfterRequestIsOutcomeUnknown(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		<-block
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(block) }) // runs first: lets the handler end
	c, _ := newReal(t, HTTPOptions{HeaderTimeout: 50 * time.Millisecond})
	if _, err := accept(c, srv.URL); !errors.Is(err, flow.ErrOutcomeUnknown) {
		t.Fatalf("got %v", err)
	}
}

func TestConnectionRefusedIsNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, _ := newReal(t, HTTPOptions{})
	if _, err := accept(c, "http://"+addr); !errors.Is(err, flow.ErrNetwork) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v", err)
	}
}

func TestProxyIsUsedForHTTPS(t *testing.T) {
	target := quietTLS(t, acceptHandler(t, acceptOK))
	p := proxytest.Start(t, proxytest.Options{})
	proxyURL, _ := url.Parse(p.URL)
	c, _ := newReal(t, HTTPOptions{CAFile: writeCA(t, target), Proxy: http.ProxyURL(proxyURL)})
	if raw, err := accept(c, target.URL); err != nil || string(raw) != acceptOK {
		t.Fatalf("got %q, %v", raw, err)
	}
	// The accept above returned, so the CONNECT was seen.
	if got := p.Seen(); len(got) != 1 || got[0] != target.Listener.Addr().String() {
		t.Fatalf("proxy saw CONNECT %q", got)
	}
}

// The whole device path over loopback: discovery names a loopback token
// endpoint (the emulator case), the grant runs through x/oauth2 with the
// injected client.
func TestAuthenticateOverLoopback(t *testing.T) {
	mux := http.NewServeMux()
	var base string
	mux.HandleFunc("GET "+PathDiscovery, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"token_endpoint":"`+base+`/oauth/token"}`)
	})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "cid-1" || secret != clientSecret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", ContentTypeJSON)
		_, _ = io.WriteString(w, tokenOK)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL
	c, _ := newReal(t, HTTPOptions{})
	if tok, err := c.Authenticate(context.Background(), srv.URL, creds); err != nil || tok != "at-1" {
		t.Fatalf("got %q, %v", tok, err)
	}
	bad := creds
	bad.ClientSecret = "wrong-secret-value"
	if _, err := c.Authenticate(context.Background(), srv.URL, bad); !errors.Is(err, flow.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("got %v", err)
	}
}
