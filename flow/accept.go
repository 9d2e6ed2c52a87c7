package flow

import (
	"errors"
	"fmt"
	"strings"
)

// stepAccepting walks prepare → (authenticate) → accept → journal → decode
// → save. The order is the safety argument of DESIGN §5: the store is proven
// writable before the invitation is spent, and the answer is journaled
// before anything can go wrong with parsing or committing it.
func stepAccepting(m Machine, ev Event) (Machine, []Effect) {
	if e, ok := ev.(EffectFailed); ok {
		return acceptFailed(m, e.Err)
	}
	switch ev := ev.(type) {
	case Prepared:
		if m.State != StatePreparing {
			break
		}
		m.locked = true
		if m.Interrupted && m.NothingSent() {
			return fail(m, ErrInterrupted, StateFailed)
		}
		// Interrupted or not, an answer already received is committed now
		// that the store is ready: it may be the only copy of a secret.
		switch {
		case m.decoded != nil: // retrying a save
			m.State = StateSaving
			return m, []Effect{SaveCredentials{Credentials: *m.decoded}}
		case m.raw != nil: // finishing a journaled answer
			m.State = StateSaving
			return m, []Effect{DecodeAnswer{Raw: m.raw}}
		case m.Existing != nil:
			m.State = StateAuthenticating
			return m, []Effect{Authenticate{Server: m.Server, Credentials: *m.Existing}}
		}
		return callAccept(m)
	case Authenticated:
		if m.State != StateAuthenticating {
			break
		}
		if m.Interrupted {
			return fail(m, ErrInterrupted, StateFailed)
		}
		m.bearer = ev.Bearer
		return callAccept(m)
	case Answered:
		if m.State != StateAccepting {
			break
		}
		m.raw, m.receivedAt, m.bearer, m.cut = ev.Raw, ev.At, "", ev.Cut
		m.State = StateJournaling
		return m, []Effect{WriteJournal{Pending: m.pending()}}
	case Journaled:
		if m.State == StateJournaling {
			m.State, m.journaled = StateSaving, true
			return m, []Effect{DecodeAnswer{Raw: m.raw}}
		}
	case Decoded:
		if m.State != StateSaving || m.decoded != nil {
			break
		}
		creds, err := m.credentialsFrom(ev.Client)
		if err != nil {
			return unreadable(m, err)
		}
		m.decoded, m.issued = &creds, ev.Client.ClientSecret != ""
		return m, []Effect{SaveCredentials{Credentials: creds}}
	case Saved:
		if m.State != StateSaving || m.decoded == nil {
			break
		}
		result := *m.decoded // a copy: earlier machines share the pointer
		result.Sealed = ev.Sealed
		m.Result, m.State, m.locked = &result, StateDone, false
		m.raw, m.decoded = nil, nil
		return m, []Effect{ReleaseStore{}}
	}
	return m, nil
}

func callAccept(m Machine) (Machine, []Effect) {
	req := AcceptRequest{Server: m.Server, Token: m.Invitation.Token, Bearer: m.bearer}
	if m.NameChosen {
		req.Name = m.Name
	}
	m.State = StateAccepting
	return m, []Effect{CallAccept{Request: req}}
}

func (m Machine) pending() Pending {
	p := Pending{Server: m.Server, Raw: m.raw, ReceivedAt: m.receivedAt, Existing: m.Existing,
		InvitationDigest: InvitationDigest(m.Invitation.Token)}
	if m.NameChosen {
		p.Name = m.Name
	}
	return p
}

// credentialsFrom turns the service's answer into what is stored. An
// existing device gets no new secret and keeps its own; an answer that
// names another client than the enrolled one is never stored over it.
func (m Machine) credentialsFrom(c Client) (Credentials, error) {
	// What is stored is printed later (status, the done screen): a field
	// that carries a secret of this run would print it.
	secrets := append(m.Secrets(), Credentials{ClientID: c.ClientID, ClientSecret: c.ClientSecret}.Secrets()...)
	for _, f := range []struct{ name, value string }{{"id", c.ID}, {"clientId", c.ClientID}, {"name", c.Name}} {
		if Redact(f.value, secrets...) != f.value {
			return Credentials{}, fmt.Errorf("%w: the answer's %s holds the invitation or a client secret", ErrBadResponse, f.name)
		}
	}
	name := c.Name
	if name == "" && m.NameChosen {
		name = m.Name
	}
	ex := m.Existing
	if ex != nil {
		// Whatever else it holds, a new secret included: an enrolled
		// device's credentials are only ever replaced by its own.
		var differ []string
		if c.ID != ex.ID {
			differ = append(differ, "id")
		}
		if c.ClientID != ex.ClientID {
			differ = append(differ, "clientId")
		}
		if len(differ) > 0 {
			return Credentials{}, fmt.Errorf("%w: the answer names another client than this device (its %s differs); the stored credentials are kept",
				ErrBadResponse, strings.Join(differ, " and "))
		}
	}
	if c.ClientSecret == "" {
		if ex == nil {
			return Credentials{}, fmt.Errorf("%w: the service enrolled a new device but sent no client secret", ErrBadResponse)
		}
		out := *ex
		if name != "" {
			out.Name = name
		}
		return out, nil
	}
	return Credentials{
		Server: m.Server, ID: c.ID, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Name: name, EnrolledAt: m.receivedAt,
	}, nil
}

// acceptFailed decides, per step, what a failure means and where Back leads.
func acceptFailed(m Machine, err error) (Machine, []Effect) {
	err = RedactError(err, m.Secrets()...) // while the access token is known
	m.bearer = ""
	switch m.State {
	case StatePreparing, StateAuthenticating:
		if m.raw != nil || m.decoded != nil {
			// Only the commit of an answer already received is pending.
			if errors.Is(err, ErrBusy) && m.journaled && !m.Interrupted {
				// Another run holds the lock; the journal keeps the answer.
				// Nothing leads back to the invitation: it is spent.
				m, effects := fail(m, err, StateFailed)
				m.Failure.Journaled = true
				return m, effects
			}
			return commitPending(m, err)
		}
		if m.Interrupted {
			return fail(m, ErrInterrupted, StateFailed)
		}
		return fail(m, err, StateReview)
	case StateAccepting:
		switch class := Classify(err); {
		case errors.Is(err, ErrOutcomeUnknown):
			return fail(m, err, StateFailed)
		case class.Exit == ExitRefused:
			return fail(m, err, StateInvitation)
		}
		return fail(m, err, StateReview)
	case StateJournaling:
		// Keep going: the secret is in memory, and the credentials file
		// may still be writable. If it is not, the operator is shown it.
		m.State = StateSaving
		return m, []Effect{DecodeAnswer{Raw: m.raw}}
	case StateSaving:
		if m.decoded == nil {
			return unreadable(m, err)
		}
		if !errors.Is(err, ErrNotStored) {
			err = fmt.Errorf("%w: %w", ErrNotStored, err)
		}
		m, effects := fail(m, err, StateFailed)
		m.Failure.Journaled = m.journaled
		if !m.journaled && m.issued {
			// Nowhere on disk holds the new secret: show it once. An
			// existing device's secret is still in its intact file.
			reveal := *m.decoded
			m.Failure.Reveal = &reveal
		}
		return m, effects
	}
	return m, nil
}

// commitPending records a failure, or an interruption, of the store while
// an answer already received waits for its commit (a save being retried, a
// journal being finished): it is "received but not stored", and what only
// memory holds is shown again rather than lost with the run.
func commitPending(m Machine, err error) (Machine, []Effect) {
	switch {
	case errors.Is(err, ErrInterrupted):
		err = fmt.Errorf("%w: interrupted before the credentials were stored", ErrNotStored)
	case !errors.Is(err, ErrNotStored):
		err = fmt.Errorf("%w: %w", ErrNotStored, err)
	}
	raw, decoded, journaled, issued := m.raw, m.decoded, m.journaled, m.issued
	m, effects := fail(m, err, StateFailed)
	m.Failure.Journaled = journaled
	switch {
	case journaled:
	case decoded != nil && issued:
		reveal := *decoded
		m.Failure.Reveal = &reveal
	case decoded == nil && raw != nil:
		m.Failure.RevealRaw = raw
	}
	return m, effects
}

// unreadable handles an answer that cannot be turned into credentials. A
// journaled one is set aside (kept, never deleted) so that it does not block
// every later run; one that could not be journaled is shown once, as it is
// the only copy.
func unreadable(m Machine, err error) (Machine, []Effect) {
	if m.cut != nil {
		// The reason the bytes are short says more than what they lack.
		err = fmt.Errorf("%w; the answer was cut short: %v", err, m.cut)
	}
	journaled := m.journaled
	raw := m.raw
	m, effects := fail(m, err, StateFailed)
	m.Failure.Journaled = journaled
	m.raw = nil
	if !journaled {
		m.Failure.RevealRaw = raw
		return m, effects
	}
	return m, append([]Effect{SetAsideJournal{}}, effects...)
}
