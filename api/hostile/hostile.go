// Package hostile is a misbehaving 10Duke service on loopback, for tests.
// Where net/http's server is too well-behaved to misbehave enough, it
// answers on the raw connection: a protocol switch followed by a trickle,
// headers that never end, broken chunking, a reset after the request was
// read, a status line of garbage. Each route is a Handler that gets the
// connection and the request it carried; the server records every request
// (method, path, headers, body) so a test can prove what was, or was not,
// sent to it.
package hostile

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one request as the server read it.
type Request struct {
	Method, Path, Host string
	Header             http.Header
	Body               []byte
}

// Handler answers one request by writing to c. The connection is closed
// when it returns.
type Handler func(c *Conn, r *Request)

// Conn is one accepted connection. Done closes when the server does, so
// that a handler that hangs or trickles ends with the test.
type Conn struct {
	net.Conn
	Done <-chan struct{}
}

// Routes maps "METHOD /path" to a handler; a request without a route is
// answered 404 with an RFC 6749 error body.
type Routes map[string]Handler

// Server is one hostile service.
type Server struct {
	URL string // http://127.0.0.1:PORT

	ln     net.Listener
	routes Routes
	done   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	reqs     []Request
	conns    map[net.Conn]bool
	accepted int
	silent   bool
}

// maxBody is the most of a request body the server reads; enroll's
// requests are a few hundred bytes.
const maxBody = 64 << 10

// Start serves routes on a loopback port until Close; SetRoutes may
// replace them (with answers that name the server's own URL, say).
func Start(routes Routes) (*Server, error) { return start(routes, false) }

func start(routes Routes, silent bool) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln, routes: routes, silent: silent, done: make(chan struct{}), conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// SetRoutes replaces the routes for the requests that follow.
func (s *Server) SetRoutes(r Routes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes = r
}

// Conns is how many connections the server has accepted.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Requests returns what the server has read so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Close stops the server, ends every handler and closes every connection.
func (s *Server) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.accepted++
		s.mu.Unlock()
		s.wg.Add(1)
		go s.handle(c)
	}
}

func (s *Server) handle(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		nc.Close()
	}()
	c := &Conn{Conn: nc, Done: s.done}
	if s.silent { // not even a TLS handshake
		<-s.done
		return
	}
	hr, err := http.ReadRequest(bufio.NewReader(nc))
	if err != nil {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(hr.Body, maxBody))
	r := &Request{Method: hr.Method, Path: hr.URL.Path, Host: hr.Host, Header: hr.Header, Body: body}
	s.mu.Lock()
	s.reqs = append(s.reqs, *r)
	s.mu.Unlock()
	s.mu.Lock()
	h, ok := s.routes[r.Method+" "+r.Path]
	s.mu.Unlock()
	if !ok {
		h = JSON(http.StatusNotFound, `{"error":"not_found"}`)
	}
	h(c, r)
}

// Silent accepts connections and never says anything: an https URL to it
// stalls in the TLS handshake, an http one waits for a status line.
func Silent() (*Server, error) { return start(nil, true) }

// pause waits d, or less if the server closes; it reports whether to go on.
func (c *Conn) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.Done:
		return false
	case <-t.C:
		return true
	}
}

// Respond writes a complete answer with a Content-Length.
func Respond(status int, header http.Header, body string) Handler {
	return func(c *Conn, _ *Request) { writeAnswer(c, status, header, body) }
}

// JSON answers status with a JSON body.
func JSON(status int, body string) Handler {
	return Respond(status, http.Header{"Content-Type": {"application/json"}}, body)
}

func writeAnswer(w io.Writer, status int, header http.Header, body string) {
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + statusLine(status) + "\r\n")
	for k, vs := range header {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	if header.Get("Content-Length") == "" && header.Get("Transfer-Encoding") == "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n" + body)
	_, _ = io.WriteString(w, b.String())
}

func statusLine(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }

// Raw writes bytes as they are, then closes.
func Raw(data string) Handler {
	return func(c *Conn, _ *Request) { _, _ = io.WriteString(c, data) }
}

// Hang reads the request and never answers.
func Hang() Handler {
	return func(c *Conn, _ *Request) { <-c.Done }
}

// Trickle writes head, then one byte of drip every interval, forever: a
// status line and headers that never end, a protocol switch that keeps
// talking, a body that never finishes.
func Trickle(head, drip string, every time.Duration) Handler {
	return func(c *Conn, _ *Request) {
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		for i := 0; c.pause(every); i++ {
			if _, err := io.WriteString(c, drip[i%len(drip):i%len(drip)+1]); err != nil {
				return
			}
		}
	}
}

// Reset closes the connection with a TCP reset once the request is read:
// the request was delivered, no answer comes.
func Reset() Handler {
	return func(c *Conn, _ *Request) {
		if tc, ok := c.Conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // the close that follows sends RST
		}
	}
}

// Echo answers status with the request written back into body: {{body}}
// is replaced by the request body, {{auth}} by its Authorization header,
// each passed through quote first (JSON string escaping, say, or none).
func Echo(status int, contentType, body string, quote func(string) string) Handler {
	return func(c *Conn, r *Request) {
		text := strings.NewReplacer("{{body}}", quote(string(r.Body)), "{{auth}}", quote(r.Header.Get("Authorization"))).Replace(body)
		writeAnswer(c, status, http.Header{"Content-Type": {contentType}}, text)
	}
}

// Sequence answers the n-th request on its route with the n-th handler,
// and later ones with the last.
func Sequence(hs ...Handler) Handler {
	var mu sync.Mutex
	n := 0
	return func(c *Conn, r *Request) {
		mu.Lock()
		h := hs[min(n, len(hs)-1)]
		n++
		mu.Unlock()
		h(c, r)
	}
}
