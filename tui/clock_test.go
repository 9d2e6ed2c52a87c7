package tui

import (
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// testClock is the wizard's input clock in tests: it moves only when the
// test says (advance) or when a wait asked of it runs, and each reading
// moves it by step first. personPace (step one second) makes every key a
// deliberate press, as tests that are not about the rule want; a step of
// zero lets a test type a burst.
type testClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func personPace() *testClock {
	return &testClock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), step: time.Second}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// After delivers msg at once, the clock moved on by d: nothing else
// happens meanwhile unless the test sends it first.
func (c *testClock) After(d time.Duration, msg tea.Msg) tea.Cmd {
	return func() tea.Msg {
		c.advance(d)
		return msg
	}
}

// decide presses a command key alone and delivers the end of its quiet
// wait, without running the effects that follow: the screen while they
// run. (press runs everything.)
func decide(w Model, k string) (Model, tea.Cmd) {
	m, cmd := w.Update(runes(k))
	w = m.(Model)
	var effects []tea.Cmd
	for queue := []tea.Cmd{cmd}; len(queue) > 0; queue = queue[1:] {
		if queue[0] == nil {
			continue
		}
		switch msg := queue[0]().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case commandDueMsg:
			m, next := w.Update(msg)
			w = m.(Model)
			effects = append(effects, next)
		}
	}
	return w, tea.Batch(effects...)
}

// inBurst makes the keys that follow arrive 10 ms apart, as a scan's do.
func inBurst(w Model) Model {
	w.opts.Clock.(*testClock).step = 10 * time.Millisecond
	return w
}
