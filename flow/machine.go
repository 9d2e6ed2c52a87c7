package flow

import (
	"fmt"
	"time"
)

// State is one step of an enrollment. The wizard draws one screen per state;
// the plain runner walks the same states without a screen.
type State int

const (
	StateLoading        State = iota // reading the credentials store
	StateWelcome                     // what this device is, what happens next
	StateInvitation                  // waiting for the invitation
	StateServer                      // confirming the server proposed by the link
	StateName                        // choosing the device name
	StateReview                      // accept, decline or go back
	StatePreparing                   // locking the store and proving it writable
	StateAuthenticating              // an existing device gets an access token
	StateAccepting                   // the accept call is in flight
	StateJournaling                  // the raw answer is being journaled
	StateSaving                      // decoding and committing the credentials
	StateDeclining                   // the decline call is in flight
	StateDone                        // credentials stored
	StateDeclined                    // invitation declined
	StateFailed                      // see Machine.Failure
)

var stateNames = [...]string{
	"loading", "welcome", "invitation", "server", "name", "review",
	"preparing", "authenticating", "accepting", "journaling", "saving",
	"declining", "done", "declined", "failed",
}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// Terminal reports whether nothing more will happen without a person
// choosing Retry or Back.
func (s State) Terminal() bool {
	return s == StateDone || s == StateDeclined || s == StateFailed
}

// Working reports whether an effect is in flight.
func (s State) Working() bool {
	return s >= StatePreparing && s <= StateDeclining
}

// Doing says what a working state is doing ("Accepting the invitation"),
// and "" for any other state: the wizard's spinner line, the plain runner's
// progress and the scripted commands' --verbose lines all say the same.
func (s State) Doing() string {
	switch s {
	case StatePreparing:
		return "Checking that the credentials can be stored"
	case StateAuthenticating:
		return "Authenticating this device"
	case StateAccepting:
		return "Accepting the invitation"
	case StateJournaling:
		return "Keeping the answer safe"
	case StateSaving:
		return "Storing the credentials"
	case StateDeclining:
		return "Declining the invitation"
	}
	return ""
}

// Sent reports whether the accept call may already have reached the service.
// From here on an interruption must let the commit finish.
func (s State) Sent() bool {
	return s == StateAccepting || s == StateJournaling || s == StateSaving
}

// Outstanding is what an interruption must let finish before a run ends.
type Outstanding int

const (
	// OutstandingNone: stopping loses nothing and leaves the invitation
	// as it was.
	OutstandingNone Outstanding = iota
	// OutstandingDecline: a decline call that may have reached the service.
	OutstandingDecline
	// OutstandingCommit: the accept call may have reached the service, or
	// its answer is held (a save being retried, a journal being finished):
	// the credentials must be stored.
	OutstandingCommit
)

// Outstanding says what an interruption now has to wait for; every
// screen, label and report of an interruption follows it.
func (m Machine) Outstanding() Outstanding {
	switch {
	case m.State == StateDeclining:
		return OutstandingDecline
	case m.State.Sent() || m.raw != nil || m.decoded != nil || m.journaled:
		return OutstandingCommit
	}
	return OutstandingNone
}

// NothingSent reports whether stopping now loses nothing: no accept or
// decline call may have reached the service, and no answer of one is held.
func (m Machine) NothingSent() bool { return m.Outstanding() == OutstandingNone }

// Config is what the machine knows before it starts.
type Config struct {
	// Server is the service base URL from the command line or environment,
	// already normalized; "" when none was given.
	Server   string
	Hostname string
}

// Failure describes why the machine stopped in StateFailed.
type Failure struct {
	Err   error
	Class Class
	// At is the step that failed.
	At State
	// Back is where Back leads; StateFailed when going back makes no sense
	// (the invitation was used or may have been).
	Back State
	// Retry is true when the Retry event repeats the failed step.
	Retry bool
	// Reveal holds credentials the service issued that could be neither
	// journaled nor saved: the driver shows them to the operator once.
	Reveal *Credentials
	// RevealRaw is an answer that could be neither read nor journaled:
	// the driver shows it once, as it is the only copy.
	RevealRaw []byte
	// Journaled is true when the answer is in the journal; SetAsideTo is
	// where an unusable journal was moved.
	Journaled  bool
	SetAsideTo string
}

// Machine is the whole state of one enrollment. It is a value: Step returns
// a new one and never mutates shared data.
type Machine struct {
	State State

	Server      string // the server in use; "" until known
	fixedServer bool   // Server came from the command line
	linkServer  bool   // Server is a link's origin the person confirmed
	Proposed    string // the link's origin, awaiting confirmation

	Existing   *Credentials // this device's stored client, if any
	Warnings   []string     // repairs the store reported
	Invitation Invitation
	Name       string // proposed or chosen device name
	NameChosen bool   // send Name with the accept call
	InputErr   error  // why the last input was not taken

	Failure   *Failure
	Result    *Credentials // stored credentials, in StateDone
	Recovered bool         // Result came from an interrupted run's journal
	// RecoveredDigest is the InvitationDigest of the invitation the
	// recovered answer was for, "" when unknown.
	RecoveredDigest string
	// RecoveredFirst: Run completed an interrupted enrollment, then went
	// on with the script's own invitation (whatever became of that).
	RecoveredFirst bool
	Interrupted    bool // an interruption arrived while working

	bearer     string    // access token of an existing device, memory only
	raw        []byte    // the accept answer as received
	cut        error     // why raw is not the whole answer, or nil
	receivedAt time.Time // when raw arrived
	journaled  bool      // the answer is in the journal
	issued     bool      // the answer carried a new secret
	decoded    *Credentials
	locked     bool
}

// Start returns the first machine and its first effect.
func Start(cfg Config) (Machine, []Effect) {
	m := Machine{
		State:       StateLoading,
		Server:      cfg.Server,
		fixedServer: cfg.Server != "",
		Name:        DefaultName(cfg.Hostname),
	}
	return m, []Effect{LoadCredentials{}}
}
