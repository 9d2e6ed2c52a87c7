package flow

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fuzzCanary stands for a secret token. It has upper-case letters, and
// ParseInvitation's messages show nothing from the input but a lower-cased
// host and single escaped characters, so a message that holds the canary
// has echoed input it must not.
const fuzzCanary = "SeCrEtTOKEN42"

// FuzzParseInvitation feeds before+after, and before+canary+after, so that
// the canary lands wherever the fuzzer steers it: in a query, a fragment, a
// path, a host, a bare token.
func FuzzParseInvitation(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""},
		{"https://idp.example.com/invitation?token=", ""},
		{"Open this: <https://idp.example.com/invitation?token=", "> thanks\r\n"},
		{"http://127.0.0.1:8080/invitation?token=", ""},
		{"http://[::1]:80/x#token=", "&token=other"},
		{"enroll://accept?code=", ""},
		{"https://idp.example.com/x/invitations/", "/"},
		{"\x1b[200~", "\x1b[201~"},
		{"https://good@", "/x?token=abc"},
		{"javascript:", ""},
		{"token=", "&t=zz"},
		{"]Q1", "\r"},
		{"https://idp.example.com/?token=%E2%80%AE", "\x00"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		for i, in := range []string{before + after, before + fuzzCanary + after} {
			inv, err := ParseInvitation(in)
			if err != nil {
				if inv != (Invitation{}) {
					t.Fatalf("ParseInvitation(%q) = %+v with error %v", in, inv, err)
				}
				if i == 1 && strings.Contains(err.Error(), fuzzCanary) {
					t.Fatalf("ParseInvitation(%q) error %q shows the token", in, err)
				}
				if err.Error() != Sanitize(err.Error()) {
					t.Fatalf("ParseInvitation(%q) error %q is not inert", in, err)
				}
				continue
			}
			checkInvitation(t, in, inv)
		}
	})
}

func checkInvitation(t *testing.T, in string, inv Invitation) {
	t.Helper()
	if n := len(inv.Token); n < minTokenLen || n > maxTokenLen {
		t.Fatalf("ParseInvitation(%q) token length %d", in, n)
	}
	for _, r := range inv.Token {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-", r) {
			t.Fatalf("ParseInvitation(%q) token has %q", in, r)
		}
	}
	switch inv.Source {
	case SourceToken, SourceQuery, SourceFragment, SourcePath, SourceScheme:
	default:
		t.Fatalf("ParseInvitation(%q) source %q", in, inv.Source)
	}
	if warn := LookAlikeWarning(inv.Host); warn != Sanitize(warn) {
		t.Fatalf("ParseInvitation(%q): the look-alike warning %q is not inert", in, warn)
	}
	if inv.Host != Sanitize(inv.Host) {
		t.Fatalf("ParseInvitation(%q) host %q is not inert", in, inv.Host)
	}
	if inv.Origin == "" {
		if inv.Host != "" {
			t.Fatalf("ParseInvitation(%q) host %q without origin", in, inv.Host)
		}
		return
	}
	u, err := url.Parse(inv.Origin)
	if err != nil || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Hostname() != inv.Host {
		t.Fatalf("ParseInvitation(%q) origin %q (host %q) is not scheme://host[:port]: %v", in, inv.Origin, inv.Host, err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		addr, err := netip.ParseAddr(u.Hostname())
		if u.Hostname() != "localhost" && (err != nil || !addr.IsLoopback()) {
			t.Fatalf("ParseInvitation(%q) accepted http origin %q", in, inv.Origin)
		}
	default:
		t.Fatalf("ParseInvitation(%q) origin %q", in, inv.Origin)
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"kiosk-12", "  lab 1 ", "e\u0301", "\x1b[31m", "a\u202eb", "\u200b", "ab\xff", `a\x1b`, strings.Repeat("x", 65), "\u1112\u1161\u11ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ValidateName(s)
		if err != nil {
			if got != "" || err.Error() != Sanitize(err.Error()) {
				t.Fatalf("ValidateName(%q) = %q, %q", s, got, err)
			}
			return
		}
		if !utf8.ValidString(got) || !norm.NFC.IsNormalString(got) {
			t.Fatalf("ValidateName(%q) = %q, not NFC", s, got)
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > maxNameRunes {
			t.Fatalf("ValidateName(%q) = %q, %d runes", s, got, n)
		}
		if Sanitize(got) != got || strings.TrimSpace(got) != got {
			t.Fatalf("ValidateName(%q) = %q, not inert or not trimmed", s, got)
		}
		if again, err := ValidateName(got); err != nil || again != got {
			t.Fatalf("ValidateName(%q) = %q, but again %q, %v", s, got, again, err)
		}
	})
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J", "\u009b31m", "a\u202eb", "\xff\xfe", `back\slash`, "tab\tnew\nline", "\u2028\ufeff\u200b", "\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q) = %q, not valid UTF-8", s, out)
		}
		for i := 0; i < len(out); i++ {
			if out[i] < 0x20 || out[i] == 0x7f {
				t.Fatalf("Sanitize(%q) = %q, byte %#x", s, out, out[i])
			}
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("Sanitize(%q) = %q, has %U", s, out, r)
			}
		}
		if harmless(s) && out != s {
			t.Fatalf("Sanitize(%q) = %q, changed harmless text", s, out)
		}
		// Sanitizing twice (a layer below and the printer above) must
		// change nothing.
		if again := Sanitize(out); again != out {
			t.Fatalf("Sanitize(Sanitize(%q)) = %q, want %q", s, again, out)
		}
	})
}

// harmless is an independent statement of what Sanitize leaves alone.
func harmless(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}
