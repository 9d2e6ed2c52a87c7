package handoff

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
)

// securityHeaders go on every response the handler writes, errors included:
// nothing may be cached (the page is single use), no Referer may carry the
// path anywhere, and the page may load nothing but its own files.
var securityHeaders = [][2]string{
	{"Cache-Control", "no-store"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Content-Type-Options", "nosniff"},
	{"Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
	{"X-Frame-Options", "DENY"},
}

// ServeHTTP checks, in this order: Host (421), path and id (404), method
// (405), state (409/403/410), phone (403); then serves the page or takes the
// submission. Requests refused before the state check touch no state, so a
// stranger on the network cannot use up the failed attempts or claim the
// link: only a request that names the id, from the phone's address, can.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, h := range securityHeaders {
		w.Header().Set(h[0], h[1])
	}
	// A DNS-rebinding page reaches us under its own host name; the phone
	// uses the IP literal from the QR code.
	if r.Host != s.host {
		reply(w, http.StatusMisdirectedRequest, "Misdirected request.")
		return
	}
	name, ok := s.route(r.URL.Path)
	if !ok {
		reply(w, http.StatusNotFound, "Not found.")
		return
	}
	if r.Method != http.MethodGet && (r.Method != http.MethodPost || name != "") {
		allow := "GET"
		if name == "" {
			allow = "GET, POST"
		}
		w.Header().Set("Allow", allow)
		reply(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	ip := remoteIP(r.RemoteAddr)
	if !s.admit(w, ip) {
		return
	}
	if r.Method == http.MethodPost {
		s.receive(w, ip, r)
		return
	}
	a := s.page[name]
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
}

// route returns the page file named by path, or false for anything that is
// not exactly /h/<id> or /h/<id>/<file>. The id is compared in constant time
// so that response timing does not tell how much of a guess was right.
func (s *Server) route(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/h/")
	if !ok {
		return "", false
	}
	id, name, sub := strings.Cut(rest, "/")
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.id)) != 1 {
		return "", false
	}
	if sub && name == "" { // "/h/<id>/" is not the page
		return "", false
	}
	if _, ok := s.page[name]; !ok {
		return "", false
	}
	return name, true
}

// admit expires the server if its time is up, refuses requests once it has
// ended, and binds it to the first phone's address. NAT can put two phones
// behind one address; the matching code the operator compares covers that.
func (s *Server) admit(w http.ResponseWriter, ip string) bool {
	if !s.now().Before(s.expires) {
		s.finish(stExpired, Result{Err: ErrExpired})
	}
	s.mu.Lock()
	st, other := s.state, false
	if st == stOpen {
		if s.phone == "" {
			s.phone = ip
		}
		other = s.phone != ip
	}
	s.mu.Unlock()
	switch {
	case st != stOpen:
		refuse(w, st)
		return false
	case other:
		reply(w, http.StatusForbidden, "This link is already open on another device.")
		return false
	}
	return true
}

// receive opens a submission. Every rejection counts as a failed attempt:
// only the phone that holds the id gets this far, and a real page never
// sends anything malformed.
func (s *Server) receive(w http.ResponseWriter, ip string, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.fail(w, http.StatusUnsupportedMediaType, "Expected application/json.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			s.fail(w, http.StatusRequestEntityTooLarge, "Too large.")
			return
		}
		s.fail(w, http.StatusBadRequest, "Bad request.")
		return
	}
	text, tag, err := s.open(body)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "Bad request.")
		return
	}
	if !s.end(stSpent) { // a concurrent request ended it first
		refuse(w, s.current())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"ok":true}`)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	s.deliver(Result{Received: Received{Text: text, From: ip, Code: matchCode(tag)}})
}

// fail answers a bad submission and closes the server for good on the
// MaxFailures-th one, so the key cannot be probed at leisure.
func (s *Server) fail(w http.ResponseWriter, status int, msg string) {
	s.mu.Lock()
	st, closing := s.state, false
	if st == stOpen {
		s.failures++
		if s.failures >= s.maxFail {
			s.state, closing = stFailed, true
		}
	}
	s.mu.Unlock()
	if st != stOpen {
		refuse(w, st)
		return
	}
	reply(w, status, msg)
	if closing {
		s.deliver(Result{Err: ErrTooManyFailures})
	}
}

func (s *Server) current() state {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// sealed is the body the page posts.
type sealed struct {
	V     int    `json:"v"`
	Nonce string `json:"nonce"`
	CT    string `json:"ct"` // ciphertext || 16-byte tag
}

var errBadSubmission = errors.New("handoff: bad submission")

// open decodes and authenticates a submission. The AAD binds the ciphertext
// to this id, so a sealed body from another hand-off cannot be replayed here.
func (s *Server) open(body []byte) (text string, tag []byte, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var m sealed
	if err := dec.Decode(&m); err != nil || m.V != 1 {
		return "", nil, errBadSubmission
	}
	if _, err := dec.Token(); err != io.EOF { // one JSON value, nothing after it
		return "", nil, errBadSubmission
	}
	nonce, err1 := unb64(m.Nonce)
	ct, err2 := unb64(m.CT)
	if err1 != nil || err2 != nil || len(nonce) != chacha20poly1305.NonceSize ||
		len(ct) < chacha20poly1305.Overhead || len(ct) > maxText+chacha20poly1305.Overhead {
		return "", nil, errBadSubmission
	}
	pt, err := s.aead.Open(nil, nonce, ct, []byte(aadPrefix+s.id))
	if err != nil || len(pt) == 0 || !utf8.Valid(pt) {
		return "", nil, errBadSubmission
	}
	return string(pt), ct[len(ct)-chacha20poly1305.Overhead:], nil
}

// unb64 decodes base64url; padding is tolerated since it carries nothing.
func unb64(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(strings.TrimRight(s, "="))
}

// matchCode is the code both sides show: the tag's first four bytes as a
// big-endian number, mod one million, as "123 456". It depends on the key,
// nonce and text, so a phone that shows the same code sent this invitation.
func matchCode(tag []byte) string {
	n := binary.BigEndian.Uint32(tag[:4]) % 1000000
	return fmt.Sprintf("%03d %03d", n/1000, n%1000)
}

// refuse answers a request that arrives after the server has ended.
func refuse(w http.ResponseWriter, st state) {
	switch st {
	case stSpent:
		reply(w, http.StatusConflict, "This link was already used.")
	case stFailed:
		reply(w, http.StatusForbidden, "Too many failed attempts; this link was closed.")
	default: // stExpired, stClosed
		reply(w, http.StatusGone, "This link has expired.")
	}
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

func remoteIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}
