package tui

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// bench/run drives the wizard in a pseudo-terminal by waiting for words
// on screen. When the wizard's words change, the benchmark would stall on
// a wait that never matches; this keeps the two in step. The script's
// opening steps for the wizard (waits, and Enter between them) are replayed
// here against the model, up to the first other step.
func TestBenchScriptMatchesTheWizard(t *testing.T) {
	raw, err := os.ReadFile("../bench/run")
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, block := range strings.Split(string(raw), `"$BIN/ptymeasure"`) {
		if strings.Contains(block, `-- "$BIN/enroll" --server`) {
			for _, m := range regexp.MustCompile(`-do '([^']*)'`).FindAllStringSubmatch(block, -1) {
				steps = append(steps, m[1])
			}
		}
	}
	if len(steps) == 0 {
		t.Fatal("bench/run has no steps for the wizard")
	}
	st := &memStore{}
	w := New(context.Background(), Options{
		Driver:   flow.Driver{Service: &memService{answer: goldenClient}, Store: st},
		Config:   flow.Config{Server: goldenServer, Hostname: "lab-1"},
		Renderer: asciiRenderer(),
		Clock:    personPace(),
		// --handoff-listen: the phone hand-off is on offer.
		StartPhone: func() (Phone, error) { return newFakePhone(), nil },
	})
	m, _ := w.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	w = m.(Model)
	w = settle(w, w.next())
	waits := 0
	for _, s := range steps {
		switch {
		case strings.HasPrefix(s, "wait:"):
			if want := strings.TrimPrefix(s, "wait:"); !strings.Contains(w.View(), want) {
				t.Fatalf("bench/run waits for %q, which the screen does not show:\n%s", want, w.View())
			}
			waits++
		case s == `send:\r`:
			w = press(w, enter)
		default:
			if waits == 0 {
				t.Fatal("bench/run's steps for the wizard start without a wait")
			}
			return
		}
	}
}
