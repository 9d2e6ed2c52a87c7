package flow

import (
	"context"
	"errors"
	"slices"
	"testing"
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
