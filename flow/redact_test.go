package flow

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in      string
		secrets []string
		want    string
	}{
		{"token abcd1234 refused", []string{"abcd1234"}, "token [redacted] refused"},
		{"twice x-secret and x-secret", []string{"x-secret"}, "twice [redacted] and [redacted]"},
		{"short abc stays", []string{"abc", ""}, "short abc stays"},
		{`sanitized tok\x1bEN shown`, []string{"tok\x1bEN"}, "sanitized [redacted] shown"},
		{"two secrets: s1-secret, t1-token", []string{"s1-secret", "t1-token"}, "two secrets: [redacted], [redacted]"},
		{"nothing to cut", []string{"absent-secret"}, "nothing to cut"},
		{"capped inside INVITE-t… (code)", []string{"INVITE-tok-5f3c9a7e1b"}, "capped inside [redacted]… (code)"},
		{"capped at the end: INVITE-tok-5f…", []string{"INVITE-tok-5f3c9a7e1b"}, "capped at the end: [redacted]…"},
		{"too little to matter: INV…", []string{"INVITE-tok-5f3c9a7e1b"}, "too little to matter: INV…"},
		// MinRedact characters are enough, as a secret and as its cut start.
		{"pin abcd shown", []string{"abcd"}, "pin [redacted] shown"},
		{"just enough: INVI…", []string{"INVITE-tok-5f3c9a7e1b"}, "just enough: [redacted]…"},
		// A text that begins cut still has its later cuts looked at.
		{"…then INVITE-t… and INVITE-tok…", []string{"INVITE-tok-5f3c9a7e1b"}, "…then [redacted]… and [redacted]…"},
		{"a whole one is not a start: INVITE-tok-5f3c9a7e1b…", []string{"INVITE-tok-5f3c9a7e1b"}, "a whole one is not a start: [redacted]…"},
	} {
		if got := Redact(tc.in, tc.secrets...); got != tc.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
		}
	}
}

// A service may say a secret it was never sent in that call (a token
// endpoint echoing the invitation): the failure the machine records must
// not show any secret the run holds, and must still be the same kind.
func TestFailureTextHoldsNoSecret(t *testing.T) {
	atAuth := []Event{enrolled, Next{}, InvitationEntered{Text: testToken}, NameDefault{}, AcceptChosen{}, Prepared{}}
	atSave := seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}"), At: answerAt}, Journaled{}, Decoded{Client: newClient}))
	for _, tc := range []struct {
		name   string
		events []Event
		said   string
		kind   error
	}{
		{"token endpoint echoes the invitation", atAuth, testToken, ErrServer},
		{"token endpoint echoes the stored secret", atAuth, existing.ClientSecret, ErrServer},
		{"the store's error quotes the new secret", atSave, newClient.ClientSecret, ErrNotStored},
		{"the accept call's error quotes the access token", append(atAuth, Authenticated{Bearer: "access-token-77"}), "access-token-77", ErrServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			said := fmt.Errorf("%w: the service answered 456: %s", ErrServer, tc.said)
			m := walk(cfgServer, append(tc.events, EffectFailed{Err: said})...)
			if m.State != StateFailed || m.Failure == nil {
				t.Fatalf("state %v", m.State)
			}
			if msg := m.Failure.Err.Error(); strings.Contains(msg, tc.said) || !strings.Contains(msg, "[redacted]") {
				t.Errorf("failure text %q", msg)
			}
			if !errors.Is(m.Failure.Err, said) || m.Failure.Class.Kind != tc.kind {
				t.Errorf("the failure lost its kind: %v, class %v", m.Failure.Err, m.Failure.Class.Kind)
			}
		})
	}
}

// An error that holds no secret is kept as it is: a bare sentinel must
// stay comparable with ==, as the printers check for one.
func TestFailureWithoutSecretIsKept(t *testing.T) {
	m := walk(cfgServer, append(toReview, AcceptChosen{}, EffectFailed{Err: ErrNetwork})...)
	if m.Failure == nil || m.Failure.Err != ErrNetwork {
		t.Fatalf("failure %+v", m.Failure)
	}
}

// encodedForms are the encodings a secret travels in, written out here
// rather than taken from SecretForms, so that a form it forgets fails.
func encodedForms(s string) map[string]string {
	j, _ := json.Marshal(s)
	var noHTML strings.Builder
	enc := json.NewEncoder(&noHTML)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	lower := func(e string) string { return percentHex.ReplaceAllStringFunc(e, strings.ToLower) }
	return map[string]string{
		"raw": s, "sanitized": Sanitize(s),
		"form": url.QueryEscape(s), "path": url.PathEscape(s),
		"form, lower-case hex": lower(url.QueryEscape(s)), "path, lower-case hex": lower(url.PathEscape(s)),
		"JSON": unquote(string(j)), "JSON without HTML escapes": unquote(strings.TrimSpace(noHTML.String())),
		"base64": base64.StdEncoding.EncodeToString([]byte(s)), "base64url": base64.URLEncoding.EncodeToString([]byte(s)),
		"base64, no padding": base64.RawStdEncoding.EncodeToString([]byte(s)), "base64url, no padding": base64.RawURLEncoding.EncodeToString([]byte(s)),
	}
}

var percentHex = regexp.MustCompile(`%[0-9A-F]{2}`)

// unquote drops the quotes around a JSON string, and only them.
func unquote(q string) string { return q[1 : len(q)-1] }

// A service may echo what it was sent in the encoding it received it in:
// a form body, a JSON body, a Basic header. Each is cut whole, and also
// where a cap cut it short.
func TestRedactEveryEncoding(t *testing.T) {
	const secret = "s3cr+t/with=eq&amp sp~\"<q>%41\x1b"
	for name, form := range encodedForms(secret) {
		for _, text := range []string{"echo: " + form + " end", "capped: " + form[:len(form)-2] + "…"} {
			if got := Redact(text, secret); strings.Contains(got, form[:len(form)-2]) || !strings.Contains(got, "[redacted]") {
				t.Errorf("%s: Redact(%q) = %q", name, text, got)
			}
		}
	}
	c := Credentials{ClientID: "cid 1+2", ClientSecret: secret}
	for _, basic := range []string{
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(secret))),
		base64.StdEncoding.EncodeToString([]byte(c.ClientID + ":" + secret)),
	} {
		if got := Redact("Authorization: Basic "+basic, c.Secrets()...); strings.Contains(got, basic) {
			t.Errorf("Basic credentials shown: %q", got)
		}
	}
	if (Credentials{ClientID: "c"}).Secrets() != nil {
		t.Error("no secret, yet something to cut")
	}
}

// FuzzRedact: a secret in any of the encodings, between text that shares
// no character with it, never survives Redact.
func FuzzRedact(f *testing.F) {
	f.Add("s3cr+t/with=eq&amp sp~", "padding", uint8(0))
	f.Add("INVITE-tok-5f3c9a7e1b", "x", uint8(3))
	f.Add("\x00\x01ctl\u202esecret", "", uint8(7))
	f.Add("ünïcödé-sëcrét", "$#", uint8(9))
	f.Fuzz(func(t *testing.T, secret, pad string, which uint8) {
		if len(secret) < 8 || len(secret) > 256 || len(pad) > 256 {
			return
		}
		forms := encodedForms(secret)
		names := slices.Sorted(maps.Keys(forms))
		form := forms[names[int(which)%len(names)]]
		for _, f := range SecretForms(secret) {
			if strings.Contains("[redacted]", f) || strings.Contains(redacted, f) {
				return // a secret inside the marker itself cannot be told from it
			}
		}
		pad = strings.Map(func(r rune) rune {
			for _, f := range forms {
				if strings.ContainsRune(f, r) || strings.ContainsRune(redacted+"…", r) {
					return -1
				}
			}
			return r
		}, pad)
		got := Redact(pad+form+pad, secret)
		if strings.Contains(got, form) {
			t.Fatalf("Redact(%q) = %q", pad+form+pad, got)
		}
	})
}
