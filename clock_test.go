package main

import (
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// paceClock is the wizard's input clock for in-process runs that are not
// about input timing: each reading is a second after the last, as if a
// person paused before every key, and a wait is over as soon as it is
// asked for. (Runs of the real binary in a terminal pause for real.)
type paceClock struct {
	mu sync.Mutex
	t  time.Time
}

func personClock() *paceClock { return &paceClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} }

func (c *paceClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *paceClock) After(d time.Duration, msg tea.Msg) tea.Cmd {
	return func() tea.Msg {
		c.mu.Lock()
		c.t = c.t.Add(d)
		c.mu.Unlock()
		return msg
	}
}
