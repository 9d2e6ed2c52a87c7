package flow

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	testServer = "https://idp.example.com"
	testToken  = "inv-TOKEN-0123456789abcdef"
	testLink   = "https://idp.example.com/invitation?token=" + testToken
)

var (
	errBoom   = errors.New("boom")
	existing  = Credentials{Server: testServer, ID: "dev-1", ClientID: "cid-1", ClientSecret: "s3cret-existing", Name: "kiosk-7", EnrolledAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	newClient = Client{ID: "dev-2", ClientID: "cid-2", ClientSecret: "s3cret-new", Name: "lab-1"}
	answerAt  = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
)

// walk starts a machine and feeds it events, ignoring effects.
func walk(cfg Config, events ...Event) Machine {
	m, _ := Start(cfg)
	for _, ev := range events {
		m, _ = Step(m, ev)
	}
	return m
}

var (
	cfgServer = Config{Server: testServer, Hostname: "lab-1.local"}
	cfgNone   = Config{Hostname: "lab-1.local"}
	fresh     = Loaded{}
	enrolled  = Loaded{Snapshot: Snapshot{Existing: &existing}}
	toReview  = []Event{fresh, Next{}, InvitationEntered{Text: testLink}, NameEntered{Text: "lab-1"}}
)

func seq(groups ...[]Event) []Event {
	var out []Event
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func ev(e ...Event) []Event { return e }

func effectTypes(effs []Effect) []string {
	out := make([]string, 0, len(effs))
	for _, e := range effs {
		out = append(out, fmt.Sprintf("%T", e))
	}
	return out
}

func TestStep(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		before  []Event
		event   Event
		state   State
		effects []string
		exit    int   // failure exit code, when state is StateFailed
		back    State // failure's Back, when state is StateFailed
		retry   bool
	}{
		// Loading
		{name: "loaded fresh → welcome", cfg: cfgServer, event: fresh, state: StateWelcome},
		{name: "loaded existing → welcome", cfg: cfgServer, event: enrolled, state: StateWelcome},
		{name: "load failed", cfg: cfgServer, event: EffectFailed{Err: fmt.Errorf("x: %w", ErrStoreUnavailable)}, state: StateFailed, effects: []string{}, exit: ExitStore, back: StateFailed},
		{name: "existing without a server refused", cfg: cfgNone, event: Loaded{Snapshot: Snapshot{Existing: &Credentials{ID: "a", ClientID: "b", ClientSecret: "c"}}}, state: StateFailed, exit: ExitDevice, back: StateFailed},
		{name: "existing with another server refused", cfg: Config{Server: "https://other.example"}, event: enrolled, state: StateFailed, exit: ExitUsage, back: StateFailed},
		{name: "pending journal recovers", cfg: cfgServer, event: Loaded{Snapshot: Snapshot{Pending: &Pending{Server: testServer, Raw: []byte("{}")}}}, state: StatePreparing, effects: []string{"flow.PrepareStore"}},
		{name: "input ignored while loading", cfg: cfgServer, event: Next{}, state: StateLoading},
		{name: "interrupt while loading", cfg: cfgServer, event: Interrupt{}, state: StateFailed, exit: ExitInterrupted, back: StateFailed},

		// Welcome and invitation
		{name: "welcome next", cfg: cfgServer, before: ev(fresh), event: Next{}, state: StateInvitation},
		{name: "welcome back stays", cfg: cfgServer, before: ev(fresh), event: Back{}, state: StateWelcome},
		{name: "invitation link → name", cfg: cfgServer, before: ev(fresh, Next{}), event: InvitationEntered{Text: testLink}, state: StateName},
		{name: "invitation bare token with server → name", cfg: cfgServer, before: ev(fresh, Next{}), event: InvitationEntered{Text: testToken}, state: StateName},
		{name: "invitation bare token without server stays", cfg: cfgNone, before: ev(fresh, Next{}), event: InvitationEntered{Text: testToken}, state: StateInvitation},
		{name: "invitation garbage stays", cfg: cfgServer, before: ev(fresh, Next{}), event: InvitationEntered{Text: "javascript:alert(1)"}, state: StateInvitation},
		{name: "invitation link without server proposes origin", cfg: cfgNone, before: ev(fresh, Next{}), event: InvitationEntered{Text: testLink}, state: StateServer},
		{name: "existing device uses stored server", cfg: cfgNone, before: ev(enrolled, Next{}), event: InvitationEntered{Text: testToken}, state: StateName},
		{name: "invitation back → welcome", cfg: cfgServer, before: ev(fresh, Next{}), event: Back{}, state: StateWelcome},
		{name: "interrupt at invitation", cfg: cfgServer, before: ev(fresh, Next{}), event: Interrupt{}, state: StateFailed, exit: ExitInterrupted, back: StateFailed},

		// Server confirmation
		{name: "server confirmed → name", cfg: cfgNone, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: ServerConfirmed{OK: true}, state: StateName},
		{name: "server refused → invitation", cfg: cfgNone, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: ServerConfirmed{OK: false}, state: StateInvitation},
		{name: "server back → invitation", cfg: cfgNone, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: Back{}, state: StateInvitation},

		// Name
		{name: "name valid → review", cfg: cfgServer, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: NameEntered{Text: "  Lab 1 "}, state: StateReview},
		{name: "name empty stays", cfg: cfgServer, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: NameEntered{Text: "   "}, state: StateName},
		{name: "name with escape stays", cfg: cfgServer, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: NameEntered{Text: "a\x1b[2Jb"}, state: StateName},
		{name: "name default → review", cfg: cfgServer, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: NameDefault{}, state: StateReview},
		{name: "name back → invitation", cfg: cfgServer, before: ev(fresh, Next{}, InvitationEntered{Text: testLink}), event: Back{}, state: StateInvitation},

		// Review
		{name: "accept → preparing", cfg: cfgServer, before: toReview, event: AcceptChosen{}, state: StatePreparing, effects: []string{"flow.PrepareStore"}},
		{name: "decline → declining", cfg: cfgServer, before: toReview, event: DeclineChosen{}, state: StateDeclining, effects: []string{"flow.CallDecline"}},
		{name: "review back → name", cfg: cfgServer, before: toReview, event: Back{}, state: StateName},
		{name: "review ignores results", cfg: cfgServer, before: toReview, event: Saved{}, state: StateReview},

		// Preparing
		{name: "prepared new → accepting", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{})), event: Prepared{}, state: StateAccepting, effects: []string{"flow.CallAccept"}},
		{name: "prepared existing → authenticating", cfg: cfgServer, before: ev(enrolled, Next{}, InvitationEntered{Text: testLink}, NameDefault{}, AcceptChosen{}), event: Prepared{}, state: StateAuthenticating, effects: []string{"flow.Authenticate"}},
		{name: "prepare failed → store, back to review", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{})), event: EffectFailed{Err: fmt.Errorf("disk: %w", ErrStoreUnavailable)}, state: StateFailed, exit: ExitStore, back: StateReview, retry: true},
		{name: "busy → store", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{})), event: EffectFailed{Err: ErrBusy}, state: StateFailed, exit: ExitStore, back: StateReview, retry: true},
		{name: "interrupt while preparing waits", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{})), event: Interrupt{}, state: StatePreparing},
		{name: "prepared after interrupt stops", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Interrupt{})), event: Prepared{}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitInterrupted, back: StateFailed},

		// Authenticating
		{name: "authenticated → accepting", cfg: cfgServer, before: ev(enrolled, Next{}, InvitationEntered{Text: testLink}, NameDefault{}, AcceptChosen{}, Prepared{}), event: Authenticated{Bearer: "at"}, state: StateAccepting, effects: []string{"flow.CallAccept"}},
		{name: "auth refused → device", cfg: cfgServer, before: ev(enrolled, Next{}, InvitationEntered{Text: testLink}, NameDefault{}, AcceptChosen{}, Prepared{}), event: EffectFailed{Err: ErrUnauthorized}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitDevice, back: StateReview},
		{name: "auth network → retry", cfg: cfgServer, before: ev(enrolled, Next{}, InvitationEntered{Text: testLink}, NameDefault{}, AcceptChosen{}, Prepared{}), event: EffectFailed{Err: ErrNetwork}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitUnavailable, back: StateReview, retry: true},

		// Accepting
		{name: "answered → journaling", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{})), event: Answered{Raw: []byte("{}"), At: answerAt}, state: StateJournaling, effects: []string{"flow.WriteJournal"}},
		{name: "expired → refused, back to invitation", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{})), event: EffectFailed{Err: ErrInvitationExpired}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitRefused, back: StateInvitation},
		{name: "used → refused", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{})), event: EffectFailed{Err: ErrInvitationUsed}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitRefused, back: StateInvitation},
		{name: "not for device → refused", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{})), event: EffectFailed{Err: ErrNotForDevice}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitRefused, back: StateInvitation},
		{name: "server error → retry", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{})), event: EffectFailed{Err: ErrServer}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitUnavailable, back: StateReview, retry: true},
		{name: "outcome unknown → no retry, no back", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{})), event: EffectFailed{Err: ErrOutcomeUnknown}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitUnknown, back: StateFailed},
		{name: "interrupt while accepting continues", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{})), event: Interrupt{}, state: StateAccepting},

		// Journaling and saving
		{name: "journaled → saving", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")})), event: Journaled{}, state: StateSaving, effects: []string{"flow.DecodeAnswer"}},
		{name: "journal failed still decodes", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")})), event: EffectFailed{Err: errBoom}, state: StateSaving, effects: []string{"flow.DecodeAnswer"}},
		{name: "decoded → save", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{})), event: Decoded{Client: newClient}, state: StateSaving, effects: []string{"flow.SaveCredentials"}},
		{name: "decoded new without secret → bad answer", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{})), event: Decoded{Client: Client{ID: "x", ClientID: "y"}}, state: StateFailed, effects: []string{"flow.SetAsideJournal", "flow.ReleaseStore"}, exit: ExitUnknown, back: StateFailed},
		{name: "decode failed → bad answer", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{")}, Journaled{})), event: EffectFailed{Err: ErrBadResponse}, state: StateFailed, effects: []string{"flow.SetAsideJournal", "flow.ReleaseStore"}, exit: ExitUnknown, back: StateFailed},
		{name: "saved → done", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{}, Decoded{Client: newClient})), event: Saved{}, state: StateDone, effects: []string{"flow.ReleaseStore"}},
		{name: "save failed → not stored, retry", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{}, Decoded{Client: newClient})), event: EffectFailed{Err: errBoom}, state: StateFailed, effects: []string{"flow.ReleaseStore"}, exit: ExitUnknown, back: StateFailed, retry: true},
		{name: "interrupt while saving continues", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{})), event: Interrupt{}, state: StateSaving},

		// Declining
		{name: "declined", cfg: cfgServer, before: seq(toReview, ev(DeclineChosen{})), event: DeclineDone{}, state: StateDeclined},
		{name: "decline failed → review", cfg: cfgServer, before: seq(toReview, ev(DeclineChosen{})), event: EffectFailed{Err: ErrNetwork}, state: StateFailed, exit: ExitUnavailable, back: StateReview, retry: true},
		{name: "decline interrupted", cfg: cfgServer, before: seq(toReview, ev(DeclineChosen{}, Interrupt{})), event: EffectFailed{Err: errBoom}, state: StateFailed, exit: ExitInterrupted, back: StateFailed},

		// Failed
		{name: "retry after server error", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, EffectFailed{Err: ErrServer})), event: Retry{}, state: StatePreparing, effects: []string{"flow.PrepareStore"}},
		{name: "retry refused after outcome unknown", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, EffectFailed{Err: ErrOutcomeUnknown})), event: Retry{}, state: StateFailed, exit: ExitUnknown, back: StateFailed},
		{name: "back after expired → invitation", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, EffectFailed{Err: ErrInvitationExpired})), event: Back{}, state: StateInvitation},
		{name: "back after outcome unknown stays", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, EffectFailed{Err: ErrOutcomeUnknown})), event: Back{}, state: StateFailed, exit: ExitUnknown, back: StateFailed},
		{name: "retry decline", cfg: cfgServer, before: seq(toReview, ev(DeclineChosen{}, EffectFailed{Err: ErrNetwork})), event: Retry{}, state: StateDeclining, effects: []string{"flow.CallDecline"}},
		{name: "retry save after not stored", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{}, Decoded{Client: newClient}, EffectFailed{Err: errBoom}, Retry{})), event: Prepared{}, state: StateSaving, effects: []string{"flow.SaveCredentials"}},

		// Terminal states ignore everything
		{name: "done ignores back", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{}, Decoded{Client: newClient}, Saved{})), event: Back{}, state: StateDone},
		{name: "done ignores interrupt", cfg: cfgServer, before: seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}")}, Journaled{}, Decoded{Client: newClient}, Saved{})), event: Interrupt{}, state: StateDone},
		{name: "declined ignores retry", cfg: cfgServer, before: seq(toReview, ev(DeclineChosen{}, DeclineDone{})), event: Retry{}, state: StateDeclined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := walk(tt.cfg, tt.before...)
			got, effs := Step(m, tt.event)
			if got.State != tt.state {
				t.Fatalf("state = %v, want %v (failure %+v, input error %v)", got.State, tt.state, got.Failure, got.InputErr)
			}
			if tt.effects != nil && !reflect.DeepEqual(effectTypes(effs), tt.effects) {
				t.Errorf("effects = %v, want %v", effectTypes(effs), tt.effects)
			}
			if tt.state != StateFailed {
				return
			}
			f := got.Failure
			if f == nil {
				t.Fatal("failed without a Failure")
			}
			if f.Class.Exit != tt.exit || f.Back != tt.back || f.Retry != tt.retry {
				t.Errorf("failure exit=%d back=%v retry=%v, want exit=%d back=%v retry=%v (%v)", f.Class.Exit, f.Back, f.Retry, tt.exit, tt.back, tt.retry, f.Err)
			}
		})
	}
}

// Step takes its machine by value, but a machine holds pointers and slices
// (the stored credentials, the raw answer): a Step that wrote through one
// would change its caller's machine. Each step of an enrolled device's
// whole run is checked against a twin built from fresh copies of the same
// events, so that the two share nothing.
func TestStepIsPure(t *testing.T) {
	path := func() []Event {
		ex := existing
		return []Event{Loaded{Snapshot: Snapshot{Existing: &ex}}, Next{}, InvitationEntered{Text: testToken}, NameDefault{},
			AcceptChosen{}, Prepared{}, Authenticated{Bearer: "a"}, Answered{Raw: []byte(`{"id":"dev-1"}`)}, Journaled{},
			Decoded{Client: Client{ID: "dev-1", ClientID: "cid-1", Name: "renamed"}}, Saved{}}
	}
	events := path()
	for i, ev := range events {
		m := walk(cfgNone, path()[:i]...)
		twin := walk(cfgNone, path()[:i]...)
		if !reflect.DeepEqual(m, twin) {
			t.Fatalf("walks to step %d differ before stepping", i)
		}
		_, _ = Step(m, ev)
		if !reflect.DeepEqual(m, twin) {
			t.Fatalf("Step(%T) changed its input machine", ev)
		}
	}
	if m := walk(cfgNone, events...); m.State != StateDone {
		t.Fatalf("the path ends in %v, not done: the check above did not cover the commit", m.State)
	}
}

func TestInputErrorsNeverShowTheToken(t *testing.T) {
	m := walk(cfgNone, fresh, Next{}, InvitationEntered{Text: testToken})
	if m.InputErr == nil || strings.Contains(m.InputErr.Error(), testToken) {
		t.Fatalf("input error %v", m.InputErr)
	}
}

func TestStateNames(t *testing.T) {
	for s := StateLoading; s <= StateFailed; s++ {
		if strings.HasPrefix(s.String(), "State(") {
			t.Errorf("state %d has no name", int(s))
		}
	}
	if State(99).String() != "State(99)" {
		t.Error("unknown state name")
	}
}

func TestBackForgetsAConfirmedLinkServer(t *testing.T) {
	m := walk(cfgNone, fresh, Next{}, InvitationEntered{Text: testLink}, ServerConfirmed{OK: true}, Back{})
	if m.State != StateInvitation || m.Server != "" {
		t.Fatalf("state %v server %q", m.State, m.Server)
	}
	m, _ = Step(m, InvitationEntered{Text: "https://other.example.net/invitation?token=" + testToken})
	if m.State != StateServer || m.Proposed != "https://other.example.net" {
		t.Fatalf("another link was not confirmed again: state %v proposed %q", m.State, m.Proposed)
	}
	// A server from the command line stays.
	m = walk(cfgServer, fresh, Next{}, InvitationEntered{Text: testLink}, Back{})
	if m.Server != testServer {
		t.Fatalf("configured server lost: %q", m.Server)
	}
}
