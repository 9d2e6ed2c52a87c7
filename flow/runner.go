package flow

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Driver executes effects through a Service and a Store. Both the plain
// runner below and the wizard use it, so the two can never disagree on what
// an effect means.
type Driver struct {
	Service Service
	Store   Store
	Now     func() time.Time
}

// Execute runs one effect and returns the event that reports its outcome,
// or nil for effects without one. ctx is the interruptible context, and its
// deadline is the run's time limit. The accept and decline calls get it
// as it is: the Service stops them on an interruption only while nothing
// can have reached the other side, and otherwise waits for the answer
// until the deadline (see Service). The journal and the commit run
// without either: a secret already received must land on disk (the lock's
// wait is bounded on its own).
func (d Driver) Execute(ctx context.Context, eff Effect) Event {
	committed := context.WithoutCancel(ctx)
	switch e := eff.(type) {
	case LoadCredentials:
		snap, err := d.Store.Load(ctx)
		if err != nil {
			return EffectFailed{Err: err}
		}
		return Loaded{Snapshot: snap}
	case PrepareStore:
		pctx := ctx
		if e.Commit {
			pctx = committed // the lock's wait is bounded on its own
		}
		if err := d.Store.Prepare(pctx); err != nil {
			return EffectFailed{Err: err}
		}
		return Prepared{}
	case Authenticate:
		bearer, err := d.Service.Authenticate(ctx, e.Server, e.Credentials)
		if err != nil {
			return EffectFailed{Err: err}
		}
		return Authenticated{Bearer: bearer}
	case CallAccept:
		raw, err := d.Service.Accept(ctx, e.Request)
		if raw == nil {
			return EffectFailed{Err: err}
		}
		return Answered{Raw: raw, At: d.now(), Cut: err}
	case WriteJournal:
		if err := d.Store.Journal(e.Pending); err != nil {
			return EffectFailed{Err: err}
		}
		return Journaled{}
	case DecodeAnswer:
		c, err := d.Service.DecodeAccept(e.Raw)
		if err != nil {
			return EffectFailed{Err: err}
		}
		return Decoded{Client: c}
	case SaveCredentials:
		if err := d.Store.Save(e.Credentials); err != nil {
			return EffectFailed{Err: err}
		}
		// A store that seals says so (persist's); a plain one need not.
		s, ok := d.Store.(interface{ Sealed() bool })
		return Saved{Sealed: ok && s.Sealed()}
	case CallDecline:
		if err := d.Service.Decline(ctx, e.Request); err != nil {
			return EffectFailed{Err: err}
		}
		return DeclineDone{}
	case SetAsideJournal:
		path, err := d.Store.SetAside()
		if err != nil {
			return nil // it stays where it is, which the failure already says
		}
		return SetAside{Path: path}
	case ReleaseStore:
		_ = d.Store.Release() // closing a lock file cannot lose data
		return nil
	}
	panic(fmt.Sprintf("flow: unknown effect %T", eff))
}

func (d Driver) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

// Script is what a non-interactive run answers at each input step.
type Script struct {
	Invitation string
	Name       string // "": the host name for a new device, unchanged for an existing one
	Decline    bool
	// TrustLinkServer takes the server from the link's origin when none
	// was configured; a person would be asked instead.
	TrustLinkServer bool
}

// Run drives the machine to a terminal state without asking anyone.
// Cancelling ctx is an interruption: before the accept call it stops the
// run, after it the commit completes first. progress, if not nil, sees
// every machine the run passes through.
//
// A run that finds an interrupted enrollment completes it first. If the
// script's invitation is the one that enrollment used, that is all; if it
// is another, the run goes on with it as the now enrolled device, so a
// script never loses an invitation to a recovery. The returned machine then
// has Recovered set as well.
func Run(ctx context.Context, d Driver, cfg Config, s Script, progress func(Machine)) (Machine, error) {
	m, err := runOnce(ctx, d, cfg, s, progress)
	if err != nil || !m.Recovered || m.State != StateDone || s.Invitation == "" {
		return m, err
	}
	if inv, perr := ParseInvitation(s.Invitation); perr == nil && m.RecoveredDigest != "" &&
		InvitationDigest(inv.Token) == m.RecoveredDigest {
		return m, nil
	}
	next, err := runOnce(ctx, d, cfg, s, progress)
	next.Recovered, next.RecoveredFirst = true, true
	return next, err
}

func runOnce(ctx context.Context, d Driver, cfg Config, s Script, progress func(Machine)) (Machine, error) {
	var l Loop
	m := l.Start(cfg)
	// Its deadline passing is no interruption: the effect waiting on the
	// service fails with it, as a timeout.
	interrupted := func() bool { return errors.Is(ctx.Err(), context.Canceled) }
	stepped := func(Event) {
		if progress != nil {
			progress(m)
		}
	}
	for {
		l.Drain(ctx, d, &m, interrupted, stepped)
		if m.State.Terminal() {
			return m, outcome(m)
		}
		ev, err := scripted(m, s)
		if err != nil {
			return m, err
		}
		l.Feed(&m, ev)
		if m.InputErr != nil {
			return m, m.InputErr
		}
		stepped(ev)
	}
}

func scripted(m Machine, s Script) (Event, error) {
	switch m.State {
	case StateWelcome:
		return Next{}, nil
	case StateInvitation:
		if s.Invitation == "" {
			return nil, fmt.Errorf("%w: no invitation given; pass a link or token, --token-file FILE, or ENROLL_TOKEN", ErrUsage)
		}
		return InvitationEntered{Text: s.Invitation}, nil
	case StateServer:
		if !s.TrustLinkServer {
			return nil, fmt.Errorf("%w: no server configured; pass --server", ErrUsage)
		}
		return ServerConfirmed{OK: true}, nil
	case StateName:
		switch {
		case s.Name != "":
			return NameEntered{Text: s.Name}, nil
		case m.Existing == nil && m.Name != "":
			// A new device is named after its host, as the wizard proposes;
			// an existing one keeps the name it has.
			return NameEntered{Text: m.Name}, nil
		}
		return NameDefault{}, nil
	case StateReview:
		if s.Decline {
			return DeclineChosen{}, nil
		}
		return AcceptChosen{}, nil
	}
	return nil, fmt.Errorf("flow: no scripted answer in state %v", m.State)
}

func outcome(m Machine) error {
	if m.State == StateFailed && m.Failure != nil {
		return m.Failure.Err
	}
	return nil
}
