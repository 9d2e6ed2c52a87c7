// Package handoff is the device side of the phone hand-off (DESIGN §6): a
// one-time HTTP server on the local network that serves a small page at
// http://<ip>:<port>/h/<id>#<key>. The phone seals the invitation with
// ChaCha20-Poly1305 under the key from the URL fragment, which browsers never
// send, and posts it back; the device opens it and hands it to the wizard
// once, with a six-digit code derived from the tag that the page also shows,
// so the operator can tell that the phone in their hand is the one that
// answered.
//
// The server is single use. It delivers exactly one Result on Done, then
// stops listening: after a good submission, after too many failed attempts,
// at expiry, or on Close. Requests that race in while it stops get:
//
//	421  Host is not the advertised IP:port (DNS rebinding)
//	404  any path but /h/<id> and its files (app.js, seal.mjs, style.css,
//	     vendor/noble-ciphers/*.js); same body for all
//	405  a method other than GET, or POST on /h/<id>
//	409  the id was spent by a good submission
//	403  too many failed attempts; or a second phone (another remote IP)
//	410  expired (or closed)
//	415, 413, 400  a bad submission (type, size, content): a failed attempt
//	200  the page files; or {"ok":true} for the submission that was taken
//
// The phone is the first remote IP that requests the id. NAT can put two
// phones behind one address; the matching code covers that case.
package handoff

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Errors carried by Result.Err.
var (
	ErrExpired         = errors.New("handoff: the link expired before a phone sent the invitation")
	ErrTooManyFailures = errors.New("handoff: too many failed attempts; the hand-off was closed")
	ErrClosed          = errors.New("handoff: closed")
)

// Defaults for Options.
const (
	DefaultTTL         = 10 * time.Minute
	DefaultMaxFailures = 5
)

// Options configures Start. The zero value is a real run: the LAN address of
// the default route, a random port, ten minutes, five failed attempts.
type Options struct {
	// Listen is "IP", "IP:PORT" or "" (the LAN address of the default route,
	// random port). It must be an IP literal: the phone reaches the device by
	// that address, and the Host header is checked against it.
	Listen string
	// TTL is how long the link is valid (default 10 minutes).
	TTL time.Duration
	// MaxFailures is how many bad submissions close the server (default 5).
	MaxFailures int
	// Now is the clock for the expiry time and for the check made on every
	// request (default time.Now).
	Now func() time.Time
	// After starts the expiry timer, so that expiry is reported even if no
	// request ever arrives (default time.After). Whichever comes first, the
	// timer or a request that finds Now past ExpiresAt, expires the server;
	// tests drive both without sleeping.
	After func(time.Duration) <-chan time.Time
	// Rand is the source of the id and key (default crypto/rand).
	Rand io.Reader
}

// Received is what the phone sent.
type Received struct {
	Text string // the invitation exactly as sealed by the page, valid UTF-8
	From string // the phone's IP address as seen by the device
	Code string // the matching code, "123 456", that the page shows too
}

// Result is the single outcome of a hand-off: Received when Err is nil.
type Result struct {
	Received Received
	Err      error // nil, ErrExpired, ErrTooManyFailures or ErrClosed
}

type state int

const (
	stOpen    state = iota
	stSpent         // an invitation was received; later requests get 409
	stFailed        // too many failed attempts; later requests get 403
	stExpired       // later requests get 410
	stClosed        // Close was called; later requests get 410
)

// Limits and timeouts. The timeouts keep a slow or stalled client from
// holding a connection open on a kiosk for long; a phone on Wi-Fi sends a
// few hundred bytes.
const (
	maxBody           = 16 << 10
	maxText           = 4096
	maxHeaderBytes    = 4 << 10
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 30 * time.Second
	shutdownGrace     = 5 * time.Second
	aadPrefix         = "enroll-handoff-v1:"
)

// Server is a running hand-off. Its methods are safe for concurrent use.
type Server struct {
	id      string // base64url, 22 characters
	aead    cipher.AEAD
	host    string // authority as in the URL; the Host header must equal it
	url     string
	expires time.Time
	now     func() time.Time
	maxFail int
	page    map[string]asset

	srv    *http.Server
	served chan struct{} // closed when Serve has returned: the listener is gone
	done   chan Result   // buffered 1; exactly one Result is ever sent
	quit   chan struct{} // closed with the Result; stops the expiry timer

	mu       sync.Mutex
	state    state
	failures int
	phone    string // remote IP of the first phone; "" until then

	closeOnce sync.Once
}

// Start listens and serves the hand-off page until a Result is delivered or
// Close is called.
func Start(o Options) (*Server, error) {
	if o.TTL < 0 || o.MaxFailures < 0 {
		return nil, errors.New("handoff: TTL and MaxFailures must not be negative")
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.MaxFailures == 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	secret := make([]byte, 16+chacha20poly1305.KeySize)
	if _, err := io.ReadFull(o.Rand, secret); err != nil {
		return nil, fmt.Errorf("handoff: random id and key: %w", err)
	}
	idBytes, key := secret[:16], secret[16:]
	id := base64.RawURLEncoding.EncodeToString(idBytes)
	page, err := loadPage(id)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	addr, err := listenAddress(o.Listen)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("handoff: listen on %s: %w (choose another address with --handoff-listen)", addr, err)
	}
	s := &Server{
		id:      id,
		aead:    aead,
		host:    authority(ln.Addr().(*net.TCPAddr)),
		expires: o.Now().Add(o.TTL),
		now:     o.Now,
		maxFail: o.MaxFailures,
		page:    page,
		served:  make(chan struct{}),
		done:    make(chan Result, 1),
		quit:    make(chan struct{}),
	}
	s.url = "http://" + s.host + "/h/" + s.id + "#" + base64.RawURLEncoding.EncodeToString(key)
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// net/http logs odd clients to stderr, which would scribble over the
		// wizard's full-screen terminal; nothing it logs is actionable here.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	timer := o.After(o.TTL)
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // always ErrServerClosed, or an accept error after which nothing can be served
	}()
	go func() {
		select {
		case <-timer:
			s.finish(stExpired, Result{Err: ErrExpired})
		case <-s.quit:
		}
	}()
	return s, nil
}

// URL is the link to show as a QR code, with the key in the fragment.
func (s *Server) URL() string { return s.url }

// ExpiresAt is when the link stops working, by the Options.Now clock.
func (s *Server) ExpiresAt() time.Time { return s.expires }

// Done delivers exactly one Result. The channel is never closed, so a second
// receive blocks instead of yielding a zero Result that looks like success.
func (s *Server) Done() <-chan Result { return s.done }

// Close stops listening at once and drops open connections. If no Result was
// delivered yet, Done gets ErrClosed. It is idempotent and always returns nil.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.end(stClosed) {
			s.done <- Result{Err: ErrClosed}
			close(s.quit)
		}
		_ = s.srv.Close() // errors only say a listener was already closed by a shutdown
		<-s.served
	})
	return nil
}

// end moves the server out of stOpen; only the caller that gets true may
// deliver the Result, which is what makes it exactly one.
func (s *Server) end(st state) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stOpen {
		return false
	}
	s.state = st
	return true
}

// finish ends the server with r, if it is still open.
func (s *Server) finish(st state, r Result) {
	if s.end(st) {
		s.deliver(r)
	}
}

// deliver sends the Result and stops listening. Shutdown is graceful so that
// the response being written (the 200 to the phone) still goes out; it is
// bounded so that a stalled client cannot keep the port open.
func (s *Server) deliver(r Result) {
	s.done <- r
	close(s.quit)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if s.srv.Shutdown(ctx) != nil {
			_ = s.srv.Close()
		}
	}()
}
