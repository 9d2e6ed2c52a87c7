package tui

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"enroll/flow"
)

// quits reports whether cmd ends the program. Only immediate commands are
// run: the wizard here (no kiosk, no spinner) returns no timers.
func quits(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch msg := cmd().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		for _, c := range msg {
			if quits(c) {
				return true
			}
		}
	}
	return false
}

// Leaving the wizard while an effect is in flight (the store's release,
// which removes the journal's reserved file) waits for it, whichever way
// the person leaves; meanwhile no key starts anything.
func TestQuitWaitsForTheEffectInFlight(t *testing.T) {
	for _, leave := range []struct {
		name string
		msg  tea.Msg
	}{
		{"q", runes("q")},
		{"ctrl+c", tea.KeyMsg{Type: tea.KeyCtrlC}},
		{"signal", InterruptMsg{}},
	} {
		t.Run(leave.name, func(t *testing.T) {
			s, st := &memService{answer: goldenClient}, &memStore{}
			s.acceptErr = fmt.Errorf("accept: dial tcp: connection refused: %w", flow.ErrNetwork)
			w := press(testWizard(s, st, flow.Config{Server: goldenServer, Hostname: "lab-1"}, 80, 24), enter, paste(goldenLink), enter, enter, runes("a"))
			if w.machine.State != flow.StateFailed {
				t.Fatalf("state %v; want the failure screen", w.machine.State)
			}
			w.busy = true // as if the release were still running
			m, cmd := w.Update(leave.msg)
			w = m.(Model)
			if quits(cmd) || w.quitting {
				t.Fatal("quit with an effect in flight")
			}
			m, cmd = w.Update(runes("r")) // retry: must not start anything now
			w = m.(Model)
			if w.machine.State != flow.StateFailed || quits(cmd) {
				t.Fatalf("a key acted while leaving: state %v", w.machine.State)
			}
			if _, cmd := w.Update(tea.KeyMsg{Type: tea.KeyCtrlC}); !quits(cmd) {
				t.Error("a second ctrl+c did not leave at once")
			}
			if _, cmd := w.Update(InterruptMsg{}); !quits(cmd) {
				t.Error("a signal while leaving did not leave at once")
			}
			if _, cmd = w.Update(effectDoneMsg{}); !quits(cmd) {
				t.Fatal("did not quit once the effect was done")
			}
		})
	}
}

// countingStore counts Load calls.
type countingStore struct {
	flow.Store
	loads atomic.Int32
}

func (c *countingStore) Load(ctx context.Context) (flow.Snapshot, error) {
	c.loads.Add(1)
	return c.Store.Load(ctx)
}

// The real program loads the store once: Init's model is a copy, so the
// first effect is started by a message that the living model handles.
func TestProgramLoadsOnce(t *testing.T) {
	st := &countingStore{Store: &memStore{}}
	w := New(context.Background(), Options{
		Driver:   flow.Driver{Service: &memService{answer: goldenClient}, Store: st},
		Config:   flow.Config{Server: goldenServer, Hostname: "lab-1"},
		Renderer: asciiRenderer(),
	})
	tm := teatest.NewTestModel(t, w, teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "step 1 of 4")
	tm.Send(runes("q"))
	tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second))
	if n := st.loads.Load(); n != 1 {
		t.Errorf("Load ran %d times; want 1", n)
	}
}
