package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"enroll/api/emulator"
	"enroll/flow"
	"enroll/persist"
)

// The plain runner and the store: an interrupted enrollment completed from
// its journal, and credentials that could be stored nowhere (see
// plain_test.go for plainEnv).

// A run that finds an answer journaled by an interrupted run completes it
// first, without calling the service and without asking anything.
func TestPlainRecoversJournal(t *testing.T) {
	e := newPlainEnv(t)
	inv := e.invite()
	ctx, st := t.Context(), e.opts.Driver.Store
	raw, err := e.opts.Driver.Service.Accept(ctx, flow.AcceptRequest{Server: e.url, Token: inv.Token, Name: "lab-2"})
	if err == nil {
		err = st.Prepare(ctx)
	}
	if err == nil {
		err = st.Journal(flow.Pending{Server: e.url, Name: "lab-2", Raw: raw, InvitationDigest: flow.InvitationDigest(inv.Token)})
	}
	if err != nil || st.Release() != nil {
		t.Fatal(err)
	}
	m, out := e.run(ctx, strings.NewReader(""), flow.StateDone, nil, []string{"Completing it first.", "Storing the credentials...",
		"Completed an enrollment that had been interrupted.", "Name: lab-2"})
	if !m.Recovered || strings.Contains(out, "Invitation link") || e.emu.Calls(emulator.OpAccept) != 1 {
		t.Errorf("recovered %v; the recovery asked for input or called the service again:\n%s", m.Recovered, out)
	}
	e.assertStored()
}

// plainFailingStore loses both the journal and the credentials file, so
// the secret the service issued exists nowhere but on the screen. Its
// warnings and errors carry raw escapes, which the runner must show inert.
type plainFailingStore struct{ *persist.Store }

var errPlainDisk = errors.New("disk \x1b[2J full \u202e")

func (s plainFailingStore) Load(ctx context.Context) (flow.Snapshot, error) {
	snap, err := s.Store.Load(ctx)
	snap.Warnings = append(snap.Warnings, "mode \x1b]0;owned\a tightened \u009b")
	return snap, err
}
func (plainFailingStore) Journal(flow.Pending) error  { return errPlainDisk }
func (plainFailingStore) Save(flow.Credentials) error { return errPlainDisk }

func TestPlainRevealsUnstoredCredentialsOnce(t *testing.T) {
	e := newPlainEnv(t)
	e.opts.Driver.Store = plainFailingStore{persist.Open(persist.Options{Path: e.path})}
	e.revealOK = true // counted below: exactly once
	inv := e.invite()
	in := strings.NewReader(plainInput(inv, "LINK", "y", "", "a", "x", "r", "q"))
	_, out := e.run(t.Context(), in, flow.StateFailed, flow.ErrNotStored, []string{"Shown once, here:",
		"Retry (r) or quit (q)? ", "Please answer with one of the letters", "still kept nowhere else",
		`Note: mode \x1b]0;owned\x07 tightened \x9b`, `Reason: disk \x1b[2J full \u202e`})
	if n := strings.Count(out, e.emu.Clients()[0].ClientSecret); n != 1 {
		t.Errorf("the secret is shown %d times, want once:\n%s", n, out)
	}
}
