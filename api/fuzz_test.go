package api

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"enroll/flow"
)

// FuzzReadErrorBody: whatever a server sends, the text enroll would print
// is one inert line of bounded length. The seed corpus is in
// testdata/fuzz/FuzzReadErrorBody.
func FuzzReadErrorBody(f *testing.F) {
	for _, s := range bodyShapes {
		f.Add([]byte(s.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		code, msg := readErrorBody(b)
		for name, s := range map[string]string{"code": code, "message": msg} {
			limit := maxText
			if name == "code" {
				limit = maxCode
			}
			if n := utf8.RuneCountInString(s); n > limit {
				t.Fatalf("%s has %d runes", name, n)
			}
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not valid UTF-8: %q", name, s)
			}
			for _, r := range s {
				if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
					t.Fatalf("%s holds %U: %q", name, r, s)
				}
			}
		}
	})
}

// FuzzDecodeAccept: never panics; a success always has both identifiers,
// within their limits and of RFC 6749 shape, and nothing that encoding/json
// made up (a U+FFFD in the name only where the answer wrote one); a
// failure never quotes the answer.
func FuzzDecodeAccept(f *testing.F) {
	for _, s := range []string{
		acceptOK,
		`{"id":"d","client_id":"c","client_secret":"s"}`,
		`{"id":"d"}`, `[]`, `""`, `{`, `{"id":1}`, `{"id":"d","clientId":"c","clientSecret":null}`,
		`{"id":"d","clientId":"c","name":"\ud800"}`, "{\"id\":\"d\",\"clientId\":\"c\",\"name\":\"\xff\"}", `{"id":"d","clientId":"c","name":"\ufffd"}`,
	} {
		f.Add([]byte(s))
	}
	c := New(Options{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := c.DecodeAccept(raw)
		if err == nil {
			if strings.TrimSpace(got.ID) == "" || strings.TrimSpace(got.ClientID) == "" {
				t.Fatalf("success without identifiers: %+v", got)
			}
			for _, f := range []struct {
				v   string
				max int
			}{{got.ID, MaxAnswerID}, {got.ClientID, MaxAnswerID}, {got.ClientSecret, MaxAnswerSecret}} {
				if len(f.v) > f.max || !vschar(f.v) {
					t.Fatalf("taken: %q", f.v)
				}
			}
			if len(got.Name) > MaxAnswerName || !utf8.ValidString(got.Name) {
				t.Fatalf("name taken: %q", got.Name)
			}
			if strings.Contains(got.Name, "\uFFFD") && !bytes.Contains(raw, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`)) {
				t.Fatalf("a U+FFFD the answer did not write: %q", raw)
			}
			return
		}
		if len(raw) >= 8 && strings.Contains(err.Error(), string(raw)) {
			t.Fatalf("error quotes the answer: %v", err)
		}
	})
}

func BenchmarkDecodeAccept(b *testing.B) {
	c := New(Options{})
	raw := []byte(acceptOK)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DecodeAccept(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadErrorBody(b *testing.B) {
	for _, s := range []struct{ name, body string }{
		{"rfc6749", `{"error":"invalid_client","error_description":"Client authentication failed"}`},
		{"nested", `{"error":{"code":"invitation_expired","message":"The invitation expired on 2030-01-01"}}`},
		{"text", "Service Unavailable\nretry later"},
		{"hostile-1MiB", `{"message":"` + strings.Repeat("\x1b[31m", MaxBody/6) + `"}`},
	} {
		b.Run(s.name, func(b *testing.B) {
			body := []byte(s.body)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				readErrorBody(body)
			}
		})
	}
}

// Whatever is pasted into --server, an error shows nothing past the host:
// not the query of a pasted link, nor a raw control character.
func FuzzNormalizeServerErrors(f *testing.F) {
	for _, s := range []string{"https://idp.example.com/accept", "idp.example.com", "https://exa mple.com/", "ftp://x/", "https://u:p@h/", "http://h", "https://h/%zz", "//h/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, secretToken) {
			return
		}
		for _, in := range []string{s + "?token=" + secretToken, s + "#" + secretToken} {
			_, err := NormalizeServer(in)
			if err == nil {
				t.Fatalf("NormalizeServer(%q) accepted a query or fragment", in)
			}
			msg := err.Error()
			if strings.Contains(msg, secretToken) || flow.Sanitize(msg) != msg {
				t.Fatalf("NormalizeServer(%q) = %q", in, msg)
			}
		}
	})
}
