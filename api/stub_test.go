package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"
)

// A gh-style stub registry: tests register (method, path) → responder; an
// unregistered request fails the test, and so does a stub that was not used
// as many times as registered (checked in t.Cleanup). Stubs are used in
// registration order, so a sequence (503, 503, 200) is three registrations.

type responder func(*http.Request) (*http.Response, error)

type stub struct {
	method, path string
	respond      responder
	times, used  int
}

// Times makes the stub answer n requests instead of one.
func (s *stub) Times(n int) *stub { s.times = n; return s }

type recorded struct {
	Method, Host, Path string
	Header             http.Header
	Body               []byte
}

type stubRegistry struct {
	t        testing.TB
	mu       sync.Mutex
	stubs    []*stub
	requests []recorded
}

func newRegistry(t testing.TB) *stubRegistry {
	r := &stubRegistry{t: t}
	t.Cleanup(r.verify)
	return r
}

func (r *stubRegistry) Register(method, path string, resp responder) *stub {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &stub{method: method, path: path, respond: resp, times: 1}
	r.stubs = append(r.stubs, s)
	return s
}

func (r *stubRegistry) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	path := req.URL.EscapedPath()
	r.mu.Lock()
	r.requests = append(r.requests, recorded{req.Method, req.URL.Host, path, req.Header.Clone(), body})
	var match *stub
	for _, s := range r.stubs {
		if s.used < s.times && s.method == req.Method && s.path == path {
			s.used++
			match = s
			break
		}
	}
	r.mu.Unlock()
	if match == nil {
		r.t.Errorf("unregistered request: %s %s", req.Method, path)
		return nil, fmt.Errorf("stub: no stub for %s %s", req.Method, path)
	}
	resp, err := match.respond(req)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

func (r *stubRegistry) Requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
}

func (r *stubRegistry) verify() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.stubs {
		if s.used < s.times {
			r.t.Errorf("stub %s %s used %d of %d times", s.method, s.path, s.used, s.times)
		}
	}
}

// respond builds a response with a body and header pairs.
func respond(status int, body string, header ...string) responder {
	return func(req *http.Request) (*http.Response, error) {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{
			StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		}, nil
	}
}

func jsonResp(status int, body string, header ...string) responder {
	return respond(status, body, append([]string{"Content-Type", "application/json"}, header...)...)
}

// failBeforeWrite is a transport error where nothing was sent (DNS, refused).
func failBeforeWrite(err error) responder {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

// failAfterWrite reports the request as written, then fails, as a reset
// connection or a header timeout does.
func failAfterWrite(err error) responder {
	return func(req *http.Request) (*http.Response, error) {
		if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteRequest != nil {
			tr.WroteRequest(httptrace.WroteRequestInfo{})
		}
		return nil, err
	}
}

const stubServer = "https://enroll.test"

// stubClient is a Client over the registry, behind the same guard as the
// real client, with recorded sleeps and jitter fixed at its maximum.
type stubEnv struct {
	c      *Client
	reg    *stubRegistry
	mu     sync.Mutex
	sleeps []time.Duration
}

func newStubEnv(t testing.TB) *stubEnv {
	e := &stubEnv{reg: newRegistry(t)}
	hc := &http.Client{Transport: &guard{base: e.reg}, CheckRedirect: checkRedirect}
	e.c = New(Options{
		HTTP: hc,
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.sleeps = append(e.sleeps, d)
			return ctx.Err()
		},
		Rand: func() float64 { return 1 },
	})
	return e
}

func (e *stubEnv) Sleeps() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Duration(nil), e.sleeps...)
}
