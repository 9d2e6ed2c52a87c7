package handoff

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

func TestPageHasTheIDFilledIn(t *testing.T) {
	h := start(t, nil)
	code, body := h.do(phone, "GET", h.path, nil, nil)
	if code != 200 || strings.Contains(body, idPlaceholder) || !strings.Contains(body, "/h/"+h.id+"/app.js") {
		t.Fatalf("GET page: %d, placeholder left or id missing", code)
	}
}

func TestUnknownPathsAreNotFound(t *testing.T) {
	h := start(t, nil)
	other := client("127.0.0.2")
	wrongID := strings.Repeat("A", 22)
	if wrongID == h.id {
		t.Skip("the random id is all A")
	}
	paths := []string{
		"/", "/h", "/h/", "/h/" + wrongID, "/h/" + wrongID + "/app.js",
		"/h/" + h.id[:21], "/h/" + h.id + "x", "/h/" + h.id + "/", "/h/" + h.id + "/index.html",
		"/h/" + h.id + "/page/app.js", "/h/" + h.id + "/app.js/", "/h/" + h.id + "//app.js",
		"/h/" + h.id + "/../" + h.id, "/favicon.ico", "/H/" + h.id,
		// The vendored library: its modules only, at their one path.
		"/h/" + h.id + "/vendor/noble-ciphers/", "/h/" + h.id + "/vendor/noble-ciphers/LICENSE",
		"/h/" + h.id + "/vendor/noble-ciphers/package.json", "/h/" + h.id + "/chacha.js",
		"/h/" + h.id + "/vendor/chacha.js", "/h/" + h.id + "/vendor/noble-ciphers/../../app.js",
		"/h/" + h.id + "/page/vendor/noble-ciphers/chacha.js", "/h/" + wrongID + "/vendor/noble-ciphers/chacha.js",
	}
	body, _ := h.seal(invitation)
	for _, p := range paths {
		for _, m := range []string{"GET", "POST", "PUT"} {
			// From the second address: none of this may claim the link.
			code, got := h.do(other, m, p, body, nil)
			if code != http.StatusNotFound || got != "Not found.\n" {
				t.Errorf("%s %s: %d %q", m, p, code, got)
			}
		}
	}
	h.noResult()
	if n := h.failures(); n != 0 {
		t.Errorf("unknown paths counted as %d failures", n)
	}
	if code, _ := h.do(phone, "GET", h.path, nil, nil); code != 200 {
		t.Errorf("GET from the phone afterwards: %d", code)
	}
}

func TestOtherMethods(t *testing.T) {
	h := start(t, nil)
	for _, m := range []string{"HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"} {
		for path, allow := range map[string]string{h.path: "GET, POST", h.path + "/app.js": "GET"} {
			req, _ := http.NewRequest(m, "http://"+h.s.host+path, nil)
			resp, err := phone.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			checkHeaders(t, resp.StatusCode, resp.Header)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != allow {
				t.Errorf("%s %s: %d Allow %q", m, path, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	}
	if code, _ := h.do(phone, "POST", h.path+"/seal.mjs", nil, nil); code != http.StatusMethodNotAllowed {
		t.Errorf("POST seal.mjs: %d", code)
	}
	h.noResult()
}

func TestCloseStopsListeningAtOnce(t *testing.T) {
	h := start(t, nil)
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", h.s.host); err == nil { // no waiting: Close is synchronous
		c.Close()
		t.Fatal("dial succeeded after Close")
	}
	if r := h.result(); !errors.Is(r.Err, ErrClosed) {
		t.Fatalf("Result %+v", r)
	}
	if err := h.s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	h.noResult()
	if rec := h.direct("GET", h.path, "127.0.0.1", nil); rec.Code != http.StatusGone {
		t.Errorf("GET after Close: %d", rec.Code)
	}
}

func TestCloseAfterSuccessKeepsTheResult(t *testing.T) {
	h := start(t, nil)
	body, _ := h.seal(invitation)
	if code, _ := h.do(phone, "POST", h.path, body, nil); code != 200 {
		t.Fatalf("POST: %d", code)
	}
	h.s.Close()
	if r := h.result(); r.Err != nil || r.Received.Text != invitation {
		t.Fatalf("Result %+v", r)
	}
	h.noResult()
}

func TestStartTakesIDAndKeyFromRand(t *testing.T) {
	secret := make([]byte, 48)
	for i := range secret {
		secret[i] = byte(i)
	}
	h := start(t, func(o *Options) { o.Rand = bytes.NewReader(secret) })
	if h.id != base64.RawURLEncoding.EncodeToString(secret[:16]) || !bytes.Equal(h.key, secret[16:]) {
		t.Fatalf("id %q key %x", h.id, h.key)
	}
	if _, err := Start(Options{Listen: "127.0.0.1:0", Rand: iotest.ErrReader(errors.New("no entropy"))}); err == nil {
		t.Error("Start with a failing Rand succeeded")
	}
	if _, err := Start(Options{Listen: "127.0.0.1:0", TTL: -1}); err == nil {
		t.Error("Start with a negative TTL succeeded")
	}
}

func TestListenAddress(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":        "127.0.0.1:0",
		"127.0.0.1:8080":   "127.0.0.1:8080",
		"192.168.1.20:80":  "192.168.1.20:80",
		"::1":              "[::1]:0",
		"[::1]:9000":       "[::1]:9000",
		"0.0.0.0:8080":     "",
		"[::]:8080":        "",
		"localhost:8080":   "",
		"kiosk.lan":        "",
		"127.0.0.1:99999":  "",
		"127.0.0.1:http":   "",
		"fe80::1%eth0":     "",
		"127.0.0.1:8080:1": "",
	} {
		got, err := listenAddress(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("listenAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAuthorityDropsPort80(t *testing.T) {
	for want, a := range map[string]*net.TCPAddr{
		"192.168.1.20":       {IP: net.ParseIP("192.168.1.20"), Port: 80},
		"192.168.1.20:8080":  {IP: net.ParseIP("192.168.1.20"), Port: 8080},
		"[fd00::5]":          {IP: net.ParseIP("fd00::5"), Port: 80},
		"[fd00::5]:8080":     {IP: net.ParseIP("fd00::5"), Port: 8080},
		"127.0.0.1:54321":    {IP: net.IPv4(127, 0, 0, 1), Port: 54321},
		"[2001:db8::1]:4430": {IP: net.ParseIP("2001:db8::1"), Port: 4430},
	} {
		if got := authority(a); got != want {
			t.Errorf("authority(%v) = %q, want %q", a, got, want)
		}
	}
}
