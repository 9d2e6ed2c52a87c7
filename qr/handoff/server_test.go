package handoff

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

const invitation = "https://enroll.example/accept?token=Zm9vYmFy-ü&org=Acme"

func TestSuccessDeliversOnceAndSpendsTheID(t *testing.T) {
	h := start(t, nil)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/h/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}$`).MatchString(h.s.URL()) {
		t.Fatalf("URL %q", h.s.URL())
	}
	for name, f := range pageFiles {
		path := h.path
		if name != "" {
			path += "/" + name
		}
		resp, err := phone.Get("http://" + h.s.host + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		checkHeaders(t, resp.StatusCode, resp.Header)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != f.ctype {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	body, tag := h.seal(invitation)
	if code, got := h.do(phone, "POST", h.path, body, nil); code != 200 || got != `{"ok":true}` {
		t.Fatalf("POST: %d %q", code, got)
	}
	r := h.result()
	want := Received{Text: invitation, From: "127.0.0.1", Code: codeOf(tag)}
	if r.Err != nil || r.Received != want {
		t.Fatalf("Result %+v, want %+v", r, want)
	}
	h.stopped()
	// Requests that race in after the hand-off: the id is spent.
	if rec := h.direct("POST", h.path, "127.0.0.1", body); rec.Code != http.StatusConflict {
		t.Errorf("second POST: %d", rec.Code)
	}
	if rec := h.direct("GET", h.path, "127.0.0.1", nil); rec.Code != http.StatusConflict || rec.Body.String() != "This link was already used.\n" {
		t.Errorf("GET after use: %d %q", rec.Code, rec.Body.String())
	}
	h.noResult()
}

func TestMatchCode(t *testing.T) {
	for tag, want := range map[string]string{
		"\xff\xff\xff\xff": "967 295", // 4294967295 mod 1e6
		"\x00\x00\x00\x05": "000 005",
		"\x00\x0f\x42\x40": "000 000", // exactly 1000000
		"\x00\x01\xe2\x40": "123 456",
	} {
		tag := []byte(tag + "twelve bytes")
		if got := matchCode(tag); got != want || codeOf(tag[:4]) != want {
			t.Errorf("matchCode(% x) = %q, want %q", tag[:4], got, want)
		}
	}
}

func TestExpiryOnRequest(t *testing.T) {
	h := start(t, nil)
	if !h.s.ExpiresAt().Equal(h.clk.Now().Add(DefaultTTL)) {
		t.Fatalf("ExpiresAt %v", h.s.ExpiresAt())
	}
	h.clk.Advance(DefaultTTL - time.Nanosecond)
	if code, _ := h.do(phone, "GET", h.path, nil, nil); code != 200 {
		t.Fatalf("GET just before expiry: %d", code)
	}
	h.clk.Advance(time.Nanosecond)
	body, _ := h.seal(invitation)
	if code, _ := h.do(phone, "POST", h.path, body, nil); code != http.StatusGone {
		t.Fatalf("POST at expiry: %d", code)
	}
	if r := h.result(); !errors.Is(r.Err, ErrExpired) {
		t.Fatalf("Result %+v", r)
	}
	h.stopped()
}

func TestExpiryTimerWithoutRequests(t *testing.T) {
	h := start(t, func(o *Options) { o.TTL = 3 * time.Minute })
	if d := <-h.clk.asked; d != 3*time.Minute {
		t.Fatalf("timer for %v", d)
	}
	h.noResult()
	h.clk.fire <- h.clk.Now()
	if r := h.result(); !errors.Is(r.Err, ErrExpired) {
		t.Fatalf("Result %+v", r)
	}
	h.stopped()
	if rec := h.direct("GET", h.path, "127.0.0.1", nil); rec.Code != http.StatusGone {
		t.Errorf("GET after expiry: %d", rec.Code)
	}
}

func TestWrongHostIsMisdirected(t *testing.T) {
	h := start(t, nil)
	body, _ := h.seal(invitation)
	_, port, _ := net.SplitHostPort(h.s.host)
	for _, host := range []string{"localhost:" + port, "127.0.0.1", "127.0.0.1:" + port + ".", "rebind.example:" + port, "127.0.0.01:" + port} {
		set := func(r *http.Request) { r.Host = host }
		for _, m := range []string{"GET", "POST"} {
			if code, _ := h.do(phone, m, h.path, body, set); code != http.StatusMisdirectedRequest {
				t.Errorf("%s with Host %q: %d", m, host, code)
			}
		}
	}
	h.noResult()
	if n := h.failures(); n != 0 {
		t.Errorf("wrong Host counted as %d failures", n)
	}
	// Nor did it claim the link for that address.
	if code, _ := h.do(client("127.0.0.2"), "GET", h.path, nil, nil); code != 200 {
		t.Errorf("GET from the real phone afterwards: %d", code)
	}
}

func TestOversizedBody(t *testing.T) {
	h := start(t, nil)
	big := bytes.Repeat([]byte("a"), maxBody+1)
	if code, _ := h.do(phone, "POST", h.path, big, nil); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("POST %d bytes: %d", len(big), code)
	}
	if n := h.failures(); n != 1 {
		t.Errorf("failures = %d", n)
	}
	h.noResult()
}

func TestTamperedCiphertext(t *testing.T) {
	h := start(t, nil)
	body, _ := h.seal(invitation)
	tampered := bytes.Replace(body, []byte(`"ct":"`), []byte(`"ct":"A`), 1)          // shifts every byte
	otherID, _ := sealFor(t, h.key, "AAAAAAAAAAAAAAAAAAAAAA", 1, []byte(invitation)) // replay from another hand-off
	for i, b := range [][]byte{tampered, otherID} {
		if code, _ := h.do(phone, "POST", h.path, b, nil); code != http.StatusBadRequest {
			t.Errorf("body %d: %d", i, code)
		}
	}
	if n := h.failures(); n != 2 {
		t.Errorf("failures = %d", n)
	}
	h.noResult()
	if code, _ := h.do(phone, "POST", h.path, body, nil); code != 200 {
		t.Fatalf("genuine POST after failures: %d", code)
	}
	if r := h.result(); r.Err != nil || r.Received.Text != invitation {
		t.Fatalf("Result %+v", r)
	}
}

func TestTooManyFailuresCloses(t *testing.T) {
	h := start(t, nil)
	good, _ := h.seal(invitation)
	bad := []struct {
		ctype, body string
	}{
		{"application/json", `not json`},
		{"application/json", `{"v":1,"nonce":"AAAAAAAAAAAAAAAA","ct":"***"}`},            // bad base64
		{"application/json", `{"v":1,"nonce":"AAAAAAAAAAAAAA","ct":"` + fill(24) + `"}`}, // 10-byte nonce
		{"application/json", `{"v":2,"nonce":"AAAAAAAAAAAAAAAA","ct":"` + fill(24) + `"}`},
		{"text/plain", string(good)},
	}
	for i, b := range bad {
		want := http.StatusBadRequest
		if b.ctype != "application/json" {
			want = http.StatusUnsupportedMediaType
		}
		set := func(r *http.Request) { r.Header.Set("Content-Type", b.ctype) }
		if code, _ := h.do(phone, "POST", h.path, []byte(b.body), set); code != want {
			t.Errorf("bad body %d: %d, want %d", i, code, want)
		}
		if i < len(bad)-1 {
			h.noResult()
		}
	}
	if r := h.result(); !errors.Is(r.Err, ErrTooManyFailures) {
		t.Fatalf("Result %+v", r)
	}
	h.stopped()
	for _, m := range []string{"GET", "POST"} {
		if rec := h.direct(m, h.path, "127.0.0.1", good); rec.Code != http.StatusForbidden {
			t.Errorf("%s after closing: %d", m, rec.Code)
		}
	}
	h.noResult()
}

func TestSecondPhoneIsRefused(t *testing.T) {
	h := start(t, nil)
	other := client("127.0.0.2")
	if code, _ := h.do(phone, "GET", h.path, nil, nil); code != 200 {
		t.Fatalf("first phone GET: %d", code)
	}
	body, _ := h.seal("https://attacker.example/accept?token=x")
	for _, m := range []string{"GET", "POST"} {
		if code, _ := h.do(other, m, h.path, body, nil); code != http.StatusForbidden {
			t.Errorf("second phone %s: %d", m, code)
		}
	}
	if code, _ := h.do(other, "GET", h.path+"/app.js", nil, nil); code != http.StatusForbidden {
		t.Errorf("second phone GET app.js: %d", code)
	}
	h.noResult()
	if n := h.failures(); n != 0 {
		t.Errorf("second phone counted as %d failures", n)
	}
	body, _ = h.seal(invitation)
	if code, _ := h.do(phone, "POST", h.path, body, nil); code != 200 {
		t.Fatalf("first phone POST: %d", code)
	}
	if r := h.result(); r.Err != nil || r.Received.Text != invitation || r.Received.From != "127.0.0.1" {
		t.Fatalf("Result %+v", r)
	}
}

// Concurrent genuine submissions: exactly one wins, whatever the others see.
func TestConcurrentSubmissionsDeliverOnce(t *testing.T) {
	h := start(t, nil)
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for range 8 {
		body, _ := h.seal(invitation)
		wg.Go(func() {
			req, _ := http.NewRequest("POST", "http://"+h.s.host+h.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if resp, err := phone.Do(req); err == nil { // the others may find the port closed
				resp.Body.Close()
				codes <- resp.StatusCode
			}
		})
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		switch c {
		case 200:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", c)
		}
	}
	if r := h.result(); ok != 1 || r.Err != nil {
		t.Fatalf("%d successes, Result %+v", ok, r)
	}
	h.noResult()
}

func fill(n int) string { return string(bytes.Repeat([]byte("A"), n)) }
