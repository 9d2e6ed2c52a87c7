package handoff

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// hang guards only: nothing in these tests waits on real time otherwise.
const guard = 10 * time.Second

// fakeClock drives expiry without sleeping: Now is moved by hand, and the
// expiry timer fires when the test sends on fire.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	fire  chan time.Time
	asked chan time.Duration
}

func newClock() *fakeClock {
	return &fakeClock{
		now:   time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		fire:  make(chan time.Time, 1),
		asked: make(chan time.Duration, 1),
	}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.asked <- d
	return c.fire
}

// harness is one server bound to loopback, with the phone's side of it.
type harness struct {
	t    *testing.T
	s    *Server
	clk  *fakeClock
	id   string
	key  []byte
	path string // /h/<id>
}

func start(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	clk := newClock()
	o := Options{Listen: "127.0.0.1:0", Now: clk.Now, After: clk.After}
	if mod != nil {
		mod(&o)
	}
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.RawURLEncoding.DecodeString(u.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, s: s, clk: clk, id: strings.TrimPrefix(u.Path, "/h/"), key: key, path: u.Path}
}

// client connects from the given loopback address: Linux routes all of
// 127/8 to loopback, so 127.0.0.2 is a second phone without a second host.
func client(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: guard}
	return &http.Client{
		Timeout: guard,
		Transport: &http.Transport{
			Proxy:             nil, // never send loopback test traffic to a proxy
			DialContext:       d.DialContext,
			DisableKeepAlives: true,
		},
	}
}

var phone = client("127.0.0.1")

// do sends one request and checks the security headers on its response.
func (h *harness) do(c *http.Client, method, path string, body []byte, mod func(*http.Request)) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, "http://"+h.s.host+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if mod != nil {
		mod(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkHeaders(h.t, resp.StatusCode, resp.Header)
	return resp.StatusCode, string(b)
}

// direct calls the handler without the network, for requests that could
// only race in after the server has stopped listening.
func (h *harness) direct(method, path, from string, body []byte) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(method, "http://"+h.s.host+path, bytes.NewReader(body))
	req.RemoteAddr = net.JoinHostPort(from, "40000")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.s.ServeHTTP(rec, req)
	checkHeaders(h.t, rec.Code, rec.Header())
	return rec
}

func checkHeaders(t *testing.T, status int, hd http.Header) {
	t.Helper()
	for _, want := range securityHeaders {
		if got := hd.Get(want[0]); got != want[1] {
			t.Errorf("status %d: %s = %q, want %q", status, want[0], got, want[1])
		}
	}
}

// seal plays the page: it seals text under the key from the URL fragment.
func (h *harness) seal(text string) (body, tag []byte) {
	return sealFor(h.t, h.key, h.id, 1, []byte(text))
}

// sealRaw seals any bytes, in an envelope of any version, as a page that
// does not keep to the protocol would.
func (h *harness) sealRaw(v int, pt []byte) []byte {
	body, _ := sealFor(h.t, h.key, h.id, v, pt)
	return body
}

func sealFor(t *testing.T, key []byte, id string, v int, pt []byte) (body, tag []byte) {
	t.Helper()
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, chacha20poly1305.NonceSize)
	_, _ = rand.Read(nonce)
	ct := aead.Seal(nil, nonce, pt, []byte("enroll-handoff-v1:"+id))
	return sealedJSON(t, v, nonce, ct), ct[len(ct)-16:]
}

func sealedJSON(t *testing.T, v int, nonce, ct []byte) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"v":     v,
		"nonce": base64.RawURLEncoding.EncodeToString(nonce),
		"ct":    base64.RawURLEncoding.EncodeToString(ct),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// codeOf is the matching-code derivation written out independently of
// matchCode, as the protocol states it.
func codeOf(tag []byte) string {
	n := binary.BigEndian.Uint32(tag) % 1000000
	s := fmt.Sprintf("%06d", n)
	return s[:3] + " " + s[3:]
}

func (h *harness) result() Result {
	h.t.Helper()
	select {
	case r := <-h.s.Done():
		return r
	case <-time.After(guard):
		h.t.Fatal("no Result")
		return Result{}
	}
}

func (h *harness) noResult() {
	h.t.Helper()
	select {
	case r := <-h.s.Done():
		h.t.Fatalf("unexpected Result %+v", r)
	default:
	}
}

// stopped waits until the listener is gone and checks that a dial fails.
func (h *harness) stopped() {
	h.t.Helper()
	select {
	case <-h.s.served:
	case <-time.After(guard):
		h.t.Fatal("server still listening")
	}
	if c, err := net.DialTimeout("tcp", h.s.host, guard); err == nil {
		c.Close()
		h.t.Fatalf("dial %s succeeded after the server stopped", h.s.host)
	}
}

func (h *harness) failures() int {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.failures
}
