package flow

import (
	"errors"
	"fmt"
)

// Step is the whole enrollment logic: given a machine and an event it
// returns the next machine and the effects to execute. It is pure: no I/O,
// no clock, no randomness. Events that make no sense in a state are ignored,
// so a stray key press or a late result can never corrupt an enrollment.
func Step(m Machine, ev Event) (Machine, []Effect) {
	if _, ok := ev.(Interrupt); ok {
		return interrupt(m)
	}
	switch m.State {
	case StateLoading:
		return stepLoading(m, ev)
	case StateWelcome, StateInvitation, StateServer, StateName, StateReview:
		return stepInput(m, ev)
	case StatePreparing, StateAuthenticating, StateAccepting, StateJournaling, StateSaving:
		return stepAccepting(m, ev)
	case StateDeclining:
		return stepDeclining(m, ev)
	case StateFailed:
		return stepFailed(m, ev)
	}
	return m, nil // Done and Declined are final
}

func stepLoading(m Machine, ev Event) (Machine, []Effect) {
	switch ev := ev.(type) {
	case Loaded:
		snap := ev.Snapshot
		m.Warnings = snap.Warnings
		if snap.Existing != nil && snap.Existing.Server == "" {
			// Without its server the secret could go wherever a link points.
			return fail(m, fmt.Errorf("%w: the stored credentials name no server", ErrUnauthorized), StateFailed)
		}
		if snap.Existing != nil {
			ex := *snap.Existing
			m.Existing = &ex
			if ex.Name != "" {
				m.Name = ex.Name
			}
			if m.fixedServer && ex.Server != "" && ex.Server != m.Server {
				// Authenticating would hand this device's secret to
				// another server: never do that implicitly.
				return fail(m, fmt.Errorf("%w: this device is enrolled with %s, not %s; run `enroll forget` first to enroll with another server",
					ErrUsage, Sanitize(ex.Server), Sanitize(m.Server)), StateFailed)
			}
			if !m.fixedServer {
				m.Server = ex.Server
			}
		}
		if p := snap.Pending; p != nil {
			return recoverPending(m, *p)
		}
		m.State = StateWelcome
		return m, nil
	case EffectFailed:
		return fail(m, ev.Err, StateFailed)
	}
	return m, nil
}

// recoverPending finishes an enrollment whose answer was journaled but not
// committed: the invitation is spent, so the journal is the only copy.
func recoverPending(m Machine, p Pending) (Machine, []Effect) {
	m.Server, m.raw, m.receivedAt, m.Recovered = p.Server, p.Raw, p.ReceivedAt, true
	m.RecoveredDigest, m.journaled = p.InvitationDigest, true
	if p.Name != "" {
		m.Name, m.NameChosen = p.Name, true
	}
	if p.Existing != nil {
		ex := *p.Existing
		m.Existing = &ex
	}
	m.State = StatePreparing
	return m, []Effect{PrepareStore{Commit: true}}
}

func stepInput(m Machine, ev Event) (Machine, []Effect) {
	m.InputErr = nil
	switch ev := ev.(type) {
	case Next:
		if m.State == StateWelcome {
			m.State = StateInvitation
		}
	case InvitationEntered:
		if m.State == StateInvitation {
			return takeInvitation(m, ev.Text)
		}
	case ServerConfirmed:
		if m.State == StateServer {
			if !ev.OK {
				m.Proposed, m.State = "", StateInvitation
				return m, nil
			}
			m.Server, m.Proposed, m.State, m.linkServer = m.Proposed, "", StateName, true
		}
	case NameEntered:
		if m.State == StateName {
			name, err := ValidateName(ev.Text)
			if err != nil {
				m.InputErr = err
				return m, nil
			}
			m.Name, m.NameChosen, m.State = name, true, StateReview
		}
	case NameDefault:
		if m.State == StateName {
			m.NameChosen, m.State = false, StateReview
		}
	case AcceptChosen:
		if m.State == StateReview {
			m.State = StatePreparing
			return m, []Effect{PrepareStore{}}
		}
	case DeclineChosen:
		if m.State == StateReview {
			m.State = StateDeclining
			return m, []Effect{CallDecline{Request: DeclineRequest{Server: m.Server, Token: m.Invitation.Token}}}
		}
	case Back:
		m.State = backFrom(m)
		if m.State == StateInvitation && m.linkServer {
			// The server was confirmed for that link only: another link
			// must be confirmed again.
			m.Server, m.linkServer = "", false
		}
	}
	return m, nil
}

func takeInvitation(m Machine, text string) (Machine, []Effect) {
	inv, err := ParseInvitation(text)
	if err == nil {
		err = m.Usable(inv)
	}
	if err != nil {
		m.InputErr = err
		return m, nil
	}
	if m.Server != "" {
		m.State = StateName
	} else {
		m.Proposed, m.State = inv.Origin, StateServer
	}
	m.Invitation = inv
	return m, nil
}

// Usable says why an invitation read from text cannot be used in this run,
// or nil: a token alone names no server, so one must be known already.
func (m Machine) Usable(inv Invitation) error {
	if m.Server == "" && inv.Origin == "" {
		return fmt.Errorf("%w: a token alone names no server; paste the whole link, or use --server", ErrUsage)
	}
	return nil
}

func backFrom(m Machine) State {
	switch m.State {
	case StateInvitation:
		return StateWelcome
	case StateServer, StateName:
		return StateInvitation
	case StateReview:
		return StateName
	}
	return m.State
}

func stepDeclining(m Machine, ev Event) (Machine, []Effect) {
	switch ev := ev.(type) {
	case DeclineDone:
		m.State = StateDeclined
	case EffectFailed:
		if m.Interrupted {
			return fail(m, ErrInterrupted, StateFailed)
		}
		return fail(m, ev.Err, StateReview)
	}
	return m, nil
}

func stepFailed(m Machine, ev Event) (Machine, []Effect) {
	f := m.Failure
	switch ev := ev.(type) {
	case SetAside:
		if f != nil {
			nf := *f
			nf.SetAsideTo = ev.Path
			m.Failure = &nf
		}
	case Retry:
		if f == nil || !f.Retry {
			return m, nil
		}
		m.Failure = nil
		if f.At == StateDeclining {
			m.State = StateDeclining
			return m, []Effect{CallDecline{Request: DeclineRequest{Server: m.Server, Token: m.Invitation.Token}}}
		}
		m.State = StatePreparing
		return m, []Effect{PrepareStore{Commit: m.raw != nil || m.decoded != nil}}
	case Back:
		if f == nil || f.Back == StateFailed {
			return m, nil
		}
		m.Failure, m.State = nil, f.Back
	}
	return m, nil
}

// interrupt stops at once where nothing was sent, and otherwise lets the
// commit finish: a secret that the service already issued must land on disk.
func interrupt(m Machine) (Machine, []Effect) {
	switch {
	case m.State.Terminal():
		return m, nil
	case m.State.Working():
		// Preparing and Authenticating stop when their effect returns;
		// from Accepting on, the work runs to its end.
		m.Interrupted = true
		return m, nil
	}
	return fail(m, ErrInterrupted, StateFailed)
}

// fail moves to StateFailed, releasing the lock if held. back is where the
// Back event leads; retry follows the error's class, except that nothing
// after the accept call may be retried by repeating the call.
func fail(m Machine, err error, back State) (Machine, []Effect) {
	err = RedactError(err, m.Secrets()...)
	class := Classify(err)
	f := &Failure{Err: err, Class: class, At: m.State, Back: back, Retry: class.Retry}
	if m.State == StateLoading || errors.Is(err, ErrInterrupted) {
		f.Retry = false
	}
	m.Failure, m.State, m.InputErr = f, StateFailed, nil
	var effects []Effect
	if m.locked {
		m.locked = false
		effects = append(effects, ReleaseStore{})
	}
	return m, effects
}
