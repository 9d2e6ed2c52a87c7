package flow

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func walk2(m Machine, events ...Event) Machine {
	for _, ev := range events {
		m, _ = Step(m, ev)
	}
	return m
}

func TestAcceptRequestCarriesNameOnlyWhenChosen(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Event
		want string
	}{
		{"chosen", NameEntered{Text: "Lab 1"}, "Lab 1"},
		{"default", NameDefault{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := walk(cfgServer, fresh, Next{}, InvitationEntered{Text: testLink}, tc.in, AcceptChosen{})
			_, effs := Step(m, Prepared{})
			acc, ok := effs[0].(CallAccept)
			if !ok {
				t.Fatalf("effect %T, want CallAccept", effs[0])
			}
			if acc.Request.Name != tc.want || acc.Request.Token != testToken || acc.Request.Server != testServer || acc.Request.Bearer != "" {
				t.Errorf("request = %+v", acc.Request)
			}
		})
	}
}

func TestExistingDeviceKeepsSecretAndSendsBearer(t *testing.T) {
	m := walk(cfgNone, enrolled, Next{}, InvitationEntered{Text: testToken}, NameDefault{}, AcceptChosen{}, Prepared{})
	m, effs := Step(m, Authenticated{Bearer: "access-1"})
	if acc := effs[0].(CallAccept); acc.Request.Bearer != "access-1" || acc.Request.Server != testServer {
		t.Fatalf("request = %+v", acc.Request)
	}
	m = walk2(m, Answered{Raw: []byte("{}"), At: answerAt}, Journaled{}, Decoded{Client: Client{ID: "dev-1", ClientID: "cid-1", Name: "renamed"}})
	if m.decoded == nil || m.decoded.ClientSecret != existing.ClientSecret || m.decoded.Name != "renamed" || !m.decoded.EnrolledAt.Equal(existing.EnrolledAt) {
		t.Fatalf("decoded = %+v", m.decoded)
	}
	if m.bearer != "" {
		t.Error("bearer kept after the accept call")
	}
	m, _ = Step(m, Decoded{Client: Client{ID: "dev-9", ClientID: "someone-else"}})
	if m.State != StateSaving {
		t.Fatal("a second Decoded changed the state")
	}
}

// An enrolled device's credentials are replaced only by its own client:
// whichever of id and clientId differs, with or without a new secret, the
// answer is set aside and nothing is saved.
func TestExistingDeviceAnswerForAnotherClient(t *testing.T) {
	for _, c := range []Client{
		{ID: "x", ClientID: "other"},
		{ID: existing.ID, ClientID: "other"},
		{ID: "x", ClientID: existing.ClientID},
		{ID: "x", ClientID: "other", ClientSecret: "fresh-secret"},
		{ID: existing.ID, ClientID: "other", ClientSecret: "fresh-secret"},
		{ID: "x", ClientID: existing.ClientID, ClientSecret: "fresh-secret"},
	} {
		m := walk(cfgNone, enrolled, Next{}, InvitationEntered{Text: testToken}, NameDefault{}, AcceptChosen{}, Prepared{}, Authenticated{Bearer: "a"}, Answered{Raw: []byte("{}")}, Journaled{})
		m, effs := Step(m, Decoded{Client: c})
		if m.State != StateFailed || !errors.Is(m.Failure.Err, ErrBadResponse) || !strings.Contains(m.Failure.Err.Error(), "names another client") {
			t.Fatalf("%+v: state %v failure %+v", c, m.State, m.Failure)
		}
		if len(effs) == 0 || effs[0] != (SetAsideJournal{}) {
			t.Errorf("%+v: effects %v, want the answer set aside first", c, effs)
		}
		for _, e := range effs {
			if _, ok := e.(SaveCredentials); ok {
				t.Errorf("%+v: saved", c)
			}
		}
	}
	// Its own client with a new secret (the service rotated it) is stored.
	m := walk(cfgNone, enrolled, Next{}, InvitationEntered{Text: testToken}, NameDefault{}, AcceptChosen{}, Prepared{}, Authenticated{Bearer: "a"}, Answered{Raw: []byte("{}")}, Journaled{})
	m, effs := Step(m, Decoded{Client: Client{ID: existing.ID, ClientID: existing.ClientID, ClientSecret: "rotated-secret"}})
	if save, ok := effs[0].(SaveCredentials); !ok || save.Credentials.ClientSecret != "rotated-secret" || m.State != StateSaving {
		t.Fatalf("effects %v", effs)
	}
}

func TestRevealOnlyWhenJournalAndSaveBothFailed(t *testing.T) {
	base := seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}"), At: answerAt}))
	for _, tc := range []struct {
		name    string
		journal Event
		reveal  bool
	}{
		{"journal ok", Journaled{}, false},
		{"journal failed", EffectFailed{Err: errBoom}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := walk(cfgServer, append(base, tc.journal, Decoded{Client: newClient}, EffectFailed{Err: errBoom})...)
			if m.State != StateFailed || !errors.Is(m.Failure.Err, ErrNotStored) {
				t.Fatalf("state %v failure %+v", m.State, m.Failure)
			}
			if got := m.Failure.Reveal != nil; got != tc.reveal {
				t.Fatalf("reveal = %v, want %v", got, tc.reveal)
			}
			if tc.reveal && m.Failure.Reveal.ClientSecret != newClient.ClientSecret {
				t.Error("revealed credentials lack the secret")
			}
		})
	}
}

func TestRecoveredPendingIsCompleted(t *testing.T) {
	p := &Pending{Server: testServer, Name: "lab-1", Raw: []byte(`{"id":"dev-2"}`), ReceivedAt: answerAt}
	m := walk(cfgNone, Loaded{Snapshot: Snapshot{Pending: p}})
	m, effs := Step(m, Prepared{})
	if d, ok := effs[0].(DecodeAnswer); !ok || string(d.Raw) != string(p.Raw) {
		t.Fatalf("effects %v", effectTypes(effs))
	}
	m = walk2(m, Decoded{Client: newClient}, Saved{})
	if m.State != StateDone || !m.Recovered || m.Result.Server != testServer || !m.Result.EnrolledAt.Equal(answerAt) {
		t.Fatalf("machine %+v", m)
	}
}

func TestRecoveryStoreFailureIsNotStored(t *testing.T) {
	p := &Pending{Server: testServer, Raw: []byte(`{}`)}
	m := walk(cfgNone, Loaded{Snapshot: Snapshot{Pending: p}}, EffectFailed{Err: ErrStoreUnavailable})
	if m.State != StateFailed || m.Failure.Class.Exit != ExitUnknown {
		t.Fatalf("failure %+v", m.Failure)
	}
}

func TestUnreadableAnswer(t *testing.T) {
	base := seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{garbage"), At: answerAt}))
	t.Run("journaled: set aside, not shown", func(t *testing.T) {
		m := walk(cfgServer, append(base, Journaled{}, EffectFailed{Err: ErrBadResponse})...)
		if !m.Failure.Journaled || m.Failure.RevealRaw != nil {
			t.Fatalf("failure %+v", m.Failure)
		}
		m, _ = Step(m, SetAside{Path: "/x/credentials.json.pending.unreadable-1"})
		if m.Failure.SetAsideTo != "/x/credentials.json.pending.unreadable-1" {
			t.Errorf("SetAsideTo = %q", m.Failure.SetAsideTo)
		}
	})
	t.Run("not journaled: shown once", func(t *testing.T) {
		m := walk(cfgServer, append(base, EffectFailed{Err: errBoom}, EffectFailed{Err: ErrBadResponse})...)
		if m.Failure.Journaled || string(m.Failure.RevealRaw) != "{garbage" {
			t.Fatalf("failure %+v", m.Failure)
		}
	})
}

func TestExistingSecretNeverRevealed(t *testing.T) {
	// The stored secret is still in the intact credentials file: a failed
	// save of an existing device must not print it.
	m := walk(cfgNone, enrolled, Next{}, InvitationEntered{Text: testToken}, NameDefault{}, AcceptChosen{}, Prepared{},
		Authenticated{Bearer: "a"}, Answered{Raw: []byte("{}")}, EffectFailed{Err: errBoom},
		Decoded{Client: Client{ID: existing.ID, ClientID: existing.ClientID}}, EffectFailed{Err: errBoom})
	if m.State != StateFailed || m.Failure.Reveal != nil {
		t.Fatalf("failure %+v", m.Failure)
	}
}

func TestRecoveryLosingTheLockIsBusy(t *testing.T) {
	p := &Pending{Server: testServer, Raw: []byte(`{}`)}
	m := walk(cfgNone, Loaded{Snapshot: Snapshot{Pending: p}}, EffectFailed{Err: fmt.Errorf("lock: %w", ErrBusy)})
	if m.State != StateFailed || m.Failure.Class.Kind != ErrBusy || !m.Failure.Journaled || m.Failure.Back != StateFailed {
		t.Fatalf("failure %+v; want busy, journaled, and no way back to the spent invitation", m.Failure)
	}
}

func TestJournalCarriesInvitationDigest(t *testing.T) {
	m := walk(cfgServer, seq(toReview, ev(AcceptChosen{}, Prepared{}))...)
	_, effs := Step(m, Answered{Raw: []byte("{}")})
	p := effs[0].(WriteJournal).Pending
	if p.InvitationDigest != InvitationDigest(testToken) || strings.Contains(p.InvitationDigest, testToken) {
		t.Fatalf("digest %q", p.InvitationDigest)
	}
	if InvitationDigest("a") == InvitationDigest("b") {
		t.Fatal("digests collide")
	}
}

// While a save is being retried, the only copy of the new secret is in
// memory: an interruption or a busy lock must show it again, never end the
// run as if nothing had been received; and a store that gets ready after
// an interruption is used to commit.
func TestRetriedSaveKeepsTheSecret(t *testing.T) {
	revealed := seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}"), At: answerAt},
		EffectFailed{Err: errBoom}, Decoded{Client: newClient}, EffectFailed{Err: errBoom}, Retry{}))
	for _, tc := range []struct {
		name string
		then []Event
	}{
		{"interrupted while preparing", ev(Interrupt{}, EffectFailed{Err: fmt.Errorf("lock: %w", ErrInterrupted)})},
		{"the lock is busy", ev(EffectFailed{Err: fmt.Errorf("lock: %w", ErrBusy)})},
		{"the disk is still full", ev(EffectFailed{Err: errBoom})},
		{"Ctrl-C, then the lock is busy", ev(Interrupt{}, EffectFailed{Err: fmt.Errorf("lock: %w", ErrBusy)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := walk(cfgServer, append(revealed, tc.then...)...)
			f := m.Failure
			if m.State != StateFailed || f == nil || f.Class.Kind != ErrNotStored || f.Reveal == nil || f.Reveal.ClientSecret != newClient.ClientSecret {
				t.Fatalf("state %v, failure %+v; want not stored, the secret shown again", m.State, f)
			}
			last := tc.then[len(tc.then)-1].(EffectFailed).Err
			if interrupted := strings.Contains(f.Err.Error(), "interrupted"); interrupted != errors.Is(last, ErrInterrupted) {
				t.Errorf("the failure says %q for %v", f.Err, last)
			}
		})
	}
	m := walk(cfgServer, append(revealed, Interrupt{}, Prepared{})...)
	if m.State != StateSaving {
		t.Fatalf("store ready after an interruption: state %v; want the commit to go on", m.State)
	}
	if m = walk2(m, Saved{}); m.State != StateDone || m.Result == nil {
		t.Fatalf("after the save: state %v", m.State)
	}
}

func TestOutstanding(t *testing.T) {
	atReview := seq(toReview)
	for _, tc := range []struct {
		name   string
		events []Event
		want   Outstanding
	}{
		{"review", atReview, OutstandingNone},
		{"preparing before the accept call", append(seq(atReview), AcceptChosen{}), OutstandingNone},
		{"declining", append(seq(atReview), DeclineChosen{}), OutstandingDecline},
		{"accepting", append(seq(atReview), AcceptChosen{}, Prepared{}), OutstandingCommit},
		{"a save retried", append(seq(atReview), AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}"), At: answerAt},
			EffectFailed{Err: errBoom}, Decoded{Client: newClient}, EffectFailed{Err: errBoom}, Retry{}), OutstandingCommit},
		{"a journal found at start", []Event{Loaded{Snapshot: Snapshot{Pending: &Pending{Server: testServer, Raw: []byte("{}")}}}}, OutstandingCommit},
	} {
		if m := walk(cfgServer, tc.events...); m.Outstanding() != tc.want || m.NothingSent() != (tc.want == OutstandingNone) {
			t.Errorf("%s (state %v): outstanding %v, want %v", tc.name, m.State, m.Outstanding(), tc.want)
		}
	}
}

// What is stored is printed later: an answer whose id, clientId or name
// carries the invitation or a client secret (its own or the stored one)
// is set aside, never stored.
func TestAnswerFieldsHoldingASecret(t *testing.T) {
	for _, c := range []Client{
		{ID: "dev-2", ClientID: "cid-2", ClientSecret: "s3cret-new", Name: "lab " + testToken},
		{ID: "dev-2", ClientID: "cid-2", ClientSecret: "s3cret-new", Name: "lab s3cret-new"},
		{ID: "dev-" + testToken, ClientID: "cid-2", ClientSecret: "s3cret-new"},
		{ID: "dev-2", ClientID: "cid-" + url.QueryEscape(testToken), ClientSecret: "s3cret-new"},
	} {
		m := walk(cfgServer, seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}"), At: answerAt}, Journaled{}, Decoded{Client: c}))...)
		if m.State != StateFailed || !errors.Is(m.Failure.Err, ErrBadResponse) || !strings.Contains(m.Failure.Err.Error(), "holds the invitation or a client secret") {
			t.Errorf("%+v: state %v, failure %+v", c, m.State, m.Failure)
		}
	}
}
