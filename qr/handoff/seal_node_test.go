package handoff

// The phone seals the invitation with page/seal.mjs over the vendored
// ChaCha20-Poly1305 of @noble/ciphers (page/vendor/noble-ciphers; browsers
// offer no WebCrypto on plain-http pages). These tests run those very files
// with node and check them against the RFC 8439 test vectors and against
// golang.org/x/crypto/chacha20poly1305, which the device uses to open what
// the phone sends.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

func TestNodeSealChaCha20Poly1305(t *testing.T) {
	in := sealNodeInputs(t)
	out := runSealNode(t, in)

	t.Run("rfc8439-vectors", func(t *testing.T) {
		required := []string{
			"rfc8439 2.3.2 block function",
			"rfc8439 2.4.2 encryption",
			"rfc8439 2.5.2 poly1305",
			"rfc8439 2.6.2 poly1305 key generation",
			"rfc8439 2.8.2 aead seal",
			"rfc8439 2.8.2 aead open",
		}
		passed := map[string]bool{}
		for _, p := range out.pass {
			passed[p] = true
		}
		for _, name := range required {
			if !passed[name] {
				t.Errorf("no PASS for %q", name)
			}
		}
		n := 0
		for _, p := range out.pass {
			if strings.HasPrefix(p, "rfc8439 ") {
				n++
			}
		}
		t.Logf("%d RFC 8439 checks passed", n)
	})

	t.Run("node-checks", func(t *testing.T) {
		if len(out.fail) > 0 {
			t.Errorf("%d checks failed in node:\n  FAIL %s\nfull output:\n%s",
				len(out.fail), strings.Join(out.fail, "\n  FAIL "), out.raw)
		}
		if len(out.pass) < 60 {
			t.Errorf("only %d checks passed in node, want at least 60", len(out.pass))
		}
	})

	t.Run("javascript-sealed-go-opens", func(t *testing.T) {
		lengths := map[int]bool{}
		for i, c := range out.seals {
			key, nonce, aad, pt, ct := sealNodeUnhex(t, c.Key), sealNodeUnhex(t, c.Nonce),
				sealNodeUnhex(t, c.AAD), sealNodeUnhex(t, c.PT), sealNodeUnhex(t, c.CT)
			lengths[len(pt)] = true
			aead, err := chacha20poly1305.New(key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := aead.Open(nil, nonce, ct, aad)
			if err != nil {
				t.Errorf("seal #%d (%d bytes): Go cannot open what JavaScript sealed: %v", i, len(pt), err)
				continue
			}
			if !bytes.Equal(got, pt) {
				t.Errorf("seal #%d: opened %x, want %x", i, got, pt)
			}
			if want := aead.Seal(nil, nonce, pt, aad); !bytes.Equal(ct, want) {
				t.Errorf("seal #%d: JavaScript sealed %x, Go seals %x", i, ct, want)
			}
			for _, tamper := range sealNodeTampers(ct, nonce, aad) {
				if _, err := aead.Open(nil, tamper.nonce, tamper.ct, tamper.aad); err == nil {
					t.Errorf("seal #%d: Go opened it with %s", i, tamper.what)
				}
			}
		}
		for _, n := range []int{0, 1, 63, 64, 65, 1000, 4096} {
			if !lengths[n] {
				t.Errorf("no %d-byte plaintext was sealed", n)
			}
		}
		var nonASCII bool
		for _, c := range out.seals {
			if pt := sealNodeUnhex(t, c.PT); strings.ContainsFunc(string(pt), func(r rune) bool { return r > 0x7f }) &&
				strings.ToValidUTF8(string(pt), "") == string(pt) {
				nonASCII = true
			}
		}
		if !nonASCII {
			t.Error("no non-ASCII UTF-8 text was sealed")
		}
	})

	t.Run("envelope", func(t *testing.T) {
		for i, inv := range in.Invites {
			m, ok := out.invites[i]
			if !ok {
				t.Errorf("invite #%d: no result from node", i)
				continue
			}
			if inv.wantErr != "" {
				if m["error"] != inv.wantErr {
					t.Errorf("invite #%d (%d bytes): got %v, want the error %q", i, len(inv.Text), m, inv.wantErr)
				}
				continue
			}
			if e, ok := m["error"]; ok {
				t.Errorf("invite #%d %q: refused: %v", i, inv.Text, e)
				continue
			}
			body, _ := m["body"].(string)
			pt, tag := sealNodeOpenEnvelope(t, inv, body)
			if pt == nil {
				continue
			}
			if string(pt) != inv.want {
				t.Errorf("invite #%d: the device got %q, want %q", i, pt, inv.want)
			}
			if got, want := m["code"], sealNodeRefCode(tag); got != want {
				t.Errorf("invite #%d: the page shows the code %v, the protocol says %q", i, got, want)
			}
			if got, want := m["code"], matchCode(tag); got != want {
				t.Errorf("invite #%d: the page shows the code %v, the device %q", i, got, want)
			}
			if got := m["bytes"]; got != float64(len(inv.want)) {
				t.Errorf("invite #%d: bytes = %v, want %d", i, got, len(inv.want))
			}
		}
	})

	t.Run("match-code", func(t *testing.T) {
		codeRE := regexp.MustCompile(`^[0-9]{3} [0-9]{3}$`)
		for _, tagHex := range in.Tags {
			got, ok := out.codes[tagHex]
			want := sealNodeRefCode(sealNodeUnhex(t, tagHex))
			if !ok || got != want {
				t.Errorf("page matchCode(%s) = %q, the protocol says %q", tagHex, got, want)
			}
			// The server's own function, which the wizard shows.
			if server := matchCode(sealNodeUnhex(t, tagHex)); got != server {
				t.Errorf("page matchCode(%s) = %q, the device shows %q", tagHex, got, server)
			}
			if !codeRE.MatchString(want) {
				t.Errorf("code %q is not of the form 123 456", want)
			}
		}
		for tag, want := range map[string]string{
			strings.Repeat("00", 16):              "000 000",
			strings.Repeat("ff", 16):              "967 295", // 4294967295 mod 10^6
			"000f423f" + strings.Repeat("00", 12): "999 999",
			"000f4240" + strings.Repeat("ab", 12): "000 000",
			"80000000" + strings.Repeat("00", 12): "483 648", // 2147483648
		} {
			if got := out.codes[tag]; got != want {
				t.Errorf("matchCode(%s) = %q, want %q", tag, got, want)
			}
		}
	})

	t.Run("base64url", func(t *testing.T) {
		if len(out.b64) < 71 {
			t.Errorf("got %d base64url samples from node, want 71", len(out.b64))
		}
		for _, c := range out.b64 {
			b := sealNodeUnhex(t, c.Hex)
			if want := base64.RawURLEncoding.EncodeToString(b); c.B64 != want {
				t.Errorf("base64urlEncode(%s) = %q, Go says %q", c.Hex, c.B64, want)
			}
			got, err := base64.RawURLEncoding.Strict().DecodeString(c.B64)
			if err != nil || !bytes.Equal(got, b) {
				t.Errorf("Go decodes %q to %x, %v; want %s", c.B64, got, err, c.Hex)
			}
		}
	})
}

// sealNodeOpenEnvelope opens a POST body the way the device does: strict
// JSON, version 1, base64url without padding, AAD "enroll-handoff-v1:"+id.
// It returns the plaintext and the tag, or nil after reporting an error.
func sealNodeOpenEnvelope(t *testing.T, inv sealNodeInvite, body string) (pt, tag []byte) {
	t.Helper()
	var env struct {
		V     int    `json:"v"`
		Nonce string `json:"nonce"`
		CT    string `json:"ct"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Errorf("body %q: %v", body, err)
		return nil, nil
	}
	var keys []string
	var fields map[string]any
	_ = json.Unmarshal([]byte(body), &fields)
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if env.V != 1 || strings.Join(keys, ",") != "ct,nonce,v" {
		t.Errorf("body %q: want exactly v=1, nonce and ct", body)
	}
	enc := base64.RawURLEncoding.Strict()
	nonce, err := enc.DecodeString(env.Nonce)
	if err != nil || len(nonce) != chacha20poly1305.NonceSize {
		t.Errorf("nonce %q: %d bytes, %v", env.Nonce, len(nonce), err)
		return nil, nil
	}
	ct, err := enc.DecodeString(env.CT)
	if err != nil || len(ct) < chacha20poly1305.Overhead {
		t.Errorf("ct %q: %v", env.CT, err)
		return nil, nil
	}
	key, err := enc.DecodeString(inv.Key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("enroll-handoff-v1:" + inv.ID)
	pt, err = aead.Open(nil, nonce, ct, aad)
	if err != nil {
		t.Errorf("the device cannot open the page's envelope for %q: %v", inv.Text, err)
		return nil, nil
	}
	for _, tamper := range sealNodeTampers(ct, nonce, aad) {
		if _, err := aead.Open(nil, tamper.nonce, tamper.ct, tamper.aad); err == nil {
			t.Errorf("the device opened the envelope with %s", tamper.what)
		}
	}
	if _, err := aead.Open(nil, nonce, ct, []byte("enroll-handoff-v1:"+strings.Repeat("A", 22))); err == nil {
		t.Error("the device opened the envelope with another session's id")
	}
	return pt, ct[len(ct)-chacha20poly1305.Overhead:]
}

type sealNodeTamper struct {
	what           string
	ct, nonce, aad []byte
}

// sealNodeTampers returns variants of a sealed message that must not open.
func sealNodeTampers(ct, nonce, aad []byte) []sealNodeTamper {
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	ts := []sealNodeTamper{
		{"the first ciphertext byte flipped", flip(ct, 0), nonce, aad},
		{"the last tag byte flipped", flip(ct, len(ct)-1), nonce, aad},
		{"the tag cut off", ct[:len(ct)-1], nonce, aad},
		{"another nonce", ct, flip(nonce, 11), aad},
		{"one more AAD byte", ct, nonce, append(bytes.Clone(aad), 0)},
	}
	if len(ct) > chacha20poly1305.Overhead {
		ts = append(ts, sealNodeTamper{"the last ciphertext byte flipped", flip(ct, len(ct)-chacha20poly1305.Overhead-1), nonce, aad})
	}
	if len(aad) > 0 {
		ts = append(ts, sealNodeTamper{"the AAD changed", ct, nonce, flip(aad, 0)})
	}
	return ts
}

func sealNodeUnhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// sealNodeRefCode is the matching code as the device derives it: the first
// four bytes of the tag, big-endian, mod 1000000, as "123 456".
func sealNodeRefCode(tag []byte) string {
	n := binary.BigEndian.Uint32(tag[:4]) % 1000000
	s := fmt.Sprintf("%06d", n)
	return s[:3] + " " + s[3:]
}
