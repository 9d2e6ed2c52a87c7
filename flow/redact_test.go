package flow

import (
	"errors"
	"fmt"
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
