package handoff

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// The longest invitation the page may send is maxText bytes: that one is
// taken whole, and one byte more is a bad submission, however well sealed.
func TestTextCapIsExact(t *testing.T) {
	h := start(t, nil)
	over := "https://enroll.example/accept?token=" + strings.Repeat("x", maxText+1-len("https://enroll.example/accept?token="))
	if code, _ := h.do(phone, "POST", h.path, h.sealRaw(1, []byte(over)), nil); code != http.StatusBadRequest {
		t.Errorf("%d bytes: %d, want 400", len(over), code)
	}
	if n := h.failures(); n != 1 {
		t.Errorf("failures = %d", n)
	}
	exact := over[:maxText]
	if code, _ := h.do(phone, "POST", h.path, h.sealRaw(1, []byte(exact)), nil); code != 200 {
		t.Fatalf("%d bytes: %d, want 200", len(exact), code)
	}
	if r := h.result(); r.Err != nil || r.Received.Text != exact {
		t.Fatalf("Result: %v, %d bytes", r.Err, len(r.Received.Text))
	}
}

// Each of these is sealed under the right key for the right id, and is
// still refused: what is delivered is a non-empty, valid UTF-8 invitation
// in a version-1 envelope holding one JSON object, nothing else.
func TestWellSealedButRefused(t *testing.T) {
	for name, body := range map[string]func(h *harness) []byte{
		"empty text":          func(h *harness) []byte { return h.sealRaw(1, nil) },
		"invalid UTF-8":       func(h *harness) []byte { return h.sealRaw(1, []byte("https://x.example/?token=\xff\xfe")) },
		"lone continuation":   func(h *harness) []byte { return h.sealRaw(1, []byte{0x80}) },
		"version 2":           func(h *harness) []byte { return h.sealRaw(2, []byte(invitation)) },
		"version 0 (missing)": func(h *harness) []byte { return h.sealRaw(0, []byte(invitation)) },
		"a second value": func(h *harness) []byte {
			return append(h.sealRaw(1, []byte(invitation)), []byte(` {}`)...)
		},
		"trailing garbage": func(h *harness) []byte {
			return append(h.sealRaw(1, []byte(invitation)), 'x')
		},
		"an unknown field": func(h *harness) []byte {
			b := h.sealRaw(1, []byte(invitation))
			return append([]byte(`{"extra":1,`), b[1:]...)
		},
		"short nonce": func(h *harness) []byte {
			var m map[string]any
			_ = json.Unmarshal(h.sealRaw(1, []byte(invitation)), &m)
			n, _ := base64.RawURLEncoding.DecodeString(m["nonce"].(string))
			m["nonce"] = base64.RawURLEncoding.EncodeToString(n[1:])
			b, _ := json.Marshal(m)
			return b
		},
		"bad nonce base64": func(h *harness) []byte {
			return bytes.Replace(h.sealRaw(1, []byte(invitation)), []byte(`"nonce":"`), []byte(`"nonce":"*`), 1)
		},
		// The decoder hands back what it read before the bad byte: here
		// the whole nonce or ciphertext, which would open.
		"garbage after the nonce": func(h *harness) []byte {
			return bytes.Replace(h.sealRaw(1, []byte(invitation)), []byte(`","v":`), []byte(`*","v":`), 1)
		},
		"garbage after the ciphertext": func(h *harness) []byte {
			return bytes.Replace(h.sealRaw(1, []byte(invitation)), []byte(`","nonce":`), []byte(`*","nonce":`), 1)
		},
		"ciphertext shorter than a tag": func(h *harness) []byte {
			return sealedJSON(h.t, 1, make([]byte, chacha20poly1305.NonceSize), make([]byte, chacha20poly1305.Overhead-1))
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := start(t, nil)
			if code, got := h.do(phone, "POST", h.path, body(h), nil); code != http.StatusBadRequest || got != "Bad request.\n" {
				t.Errorf("%d %q, want 400", code, got)
			}
			if n := h.failures(); n != 1 {
				t.Errorf("failures = %d, want 1", n)
			}
			h.noResult()
		})
	}
}

// The page's base64 may carry padding; it is tolerated. And the matching
// code is the tag's, whatever the padding.
func TestPaddedBase64IsTaken(t *testing.T) {
	h := start(t, nil)
	aead, _ := chacha20poly1305.New(h.key)
	nonce := make([]byte, chacha20poly1305.NonceSize)
	ct := aead.Seal(nil, nonce, []byte(invitation), []byte(aadPrefix+h.id))
	body, _ := json.Marshal(map[string]any{"v": 1, "nonce": base64.URLEncoding.EncodeToString(nonce), "ct": base64.URLEncoding.EncodeToString(ct) + "=="})
	if code, _ := h.do(phone, "POST", h.path, body, nil); code != 200 {
		t.Fatalf("padded: %d", code)
	}
	if r := h.result(); r.Err != nil || r.Received.Text != invitation || r.Received.Code != codeOf(ct[len(ct)-16:]) {
		t.Fatalf("Result %+v", r)
	}
}

// MaxFailures is the number of bad submissions that closes the server:
// with 2, the first leaves it open and the second closes it.
func TestMaxFailuresIsExact(t *testing.T) {
	h := start(t, func(o *Options) { o.MaxFailures = 2 })
	if code, _ := h.do(phone, "POST", h.path, []byte("{}"), nil); code != http.StatusBadRequest {
		t.Fatalf("first bad: %d", code)
	}
	h.noResult()
	if code, _ := h.do(phone, "GET", h.path, nil, nil); code != 200 {
		t.Fatalf("GET after one failure: %d", code)
	}
	if code, _ := h.do(phone, "POST", h.path, []byte("{}"), nil); code != http.StatusBadRequest {
		t.Fatalf("second bad: %d", code)
	}
	if r := h.result(); !errors.Is(r.Err, ErrTooManyFailures) {
		t.Fatalf("Result %+v", r)
	}
}

// The zero Options are the documented defaults: ten minutes, five failures.
func TestStartDefaults(t *testing.T) {
	h := start(t, nil)
	if d := <-h.clk.asked; d != DefaultTTL {
		t.Errorf("timer for %v, want %v", d, DefaultTTL)
	}
	if h.s.maxFail != DefaultMaxFailures {
		t.Errorf("maxFail %d, want %d", h.s.maxFail, DefaultMaxFailures)
	}
	if _, err := Start(Options{Listen: "127.0.0.1:0", MaxFailures: -1}); err == nil {
		t.Error("Start with negative MaxFailures succeeded")
	}
	// Without a clock or a timer of its own it runs on the real ones.
	s, err := Start(Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if until := s.ExpiresAt().Sub(s.now()); until <= DefaultTTL-5*time.Second || until > DefaultTTL {
		t.Errorf("expires in %v", until)
	}
}

// A bad --handoff-listen and a port in use are refused with a message that
// names the address and says how to choose another.
func TestStartRefusesItsListenAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	for listen, want := range map[string]string{
		"kiosk.lan":       `listen address "kiosk.lan": want IP or IP:PORT`,
		"0.0.0.0":         "name the device's own LAN IP, not 0.0.0.0",
		"127.0.0.1:70000": "bad port",
		busy:              "listen on " + busy + ": ",
	} {
		s, err := Start(Options{Listen: listen})
		if err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded", listen)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start(%q): %v; want it to say %q", listen, err, want)
		}
	}
	s, err := Start(Options{Listen: busy})
	if err == nil {
		s.Close()
	} else if !strings.Contains(err.Error(), "--handoff-listen") {
		t.Errorf("port in use: %v; want a hint at --handoff-listen", err)
	}
}
