package flow

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

// Every failure of the Service or the Store reaches the machine as
// EffectFailed carrying that failure: none is taken for success.
func TestDriverReportsEveryFailure(t *testing.T) {
	svc := &fakeService{authErr: errBoom, acceptErr: errBoom, declineErr: errBoom}
	st := &fakeStore{
		snap:    Snapshot{Warnings: []string{"not to be reported"}},
		loadErr: errBoom, prepareErr: errBoom, journalErr: errBoom, saveErr: errBoom,
		asideErr: errBoom, releaseErr: errBoom,
	}
	d := driver(svc, st)
	for _, tc := range []struct {
		eff  Effect
		want error
	}{
		{LoadCredentials{}, errBoom},
		{PrepareStore{}, errBoom},
		{PrepareStore{Commit: true}, errBoom},
		{Authenticate{Server: testServer, Credentials: existing}, errBoom},
		{CallAccept{Request: AcceptRequest{Server: testServer, Token: testToken}}, errBoom},
		{WriteJournal{Pending: Pending{Server: testServer, Raw: []byte("{}")}}, errBoom},
		{DecodeAnswer{Raw: []byte("{")}, ErrBadResponse},
		{SaveCredentials{Credentials: existing}, errBoom},
		{CallDecline{Request: DeclineRequest{Server: testServer, Token: testToken}}, errBoom},
	} {
		ev := d.Execute(t.Context(), tc.eff)
		if f, ok := ev.(EffectFailed); !ok || !errors.Is(f.Err, tc.want) {
			t.Errorf("%T%+v: event %#v, want EffectFailed with %v", tc.eff, tc.eff, ev, tc.want)
		}
	}
	// A journal that cannot be set aside stays where it is: no event.
	if ev := d.Execute(t.Context(), SetAsideJournal{}); ev != nil {
		t.Errorf("SetAsideJournal failing: event %#v, want none", ev)
	}
	// Giving the lock back cannot lose data: its failure is no event.
	if ev := d.Execute(t.Context(), ReleaseStore{}); ev != nil || !slices.Contains(st.calls, "release") {
		t.Errorf("ReleaseStore: event %#v, calls %v", ev, st.calls)
	}
}

// The successes, for contrast: each effect's own result event, with what
// the port returned.
func TestDriverReportsResults(t *testing.T) {
	svc, st := &fakeService{answer: newClient}, &fakeStore{}
	d := Driver{Service: svc, Store: st, Now: func() time.Time { return answerAt.In(time.FixedZone("x", 3600)) }}
	raw, _ := json.Marshal(newClient)
	for _, tc := range []struct {
		eff  Effect
		want Event
	}{
		{LoadCredentials{}, Loaded{}},
		{PrepareStore{}, Prepared{}},
		{Authenticate{Server: testServer, Credentials: existing}, Authenticated{Bearer: "bearer-for-cid-1"}},
		{WriteJournal{}, Journaled{}},
		{DecodeAnswer{Raw: raw}, Decoded{Client: newClient}},
		{SaveCredentials{Credentials: existing}, Saved{}},
		{CallDecline{}, DeclineDone{}},
		{SetAsideJournal{}, SetAside{Path: "/tmp/credentials.json.pending.unreadable-x"}},
	} {
		ev := d.Execute(t.Context(), tc.eff)
		got, _ := json.Marshal(ev)
		want, _ := json.Marshal(tc.want)
		if string(got) != string(want) {
			t.Errorf("%T: %s, want %s", tc.eff, got, want)
		}
	}
	ev := d.Execute(t.Context(), CallAccept{Request: AcceptRequest{Server: testServer, Token: testToken}})
	a, ok := ev.(Answered)
	if !ok || string(a.Raw) != string(raw) || a.At != answerAt || a.At.Location() != time.UTC || a.Cut != nil {
		t.Errorf("CallAccept: %#v, want the raw answer at %v UTC", ev, answerAt)
	}
	// Without a clock the answer is stamped now, in UTC.
	d.Now = nil
	before := time.Now()
	ev = d.Execute(t.Context(), CallAccept{Request: AcceptRequest{Server: testServer, Token: testToken}})
	if a, ok := ev.(Answered); !ok || a.At.Before(before.Add(-time.Second)) || a.At.After(time.Now().Add(time.Second)) || a.At.Location() != time.UTC {
		t.Errorf("CallAccept without a clock: %#v", ev)
	}
}

// An answer cut short is still an answer: its bytes go on to the journal,
// with why they are short.
func TestDriverKeepsAnAnswerCutShort(t *testing.T) {
	svc := &fakeService{partial: []byte(`{"id":`), acceptErr: ErrBadResponse}
	ev := driver(svc, &fakeStore{}).Execute(t.Context(), CallAccept{})
	if a, ok := ev.(Answered); !ok || string(a.Raw) != `{"id":` || !errors.Is(a.Cut, ErrBadResponse) {
		t.Fatalf("event %#v", ev)
	}
}

// Preparing to commit an answer already received is not interrupted: the
// store gets a context that a cancellation does not end, so its lock wait
// runs its own course. Preparing before the accept call is interruptible.
func TestDriverCommitPrepareIgnoresInterruption(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	st := &fakeStore{}
	d := driver(&fakeService{}, st)
	d.Execute(ctx, PrepareStore{Commit: true})
	if st.prepareCtx == nil || st.prepareCtx.Err() != nil {
		t.Errorf("commit: the store's context is ended (%v)", st.prepareCtx.Err())
	}
	d.Execute(ctx, PrepareStore{})
	if !errors.Is(st.prepareCtx.Err(), context.Canceled) {
		t.Errorf("before accepting: the store's context is not cancelled (%v)", st.prepareCtx.Err())
	}
}

// A run that completed an interrupted enrollment and then fails on the
// script's own invitation reports that failure, not the recovery's success.
func TestRunAfterRecoveryReportsTheSecondFailure(t *testing.T) {
	raw, _ := json.Marshal(newClient)
	pending := &Pending{Server: testServer, Raw: raw, ReceivedAt: answerAt, InvitationDigest: InvitationDigest("the-old-invitation-token")}
	svc := &fakeService{acceptErr: ErrInvitationExpired}
	st := &fakeStore{snap: Snapshot{Pending: pending}}
	m, err := Run(t.Context(), driver(svc, st), cfgServer, Script{Invitation: testToken}, nil)
	if !errors.Is(err, ErrInvitationExpired) || m.State != StateFailed || !m.Recovered || !m.RecoveredFirst {
		t.Fatalf("Run = %v, %v (recovered %v, first %v); want the second invitation's failure",
			m.State, err, m.Recovered, m.RecoveredFirst)
	}
	if st.saved == nil || st.saved.ClientSecret != newClient.ClientSecret {
		t.Errorf("the recovered answer was not saved: %+v", st.saved)
	}
}

// Neither the journal nor the save worked: the new secret exists only in
// memory, so the failure carries it to be shown once.
func TestRunJournalAndSaveFailedRevealsTheSecret(t *testing.T) {
	svc := &fakeService{answer: newClient}
	st := &fakeStore{journalErr: errBoom, saveErr: errBoom}
	m, err := Run(t.Context(), driver(svc, st), cfgServer, Script{Invitation: testToken}, nil)
	if !errors.Is(err, ErrNotStored) || m.Failure == nil {
		t.Fatalf("Run = %v, %v", m.State, err)
	}
	if m.Failure.Journaled || m.Failure.Reveal == nil || m.Failure.Reveal.ClientSecret != newClient.ClientSecret {
		t.Errorf("failure %+v: want not journaled, the secret revealed", m.Failure)
	}
}
