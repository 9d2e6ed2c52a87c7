package flow_test

import (
	"context"
	"fmt"

	"enroll/flow"
)

// ExampleStep walks one enrollment by hand. Step is pure: it returns the
// next machine and the effects it asks for, and the driver runs each
// effect (here against a tiny fake service and store) and feeds its
// outcome back as an event. When no effect is left, the machine waits for
// a person, here a list of answers. flow.Loop is this loop with the rule
// for interruptions; Run, the plain runner and the wizard drive it.
func ExampleStep() {
	d := flow.Driver{Service: fakeService{}, Store: &fakeStore{}}
	answers := map[flow.State]flow.Event{
		flow.StateWelcome:    flow.Next{},
		flow.StateInvitation: flow.InvitationEntered{Text: "https://idp.example.com/invitation?token=inv-TOKEN-0123456789abcdef"},
		flow.StateName:       flow.NameEntered{Text: "lab-1"},
		flow.StateReview:     flow.AcceptChosen{},
	}
	m, effects := flow.Start(flow.Config{Server: "https://idp.example.com"})
	for len(effects) > 0 || !m.State.Terminal() {
		var ev flow.Event
		if len(effects) > 0 {
			ev = d.Execute(context.Background(), effects[0])
			effects = effects[1:]
			if ev == nil {
				continue // releasing the store's lock reports nothing
			}
		} else {
			ev = answers[m.State]
		}
		var more []flow.Effect
		m, more = flow.Step(m, ev)
		effects = append(effects, more...)
		fmt.Printf("%-24T → %v\n", ev, m.State)
	}
	fmt.Println(m.Result.Name, m.Result.ClientID)
	// Output:
	// flow.Loaded              → welcome
	// flow.Next                → invitation
	// flow.InvitationEntered   → name
	// flow.NameEntered         → review
	// flow.AcceptChosen        → preparing
	// flow.Prepared            → accepting
	// flow.Answered            → journaling
	// flow.Journaled           → saving
	// flow.Decoded             → saving
	// flow.Saved               → done
	// lab-1 client-7
}

// fakeService answers every accept call with a new device client.
type fakeService struct{}

func (fakeService) Authenticate(context.Context, string, flow.Credentials) (string, error) {
	return "", nil
}
func (fakeService) Accept(context.Context, flow.AcceptRequest) ([]byte, error) {
	return []byte(`{"id":"c-7","clientId":"client-7","clientSecret":"s3cret-s3cret"}`), nil
}
func (fakeService) DecodeAccept([]byte) (flow.Client, error) {
	return flow.Client{ID: "c-7", ClientID: "client-7", ClientSecret: "s3cret-s3cret"}, nil
}
func (fakeService) Decline(context.Context, flow.DeclineRequest) error { return nil }

// fakeStore is an empty store that keeps what it is given in memory.
type fakeStore struct{ saved *flow.Credentials }

func (*fakeStore) Load(context.Context) (flow.Snapshot, error) { return flow.Snapshot{}, nil }
func (*fakeStore) Prepare(context.Context) error               { return nil }
func (*fakeStore) Journal(flow.Pending) error                  { return nil }
func (s *fakeStore) Save(c flow.Credentials) error             { s.saved = &c; return nil }
func (*fakeStore) SetAside() (string, error)                   { return "", nil }
func (*fakeStore) Release() error                              { return nil }
func (*fakeStore) Path() string                                { return "credentials.json" }
func (*fakeStore) JournalPath() string                         { return "credentials.json.pending" }
