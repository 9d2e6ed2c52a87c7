package flow

import "time"

// Event is something that happened: a person's input, or the result of an
// effect the driver executed. Events are small values; the machine never
// waits for anything itself.
type Event interface{ isEvent() }

// Input events, from a person or a script.
type (
	// Next leaves the welcome screen.
	Next struct{}
	// InvitationEntered carries the text typed, pasted or scanned.
	InvitationEntered struct{ Text string }
	// ServerConfirmed answers the proposal to use the link's origin.
	ServerConfirmed struct{ OK bool }
	// NameEntered carries the device name the person chose.
	NameEntered struct{ Text string }
	// NameDefault keeps the proposed name without sending it: the service
	// then names the device (scripts without --name).
	NameDefault struct{}
	// AcceptChosen and DeclineChosen are the two answers on the review step.
	AcceptChosen  struct{}
	DeclineChosen struct{}
	// Back goes one step back; on a failure, to where the failure says.
	Back struct{}
	// Retry repeats the step that failed, when the failure allows it.
	Retry struct{}
	// Interrupt is Ctrl-C, SIGTERM or a dropped session.
	Interrupt struct{}
)

// Result events, one per effect outcome. A failed effect of any kind is
// reported as EffectFailed; the state says which step it was.
type (
	Loaded        struct{ Snapshot Snapshot }
	Prepared      struct{}
	Authenticated struct{ Bearer string }
	// Answered carries the raw body of a successful accept call and when
	// it arrived (the machine has no clock).
	Answered struct {
		Raw []byte
		At  time.Time
		Cut error // why Raw is not the whole answer (a deadline, a broken body), or nil
	}
	Journaled   struct{}
	Decoded     struct{ Client Client }
	Saved       struct{ Sealed bool } // Sealed: the store sealed the secret to the TPM
	DeclineDone struct{}
	// SetAside reports where an unusable journal was moved.
	SetAside     struct{ Path string }
	EffectFailed struct{ Err error }
)

func (Next) isEvent()              {}
func (InvitationEntered) isEvent() {}
func (ServerConfirmed) isEvent()   {}
func (NameEntered) isEvent()       {}
func (NameDefault) isEvent()       {}
func (AcceptChosen) isEvent()      {}
func (DeclineChosen) isEvent()     {}
func (Back) isEvent()              {}
func (Retry) isEvent()             {}
func (Interrupt) isEvent()         {}
func (Loaded) isEvent()            {}
func (Prepared) isEvent()          {}
func (Authenticated) isEvent()     {}
func (Answered) isEvent()          {}
func (Journaled) isEvent()         {}
func (Decoded) isEvent()           {}
func (Saved) isEvent()             {}
func (DeclineDone) isEvent()       {}
func (SetAside) isEvent()          {}
func (EffectFailed) isEvent()      {}

// Effect is work the machine asks its driver to do. The driver executes it
// through Service or Store and feeds the outcome back as an event.
type Effect interface{ isEffect() }

type (
	LoadCredentials struct{}
	// PrepareStore takes the lock and proves the store writable. Commit
	// is set when an answer already received waits for it (a journal being
	// finished, a save being retried): then an interruption must not cut
	// it short, as the commit is what keeps the secret.
	PrepareStore struct{ Commit bool }
	Authenticate struct {
		Server      string
		Credentials Credentials
	}
	CallAccept      struct{ Request AcceptRequest }
	WriteJournal    struct{ Pending Pending }
	DecodeAnswer    struct{ Raw []byte }
	SaveCredentials struct{ Credentials Credentials }
	CallDecline     struct{ Request DeclineRequest }
	// SetAsideJournal moves a journal whose answer cannot be used out of
	// the way (keeping it), so it does not block every later run.
	SetAsideJournal struct{}
	// ReleaseStore gives the lock back. It never fails in a way that
	// matters to the flow, so it has no result event.
	ReleaseStore struct{}
)

func (LoadCredentials) isEffect() {}
func (PrepareStore) isEffect()    {}
func (Authenticate) isEffect()    {}
func (CallAccept) isEffect()      {}
func (WriteJournal) isEffect()    {}
func (DecodeAnswer) isEffect()    {}
func (SaveCredentials) isEffect() {}
func (CallDecline) isEffect()     {}
func (SetAsideJournal) isEffect() {}
func (ReleaseStore) isEffect()    {}
