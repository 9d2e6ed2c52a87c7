package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// fakeService answers from fields; it records the calls it saw.
type fakeService struct {
	calls     []string
	acceptReq AcceptRequest
	answer    Client
	acceptErr error
	// partial is what Accept returns with acceptErr: the start of an
	// answer that was cut short.
	partial    []byte
	authErr    error
	declineErr error
	onAccept   func() // runs inside Accept, e.g. to cancel the run's context
}

func (f *fakeService) Authenticate(ctx context.Context, server string, c Credentials) (string, error) {
	f.calls = append(f.calls, "authenticate")
	if f.authErr != nil {
		return "", f.authErr
	}
	return "bearer-for-" + c.ClientID, ctx.Err()
}

func (f *fakeService) Accept(ctx context.Context, req AcceptRequest) ([]byte, error) {
	f.calls = append(f.calls, "accept")
	f.acceptReq = req
	if ctx.Err() != nil {
		// As the api does: stopped before anything could reach the
		// service, and only then.
		return nil, fmt.Errorf("%w: accept: interrupted before the request was sent", ErrInterrupted)
	}
	if f.onAccept != nil {
		f.onAccept() // an interruption while the request is on its way: ignored
	}
	if f.acceptErr != nil {
		return f.partial, f.acceptErr
	}
	return json.Marshal(f.answer)
}

func (f *fakeService) DecodeAccept(raw []byte) (Client, error) {
	var c Client
	if err := json.Unmarshal(raw, &c); err != nil {
		return Client{}, errors.Join(ErrBadResponse, err)
	}
	return c, nil
}

func (f *fakeService) Decline(ctx context.Context, req DeclineRequest) error {
	f.calls = append(f.calls, "decline")
	if f.declineErr != nil {
		return f.declineErr
	}
	return ctx.Err()
}

// fakeStore keeps everything in memory and records the order of calls.
type fakeStore struct {
	calls      []string
	snap       Snapshot
	saved      *Credentials
	journal    *Pending
	loadErr    error
	prepareErr error
	journalErr error
	saveErr    error
	asideErr   error
	releaseErr error
	locked     bool
	prepareCtx context.Context // the context Prepare was last given
}

func (s *fakeStore) Load(context.Context) (Snapshot, error) {
	s.calls = append(s.calls, "load")
	if s.loadErr != nil {
		return s.snap, s.loadErr
	}
	if s.saved != nil {
		// Like the real store: what was saved is what the next run finds.
		return Snapshot{Existing: s.saved}, nil
	}
	return s.snap, nil
}

func (s *fakeStore) Prepare(ctx context.Context) error {
	s.calls = append(s.calls, "prepare")
	s.prepareCtx = ctx
	if s.prepareErr != nil {
		return s.prepareErr
	}
	s.locked = true
	return nil
}

func (s *fakeStore) Journal(p Pending) error {
	s.calls = append(s.calls, "journal")
	if s.journalErr != nil {
		return s.journalErr
	}
	s.journal = &p
	return nil
}

func (s *fakeStore) Save(c Credentials) error {
	s.calls = append(s.calls, "save")
	if s.saveErr != nil {
		return s.saveErr
	}
	s.saved, s.journal = &c, nil
	return nil
}

func (s *fakeStore) SetAside() (string, error) {
	s.calls = append(s.calls, "setaside")
	if s.asideErr != nil {
		return "", s.asideErr
	}
	s.journal = nil
	return "/tmp/credentials.json.pending.unreadable-x", nil
}

func (s *fakeStore) Release() error {
	s.calls = append(s.calls, "release")
	s.locked = false
	return s.releaseErr
}

func (s *fakeStore) Path() string        { return "/tmp/credentials.json" }
func (s *fakeStore) JournalPath() string { return "/tmp/credentials.json.pending" }

func driver(svc *fakeService, st *fakeStore) Driver {
	return Driver{Service: svc, Store: st, Now: func() time.Time { return answerAt }}
}

func TestRunNewDevice(t *testing.T) {
	svc, st := &fakeService{answer: newClient}, &fakeStore{}
	m, err := Run(context.Background(), driver(svc, st), cfgNone, Script{Invitation: "Your link: <" + testLink + ">", Name: "lab-1", TrustLinkServer: true}, nil)
	if err != nil || m.State != StateDone {
		t.Fatalf("Run = %v, %v", m.State, err)
	}
	if want := []string{"load", "prepare", "journal", "save", "release"}; !slices.Equal(st.calls, want) {
		t.Errorf("store calls %v, want %v", st.calls, want)
	}
	if st.saved == nil || st.saved.ClientSecret != newClient.ClientSecret || st.saved.Server != testServer || !st.saved.EnrolledAt.Equal(answerAt) {
		t.Errorf("saved %+v", st.saved)
	}
	if svc.acceptReq.Name != "lab-1" || svc.acceptReq.Token != testToken {
		t.Errorf("accept request %+v", svc.acceptReq)
	}
	if st.locked {
		t.Error("lock not released")
	}
}

func TestRunExistingDevice(t *testing.T) {
	svc := &fakeService{answer: Client{ID: existing.ID, ClientID: existing.ClientID}}
	st := &fakeStore{snap: Snapshot{Existing: &existing}}
	m, err := Run(context.Background(), driver(svc, st), cfgNone, Script{Invitation: testToken}, nil)
	if err != nil || m.State != StateDone {
		t.Fatalf("Run = %v, %v", m.State, err)
	}
	if svc.acceptReq.Bearer != "bearer-for-cid-1" || !slices.Equal(svc.calls, []string{"authenticate", "accept"}) {
		t.Errorf("calls %v request %+v", svc.calls, svc.acceptReq)
	}
	if st.saved.ClientSecret != existing.ClientSecret {
		t.Error("existing secret lost")
	}
}

func TestRunDecline(t *testing.T) {
	svc, st := &fakeService{}, &fakeStore{}
	m, err := Run(context.Background(), driver(svc, st), cfgServer, Script{Invitation: testToken, Decline: true}, nil)
	if err != nil || m.State != StateDeclined || !slices.Equal(svc.calls, []string{"decline"}) {
		t.Fatalf("Run = %v, %v, calls %v", m.State, err, svc.calls)
	}
	if slices.Contains(st.calls, "prepare") {
		t.Error("declining took the store lock")
	}
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name      string
		svc       *fakeService
		st        *fakeStore
		script    Script
		cfg       Config
		kind      error
		noAccept  bool
		wantSaved bool
	}{
		{name: "store not writable: invitation untouched", svc: &fakeService{answer: newClient}, st: &fakeStore{prepareErr: ErrStoreUnavailable}, kind: ErrStoreUnavailable, noAccept: true},
		{name: "expired", svc: &fakeService{acceptErr: ErrInvitationExpired}, st: &fakeStore{}, kind: ErrInvitationExpired},
		{name: "outcome unknown", svc: &fakeService{acceptErr: ErrOutcomeUnknown}, st: &fakeStore{}, kind: ErrOutcomeUnknown},
		{name: "bad answer", svc: &fakeService{answer: Client{ID: "only-id"}}, st: &fakeStore{}, kind: ErrBadResponse},
		{name: "journal failed but saved", svc: &fakeService{answer: newClient}, st: &fakeStore{journalErr: errBoom}, wantSaved: true},
		{name: "save failed", svc: &fakeService{answer: newClient}, st: &fakeStore{saveErr: errBoom}, kind: ErrNotStored},
		{name: "malformed input", svc: &fakeService{}, st: &fakeStore{}, script: Script{Invitation: "file:///etc/passwd"}, kind: ErrMalformed, noAccept: true},
		{name: "link server not trusted by script", svc: &fakeService{}, st: &fakeStore{}, script: Script{Invitation: testLink}, cfg: cfgNone, kind: ErrUsage, noAccept: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.script.Invitation == "" {
				tt.script.Invitation = testToken
			}
			if tt.cfg == (Config{}) {
				tt.cfg = cfgServer
			}
			m, err := Run(context.Background(), driver(tt.svc, tt.st), tt.cfg, tt.script, nil)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Run failed: %v", err)
				}
			} else if !errors.Is(err, tt.kind) {
				t.Fatalf("Run error %v, want %v (state %v)", err, tt.kind, m.State)
			}
			if got := slices.Contains(tt.svc.calls, "accept"); got == tt.noAccept {
				t.Errorf("accept called = %v", got)
			}
			if (tt.st.saved != nil) != tt.wantSaved {
				t.Errorf("saved = %+v", tt.st.saved)
			}
			if tt.st.locked {
				t.Error("lock not released")
			}
		})
	}
}

func TestRunInterruptedBeforeAccept(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	svc, st := &fakeService{answer: newClient}, &fakeStore{}
	_, err := Run(ctx, driver(svc, st), cfgServer, Script{Invitation: testToken}, nil)
	if !errors.Is(err, ErrInterrupted) || len(svc.calls) != 0 {
		t.Fatalf("err %v calls %v", err, svc.calls)
	}
}

func TestRunInterruptedDuringAcceptCommits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, st := &fakeService{answer: newClient, onAccept: cancel}, &fakeStore{}
	m, err := Run(ctx, driver(svc, st), cfgServer, Script{Invitation: testToken}, nil)
	if err != nil || m.State != StateDone || st.saved == nil || !m.Interrupted {
		t.Fatalf("Run = %v, %v, saved %v, interrupted %v", m.State, err, st.saved, m.Interrupted)
	}
}

func TestRunRecoversJournal(t *testing.T) {
	raw, _ := json.Marshal(newClient)
	svc := &fakeService{}
	st := &fakeStore{snap: Snapshot{Pending: &Pending{Server: testServer, Raw: raw, ReceivedAt: answerAt}}}
	m, err := Run(context.Background(), driver(svc, st), cfgNone, Script{}, nil)
	if err != nil || m.State != StateDone || !m.Recovered || len(svc.calls) != 0 {
		t.Fatalf("Run = %v, %v, recovered %v, calls %v", m.State, err, m.Recovered, svc.calls)
	}
	if st.saved.ClientSecret != newClient.ClientSecret {
		t.Error("recovered secret not saved")
	}
}

func TestRunDefaultNames(t *testing.T) {
	// A new device without --name is named after its host; an existing one
	// keeps its name, so accepting another invitation never renames it.
	svc, st := &fakeService{answer: newClient}, &fakeStore{}
	if _, err := Run(context.Background(), driver(svc, st), cfgServer, Script{Invitation: testToken}, nil); err != nil {
		t.Fatal(err)
	}
	if svc.acceptReq.Name != "lab-1" {
		t.Errorf("new device name %q, want the host's", svc.acceptReq.Name)
	}
	svc = &fakeService{answer: Client{ID: existing.ID, ClientID: existing.ClientID}}
	st = &fakeStore{snap: Snapshot{Existing: &existing}}
	if _, err := Run(context.Background(), driver(svc, st), cfgServer, Script{Invitation: testToken}, nil); err != nil {
		t.Fatal(err)
	}
	if svc.acceptReq.Name != "" {
		t.Errorf("existing device sent name %q", svc.acceptReq.Name)
	}
}

func TestRunAfterRecoveryUsesAnotherInvitation(t *testing.T) {
	raw, _ := json.Marshal(newClient)
	pending := &Pending{Server: testServer, Raw: raw, ReceivedAt: answerAt, InvitationDigest: InvitationDigest("the-old-invitation-token")}
	for _, tc := range []struct {
		name       string
		invitation string
		accepts    int
	}{
		{"same invitation: only completed", "the-old-invitation-token", 0},
		{"another invitation: used as the enrolled device", testToken, 1},
		{"no invitation: only completed", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{answer: Client{ID: newClient.ID, ClientID: newClient.ClientID}}
			st := &fakeStore{snap: Snapshot{Pending: pending}}
			m, err := Run(context.Background(), driver(svc, st), cfgServer, Script{Invitation: tc.invitation}, nil)
			if err != nil || m.State != StateDone || !m.Recovered {
				t.Fatalf("Run = %v, %v, recovered %v", m.State, err, m.Recovered)
			}
			if got := countCalls(svc.calls, "accept"); got != tc.accepts {
				t.Errorf("accept calls %d, want %d", got, tc.accepts)
			}
			if tc.accepts == 1 && svc.acceptReq.Bearer == "" {
				t.Error("the second invitation was not accepted as the enrolled device")
			}
		})
	}
}

func countCalls(calls []string, name string) int {
	n := 0
	for _, c := range calls {
		if c == name {
			n++
		}
	}
	return n
}
