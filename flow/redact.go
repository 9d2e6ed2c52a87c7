package flow

import "strings"

// Redact cuts secrets out of text, in their raw and their sanitized form,
// and the start of one that a length cap cut short ("…" right after it).
// Very short values are skipped: replacing "a" everywhere helps nobody, and
// no real token or secret is that short.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < MinRedact {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[redacted]")
		if san := Sanitize(sec); san != sec {
			s = strings.ReplaceAll(s, san, "[redacted]")
		}
		s = redactCutShort(s, sec)
	}
	return s
}

// MinRedact is the shortest secret, or start of one, that Redact cuts.
const MinRedact = 4

// redactCutShort cuts a start of sec that ends where the text was capped:
// a message a layer below shortened to its limit may end inside a secret it
// did not know of.
func redactCutShort(s, sec string) string {
	const ellipsis = "…"
	var b strings.Builder
	for {
		i := strings.Index(s, ellipsis)
		if i < 0 {
			break
		}
		head := s[:i]
		for n := min(len(sec)-1, len(head)); n >= MinRedact; n-- {
			if strings.HasSuffix(head, sec[:n]) {
				head = head[:len(head)-n] + "[redacted]"
				break
			}
		}
		b.WriteString(head + ellipsis)
		s = s[i+len(ellipsis):]
	}
	if b.Len() == 0 {
		return s
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

// redactError returns err itself when its text holds none of the secrets,
// so a bare sentinel stays one.
func redactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := Redact(msg, secrets...); r != msg {
		return &redactedError{err: err, msg: r}
	}
	return err
}

// secrets are the values this run holds that no message may show: the
// invitation, the access token while it is held (until the accept call
// returns) and the client secrets, stored and received.
// Each layer below cuts what it sent out of its own errors; this catches
// what a service said on its own, such as a token endpoint echoing an
// invitation it was never sent.
func (m Machine) secrets() []string {
	s := []string{m.Invitation.Token, m.bearer}
	for _, c := range []*Credentials{m.Existing, m.decoded, m.Result} {
		if c != nil {
			s = append(s, c.ClientSecret)
		}
	}
	return s
}
