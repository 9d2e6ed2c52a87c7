package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// An interruption that arrives while an effect before the accept call runs
// (the store's probe, the token request) must stop the run even when that
// effect then succeeds: the runner used to step the success first, which
// carried the machine into Accepting, where an interruption is too late.
// (Found by the fault matrix: SIGINT while the store is prepared.)

type prepareHook struct {
	*fakeStore
	during func()
}

func (s prepareHook) Prepare(ctx context.Context) error {
	s.during()
	return s.fakeStore.Prepare(ctx)
}

type authHook struct {
	*fakeService
	during func()
}

func (s authHook) Authenticate(ctx context.Context, server string, c Credentials) (string, error) {
	s.fakeService.calls = append(s.fakeService.calls, "authenticate")
	s.during()
	return "bearer", nil // the token arrived just as Ctrl-C did
}

func TestRunInterruptedWhileAnEffectSucceeds(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(cancel func()) (Service, Store, *fakeService, *fakeStore)
	}{
		{"while the store is prepared", func(cancel func()) (Service, Store, *fakeService, *fakeStore) {
			svc, st := &fakeService{answer: newClient}, &fakeStore{}
			return svc, prepareHook{st, cancel}, svc, st
		}},
		{"while an existing device authenticates", func(cancel func()) (Service, Store, *fakeService, *fakeStore) {
			svc, st := &fakeService{answer: newClient}, &fakeStore{snap: Snapshot{Existing: &existing}}
			return authHook{svc, cancel}, st, svc, st
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			svc, st, fsvc, fst := tc.make(cancel)
			d := Driver{Service: svc, Store: st}
			m, err := Run(ctx, d, cfgServer, Script{Invitation: testToken}, nil)
			if !errors.Is(err, ErrInterrupted) || m.State != StateFailed {
				t.Fatalf("Run = %v, %v; want interrupted", m.State, err)
			}
			if slices.Contains(fsvc.calls, "accept") {
				t.Errorf("accepted after the interruption: %v", fsvc.calls)
			}
			if fst.locked {
				t.Error("the store lock was not released")
			}
		})
	}
}

// ctxStore records the context its Prepare was given.
type ctxStore struct {
	*fakeStore
	cancelled bool
}

func (s *ctxStore) Prepare(ctx context.Context) error {
	s.cancelled = ctx.Err() != nil
	if s.cancelled {
		return ctx.Err() // as the lock's wait does
	}
	return s.fakeStore.Prepare(ctx)
}

// Preparing the store for the commit of an answer already received is not
// cut short by an interruption (a signal, --plain's Ctrl-C): the commit is
// what keeps the secret. Preparing before the accept call is.
func TestPrepareForACommitIgnoresCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		eff           PrepareStore
		wantCancelled bool
	}{{PrepareStore{Commit: true}, false}, {PrepareStore{}, true}} {
		st := &ctxStore{fakeStore: &fakeStore{}}
		ev := Driver{Service: &fakeService{}, Store: st}.Execute(ctx, tc.eff)
		if st.cancelled != tc.wantCancelled {
			t.Errorf("%+v: the store saw a cancelled context: %v", tc.eff, st.cancelled)
		}
		if _, ok := ev.(Prepared); ok == tc.wantCancelled {
			t.Errorf("%+v: outcome %T", tc.eff, ev)
		}
	}
	// The machine asks for it where an answer waits: a retried save and a
	// journal found at start.
	m := walk(cfgServer, seq(toReview, ev(AcceptChosen{}, Prepared{}, Answered{Raw: []byte("{}"), At: answerAt},
		EffectFailed{Err: errBoom}, Decoded{Client: newClient}, EffectFailed{Err: errBoom}))...)
	if _, effs := Step(m, Retry{}); len(effs) != 1 || effs[0] != (PrepareStore{Commit: true}) {
		t.Errorf("retried save: effects %+v", effs)
	}
	if _, effs := Step(walk(cfgServer), Loaded{Snapshot: Snapshot{Pending: &Pending{Server: testServer, Raw: []byte("{}")}}}); len(effs) != 1 || effs[0] != (PrepareStore{Commit: true}) {
		t.Errorf("journal found at start: effects %+v", effs)
	}
	if _, effs := Step(walk(cfgServer, toReview...), AcceptChosen{}); len(effs) != 1 || effs[0] != (PrepareStore{}) {
		t.Errorf("before the accept call: effects %+v", effs)
	}
}

// The run's deadline (--timeout) bounds the calls to the service, the
// accept call's too, but its passing is a timeout of the call in flight,
// never an interruption: an enrolled device whose token endpoint did not
// answer in time fails as the service's trouble (exit 5), not exit 130.
func TestDeadlineIsNotAnInterruption(t *testing.T) {
	// The deadline has passed by the time the failure is seen.
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	timedOut := fmt.Errorf("%w: token: the service did not answer within the time limit", ErrNetwork)
	svc := &fakeService{authErr: timedOut}
	st := &fakeStore{snap: Snapshot{Existing: &existing}}
	m, err := Run(past, Driver{Service: svc, Store: st}, cfgServer, Script{Invitation: testToken}, nil)
	if errors.Is(err, ErrInterrupted) || !errors.Is(err, ErrNetwork) || m.Interrupted {
		t.Fatalf("err %v, interrupted %v", err, m.Interrupted)
	}
	// The accept call keeps the run's deadline, though not its cancellation.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var dl time.Time
	var hasDeadline bool
	spy := deadlineSpy{fakeService: &fakeService{answer: newClient}, saw: func(t time.Time, ok bool) { dl, hasDeadline = t, ok }}
	if _, err := Run(ctx, Driver{Service: spy, Store: &fakeStore{}}, cfgServer, Script{Invitation: testToken}, nil); err != nil {
		t.Fatal(err)
	}
	if want, _ := ctx.Deadline(); !hasDeadline || !dl.Equal(want) {
		t.Errorf("the accept call's deadline %v (%v), want the run's %v", dl, hasDeadline, want)
	}
}

// deadlineSpy reports the deadline the accept call was given.
type deadlineSpy struct {
	*fakeService
	saw func(time.Time, bool)
}

func (d deadlineSpy) Accept(ctx context.Context, req AcceptRequest) ([]byte, error) {
	d.saw(ctx.Deadline())
	return d.fakeService.Accept(ctx, req)
}
