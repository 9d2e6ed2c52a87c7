package flow

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// Redact cuts secrets out of text, in every form enroll sends or shows one
// (SecretForms), and the start of one that a length cap cut short ("…"
// right after it). Very short values are skipped: replacing "a" everywhere
// helps nobody, and no real token or secret is that short.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < MinRedact {
			continue
		}
		for _, f := range SecretForms(sec) {
			s = strings.ReplaceAll(s, f, redacted)
			s = redactCutShort(s, f)
		}
	}
	return s
}

// MinRedact is the shortest secret, or start of one, that Redact cuts.
const MinRedact = 4

const redacted = "[redacted]"

// SecretForms are the ways a secret can appear in what a service sends
// back: as it is; escaped by Sanitize (how enroll prints it); form- and
// URL-encoded (an OAuth form body, a query), with upper- or lower-case hex;
// JSON-escaped (the accept and decline bodies), with and without HTML
// escaping; and base64 in its four alphabets. Longest first, so that a
// form is cut whole before a shorter one inside it.
func SecretForms(sec string) []string {
	forms := []string{sec, Sanitize(sec), url.QueryEscape(sec), url.PathEscape(sec)}
	for _, f := range forms[2:4] {
		forms = append(forms, lowerHex(f))
	}
	for _, html := range []bool{true, false} {
		forms = append(forms, jsonEscaped(sec, html))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(sec)))
	}
	for _, f := range forms {
		forms = append(forms, Sanitize(f)) // a form holding a control is printed escaped
	}
	forms = slices.DeleteFunc(forms, func(f string) bool { return len(f) < MinRedact })
	slices.SortFunc(forms, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	return slices.Compact(forms)
}

// BasicSecrets are the values that carry a client's secret in an HTTP Basic
// Authorization header (RFC 6749 §2.3.1: id and secret form-encoded, joined
// by a colon, base64), and the same without the form-encoding, as other
// clients send it: what a service echoing the header back would show.
func BasicSecrets(clientID, secret string) []string {
	return []string{
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret))),
		base64.StdEncoding.EncodeToString([]byte(clientID + ":" + secret)),
	}
}

// Secrets are what must never be shown of stored credentials: the client
// secret and the Basic credentials that carry it.
func (c Credentials) Secrets() []string {
	if c.ClientSecret == "" {
		return nil
	}
	return append([]string{c.ClientSecret}, BasicSecrets(c.ClientID, c.ClientSecret)...)
}

// lowerHex writes the hex digits of percent-escapes in lower case, as some
// servers re-encode them.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// jsonEscaped is sec as it appears inside a JSON string that enroll's
// encoder wrote, without the quotes.
func jsonEscaped(sec string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(sec) // a string always encodes
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(out, `"`), `"`)
}

// redactCutShort cuts a start of sec that ends where the text was capped:
// a message a layer below shortened to its limit may end inside a secret it
// did not know of.
func redactCutShort(s, sec string) string {
	const ellipsis = "…"
	if !strings.Contains(s, ellipsis) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, ellipsis)
		if i < 0 {
			break
		}
		head := s[:i]
		for n := min(len(sec)-1, len(head)); n >= MinRedact; n-- {
			if strings.HasSuffix(head, sec[:n]) {
				head = head[:len(head)-n] + redacted
				break
			}
		}
		b.WriteString(head + ellipsis)
		s = s[i+len(ellipsis):]
	}
	return b.String() + s
}

// redactedError is an error whose text has the run's secrets cut out. The
// error underneath stays in the chain for errors.Is and errors.As; every
// printer in enroll uses Error(). (errors.As to an *api.StatusError would
// give its Message unredacted: print the failure, never a field of it.)
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// RedactError returns err with the secrets cut out of its text, or err
// itself when its text holds none of them, so a bare sentinel stays one.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := Redact(msg, secrets...); r != msg {
		return &redactedError{err: err, msg: r}
	}
	return err
}

// Secrets are the values this run holds that no message may show: the
// invitation, the access token while it is held (until the accept call
// returns) and the client secrets, stored and received, with the Basic
// credentials that carry them.
// Each layer below cuts what it sent out of its own errors; this catches
// what a service said on its own, such as a token endpoint echoing an
// invitation it was never sent. Whoever drives the machine hands them to
// each effect (WithSecrets), so that the service's log lines cut them too.
func (m Machine) Secrets() []string {
	s := []string{m.Invitation.Token, m.bearer}
	for _, c := range []*Credentials{m.Existing, m.decoded, m.Result} {
		if c != nil {
			s = append(s, c.Secrets()...)
		}
	}
	return slices.DeleteFunc(s, func(v string) bool { return v == "" })
}

type secretsKey struct{}

// WithSecrets returns ctx carrying secrets besides those it carries
// already: what a call made with it must never show, in its errors or in
// any line it logs.
func WithSecrets(ctx context.Context, secrets ...string) context.Context {
	return context.WithValue(ctx, secretsKey{}, slices.Concat(SecretsOf(ctx), secrets))
}

// SecretsOf returns the secrets ctx carries.
func SecretsOf(ctx context.Context) []string {
	s, _ := ctx.Value(secretsKey{}).([]string)
	return s
}
