package main

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"enroll/api/emulator"
)

// The fault matrix's service: the emulator behind a front that can answer
// for it once. The emulator's own faults (FailNext, SetDown) cover statuses,
// delays and dropped connections; the front adds what they cannot: an
// accept the emulator really committed whose answer then arrives broken,
// cut short or oversized, and a request held until the test lets it go.

type service struct {
	t   *testing.T
	emu *emulator.Emulator
	srv *httptest.Server
	URL string

	mu     sync.Mutex
	once   map[string]frontFunc // path → interceptor for the next request
	tokens []string             // every invitation token made here
	// dateOffset moves the Date header of every answer: a server whose
	// clock, or a device whose clock, is off.
	dateOffset time.Duration
}

// frontFunc answers one request; next is the emulator.
type frontFunc func(w http.ResponseWriter, r *http.Request, next http.Handler)

type svcOpts struct {
	tls  bool
	cert *tls.Certificate // served instead of httptest's own
	base string           // the emulator's base URL (its links) when not the server's
}

func newService(t *testing.T, o svcOpts) *service {
	t.Helper()
	s := &service{t: t, emu: emulator.New(emulator.Options{}), once: map[string]frontFunc{}}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the untrusted rows fail on purpose
	if o.tls {
		if o.cert != nil {
			s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*o.cert}}
		}
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	if o.base == "" {
		o.base = s.URL
	}
	s.emu.SetBaseURL(o.base)
	return s
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.once[r.URL.Path]
	delete(s.once, r.URL.Path)
	off := s.dateOffset
	s.mu.Unlock()
	if off != 0 {
		w.Header().Set("Date", time.Now().Add(off).UTC().Format(http.TimeFormat))
	}
	if f != nil {
		f(w, r, s.emu)
		return
	}
	s.emu.ServeHTTP(w, r)
}

// front makes f answer the next request for path.
func (s *service) front(path string, f frontFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.once[path] = f
}

func (s *service) invite(spec emulator.InvitationSpec) emulator.Invitation {
	s.t.Helper()
	if spec.Groups == nil {
		spec.Groups = []string{emulator.GroupKiosks}
	}
	inv, err := s.emu.CreateInvitation(spec)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.tokens = append(s.tokens, inv.Token)
	s.mu.Unlock()
	return inv
}

// secrets are what must never be printed: every invitation token made here
// and every client secret the emulator issued.
func (s *service) secrets() []string {
	s.mu.Lock()
	out := append([]string{}, s.tokens...)
	s.mu.Unlock()
	for _, c := range s.emu.Clients() {
		out = append(out, c.ClientSecret)
	}
	return out
}

// committedThen lets the emulator handle the request (an accept does
// accept), then sends change(its answer) instead, returning what was sent.
func committedThen(change func(body []byte) []byte, sent *[]byte) frontFunc {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := change(rec.Body.Bytes())
		*sent = body
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}
}

// committedThenCut lets the emulator commit, announces its whole answer and
// sends n bytes of it before closing the connection.
func committedThenCut(n int, sent *[]byte) frontFunc {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		*sent = body[:n]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:n])
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		if conn, _, err := rc.Hijack(); err == nil {
			conn.Close()
		}
	}
}

// answer sends a fixed answer without involving the emulator.
func answer(status int, header http.Header, body string) frontFunc {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hangs never answers: it waits until the client gives up.
func hangs(w http.ResponseWriter, r *http.Request, _ http.Handler) {
	readBody(r)
	select {
	case <-r.Context().Done():
	case <-time.After(hangGuard):
	}
}

// readBody reads the request body ahead and puts it back: only once the
// body is read does the server notice a client that hangs up (and cancel
// the request's context).
func readBody(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
}

// hold is a request kept waiting at the front until released.
type hold struct{ arrived, release chan struct{} }

func (s *service) holdNext(path string) *hold {
	h := &hold{arrived: make(chan struct{}), release: make(chan struct{})}
	s.front(path, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		readBody(r)
		close(h.arrived)
		select {
		case <-h.release:
		case <-r.Context().Done():
			return
		case <-time.After(hangGuard):
		}
		next.ServeHTTP(w, r)
	})
	return h
}

func (h *hold) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.arrived:
	case <-time.After(hangGuard):
		t.Fatalf("the request never arrived (hang guard %v)", hangGuard)
	}
}

// writeCert writes a server's certificate as a PEM CA file.
func writeCert(t *testing.T, raw []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
