package flow

import "strings"

// Redact cuts secrets out of text, in their raw and their sanitized form.
// Very short values are skipped: replacing "a" everywhere helps nobody, and
// no real token or secret is that short.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[redacted]")
		if san := Sanitize(sec); san != sec {
			s = strings.ReplaceAll(s, san, "[redacted]")
		}
	}
	return s
}

// redactedError is an error whose text has the run's secrets cut out. The
// error underneath stays in the chain for errors.Is and errors.As; every
// printer in enroll uses Error().
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
// invitation, the access token and the client secrets, stored and received.
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
