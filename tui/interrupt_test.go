package tui

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"enroll/api/emulator"
	"enroll/flow"
)

// Interruptions: Ctrl-C and signals before, during and after the accept
// call, against the real program and emulator (see run_test.go).

// gatedService holds the accept call until the test opens the gate, so a
// Ctrl-C can be pressed while the call is in flight, whatever the timing.
type gatedService struct {
	flow.Service
	entered chan struct{}
	gate    chan struct{}
}

func (g gatedService) Accept(ctx context.Context, req flow.AcceptRequest) ([]byte, error) {
	close(g.entered)
	<-g.gate
	return g.Service.Accept(ctx, req)
}

// Ctrl-C while the accept call is in flight lets the commit finish: the
// wizard ends on Done with the credentials stored, never with a spent
// invitation and nothing on disk.
func TestInterruptDuringAcceptFinishesTheCommit(t *testing.T) {
	r := newRig(t)
	inv := r.invite(t)
	g := gatedService{Service: r.drv.Service, entered: make(chan struct{}), gate: make(chan struct{})}
	r.drv.Service = g
	tm := r.start(t, flow.Config{Server: r.emu.URL, Hostname: "lab-1"})
	enrollTo(t, tm, inv.Link, false)
	tm.Send(runes("a"))
	<-g.entered
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.Send(InterruptMsg{}) // and a SIGTERM for good measure
	close(g.gate)
	m := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(Model).Machine()
	if m.State != flow.StateDone || !m.Interrupted {
		t.Fatalf("state %v interrupted %v (%+v)", m.State, m.Interrupted, m.Failure)
	}
	snap, err := r.store.Load(context.Background())
	if err != nil || snap.Existing == nil || snap.Existing.ClientSecret != r.emu.Emulator.Clients()[0].ClientSecret {
		t.Fatalf("stored %+v, %v", snap.Existing, err)
	}
}

// gatedStore holds a successful Prepare until released, as a slow disk
// would after the lock was taken.
type gatedStore struct {
	flow.Store
	entered, gate chan struct{}
}

func (g gatedStore) Prepare(ctx context.Context) error {
	err := g.Store.Prepare(ctx)
	close(g.entered)
	<-g.gate
	return err
}

// A signal that arrives while the store is being prepared stops the wizard
// before the accept call even when the store then gets ready before the
// signal's message is read: the cancelled context is seen first. The
// message is never sent here, the strongest form of that race.
func TestSignalDuringPrepareSendsNothing(t *testing.T) {
	r := newRig(t)
	inv := r.invite(t)
	g := gatedStore{Store: r.store, entered: make(chan struct{}), gate: make(chan struct{})}
	r.drv.Store = g
	ctx, cancel := context.WithCancel(context.Background())
	w := New(ctx, Options{Driver: r.drv, Config: flow.Config{Server: r.emu.URL, Hostname: "lab-1"}, Renderer: asciiRenderer(), Clock: personPace()})
	tm := teatest.NewTestModel(t, w, teatest.WithInitialTermSize(80, 24))
	enrollTo(t, tm, inv.Link, false)
	tm.Send(runes("a"))
	<-g.entered
	cancel() // SIGTERM: main's context
	close(g.gate)
	m := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(Model).Machine()
	if m.Failure == nil || !errors.Is(m.Failure.Err, flow.ErrInterrupted) {
		t.Fatalf("state %v failure %+v; want interrupted", m.State, m.Failure)
	}
	if got, _ := r.emu.Emulator.Invitation(inv.Token); got.State != emulator.StateOpen || r.emu.Emulator.Calls(emulator.OpAccept) != 0 {
		t.Errorf("invitation %q; want open (no accept call)", got.State)
	}
	if n, _ := filepath.Glob(filepath.Join(filepath.Dir(r.store.Path()), ".*.tmp-*")); len(n) != 0 {
		t.Errorf("left behind: %q", n)
	}
}

// A store that does not heed cancellation (a lock on a dead network mount)
// cannot hold the wizard: the first Ctrl-C says it is stopping and that
// nothing was sent, the second leaves at once, with the invitation unused.
func TestSecondCtrlCLeavesAStuckPrepare(t *testing.T) {
	r := newRig(t)
	inv := r.invite(t)
	g := gatedStore{Store: r.store, entered: make(chan struct{}), gate: make(chan struct{})}
	defer close(g.gate) // the stuck Prepare returns after the test
	r.drv.Store = g
	tm := r.start(t, flow.Config{Server: r.emu.URL, Hostname: "lab-1"})
	enrollTo(t, tm, inv.Link, false)
	tm.Send(runes("a"))
	<-g.entered
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("nothing was sent")) },
		teatest.WithDuration(10*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	m := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model).Machine()
	if m.State != flow.StatePreparing || !m.Interrupted {
		t.Fatalf("state %v interrupted %v; want to leave while preparing", m.State, m.Interrupted)
	}
	if got, _ := r.emu.Emulator.Invitation(inv.Token); got.State != emulator.StateOpen || r.emu.Emulator.Calls(emulator.OpAccept) != 0 {
		t.Errorf("invitation %q; want open (no accept call)", got.State)
	}
}

// Ctrl-C while a save of credentials kept nowhere else is retried does not
// cut the retry short: the screen says the wizard stops once the step is
// done, and the store, once ready, is used to commit.
func TestCtrlCDuringARetriedSaveCommits(t *testing.T) {
	s, st := fresh()
	st.saveErr = errors.New("no space left on device")
	st.jourErr = st.saveErr
	w := press(testWizard(s, heedingStore{st}, goldenConfig, 80, 24), enter, paste(goldenLink), enter, enter, runes("a"))
	if w.machine.Failure == nil || w.machine.Failure.Reveal == nil {
		t.Fatalf("want the credentials shown once, got %+v", w.machine.Failure)
	}
	st.saveErr, st.jourErr = nil, nil // space was freed
	w, prepare := decide(w, "r")
	m, _ := w.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
	w = m.(Model)
	if v := w.View(); !strings.Contains(v, "Finishing first") || !strings.Contains(v, "quit once stored") {
		t.Fatalf("while retrying:\n%s", v)
	}
	w = settle(w, prepare)
	if w.machine.State != flow.StateDone || st.saved == nil || st.saved.ClientSecret != goldenClient.ClientSecret {
		t.Fatalf("state %v, saved %v; want the retried save committed", w.machine.State, st.saved != nil)
	}
}

// In kiosk mode an interruption during the accept call that ends on
// credentials kept nowhere else does not quit: a kiosk clears its screen at
// the end and prints nothing, so the screen that holds them stays until
// someone acts.
func TestKioskKeepsTheOnlyCopyAfterAnInterruption(t *testing.T) {
	s, st := fresh()
	st.saveErr = errors.New("no space left on device")
	st.jourErr = st.saveErr
	w := testWizard(s, st, goldenConfig, 80, 24)
	w.opts.Kiosk, w.opts.KioskTimeout = true, time.Millisecond // its timers' messages are dropped by settle
	w = press(w, enter, paste(goldenLink), enter, enter)
	w, _ = decide(w, "a")                                        // the store's preparation is not run...
	m, accept := w.Update(effectDoneMsg{event: flow.Prepared{}}) // ...but reported done: the accept call starts
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyCtrlC})              // Ctrl-C while it is in flight
	w = settle(m.(Model), accept)
	if w.quitting || w.machine.Failure == nil || w.machine.Failure.Reveal == nil || !strings.Contains(w.View(), goldenClient.ClientSecret) {
		t.Fatalf("quitting %v, failure %+v; want the credentials on screen", w.quitting, w.machine.Failure)
	}
}

// heedingStore's Prepare gives up on a cancelled context, as the lock's
// wait does.
type heedingStore struct{ *memStore }

func (s heedingStore) Prepare(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.memStore.Prepare(ctx)
}

// heedingService's Decline gives up on a cancelled context, as an HTTP call
// does.
type heedingService struct{ *memService }

func (s heedingService) Decline(ctx context.Context, r flow.DeclineRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.memService.Decline(ctx, r)
}

// Ctrl-C while the decline call is in flight lets it finish: it may already
// have reached the service, and the screen says the wizard stops once it
// is done.
func TestCtrlCDuringADeclineLetsItFinish(t *testing.T) {
	s, st := fresh()
	w := press(testWizard(heedingService{s}, st, goldenConfig, 80, 24), enter, paste(goldenLink), enter, enter)
	w, _ = decide(w, "d") // asks first
	w, decline := decide(w, "y")
	m, _ := w.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
	if v := m.(Model).View(); !strings.Contains(v, "quit once declined") || !strings.Contains(v, "Stopping once the decline is done") {
		t.Fatalf("while declining:\n%s", v)
	}
	if w = settle(m.(Model), decline); w.machine.State != flow.StateDeclined {
		t.Fatalf("state %v, failure %+v; want the decline finished", w.machine.State, w.machine.Failure)
	}
}
