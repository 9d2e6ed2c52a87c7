// Command countdown measures what one update of the hand-off screen's
// countdown writes to the terminal. The countdown changes once a minute, too
// seldom to wait for in bench/run's pseudo-terminal runs, so this runs the
// wizard in-process through Bubble Tea's own renderer (the same code that
// writes to the terminal in a real run) with a hand-off session that is
// made to expire a moment after a whole minute, and counts the bytes the
// update writes and the QR code rows among them. It prints one JSON line.
//
// Nothing listens anywhere: the hand-off session is a stand-in with the
// real URL shape, and the wizard's service is never called.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"enroll/api"
	"enroll/flow"
	"enroll/persist"
	"enroll/tui"
)

// screen collects what the renderer writes.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) from(off int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()[off:]
}

func (s *screen) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Len()
}

// waitFor waits until text shows after off and the output went quiet.
func (s *screen) waitFor(off int, text string) error {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(ansi.Strip(s.from(off)), text) {
			for n := s.len(); ; n = s.len() {
				time.Sleep(50 * time.Millisecond)
				if s.len() == n {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("%q did not show; the screen ends:\n%s", text, ansi.Strip(s.from(max(0, s.len()-1500))))
}

type phone struct{ expires time.Time }

// The shape of a hand-off URL on a LAN: http://IP:PORT/h/<22>#<43>.
func (phone) URL() string {
	return "http://192.168.100.200:41234/h/q3Z8-xv_T0aLmN5pRsWy2A#Vt9kQ2mX_bL7wR4nHc1yJ0fD8sPz-gE6uKa3oMiTq5B"
}
func (p phone) ExpiresAt() time.Time { return p.expires }
func (phone) Wait() tui.PhoneResult  { select {} } // the phone never sends: the page stays up
func (phone) Close() error           { return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "countdown:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "enroll-countdown-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := &screen{}
	r := lipgloss.NewRenderer(out)
	r.SetColorProfile(termenv.ANSI)
	m := tui.New(context.Background(), tui.Options{
		Driver:   flow.Driver{Service: api.New(api.Options{}), Store: persist.Open(persist.Options{Path: filepath.Join(dir, "credentials.json")}), Now: time.Now},
		Config:   flow.Config{Hostname: "bench"},
		Renderer: r,
		// Expires 9 minutes and a little after it opens: the countdown
		// says "within 10 min." and turns to 9 a moment later.
		StartPhone: func() (tui.Phone, error) {
			return phone{expires: time.Now().Add(9*time.Minute + 400*time.Millisecond)}, nil
		},
	})
	p := tea.NewProgram(m, tea.WithOutput(out), tea.WithInput(nil), tea.WithAltScreen(), tea.WithoutSignalHandler())
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	defer func() { p.Kill(); <-done }()

	p.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if err := out.waitFor(0, "enter continue"); err != nil {
		return err
	}
	p.Send(tea.KeyMsg{Type: tea.KeyEnter})
	if err := out.waitFor(0, "step 2 of 4"); err != nil {
		return err
	}
	off := out.len()
	p.Send(tea.KeyMsg{Type: tea.KeyCtrlO})
	if err := out.waitFor(off, "closes within 10 min."); err != nil {
		return err
	}
	off = out.len()
	if err := out.waitFor(off, "closes within 9 min."); err != nil {
		return err
	}
	update := out.from(off)
	line, _ := json.Marshal(map[string]any{
		"kind":    "countdown",
		"bytes":   len(update),
		"qr_rows": strings.Count(update, "\x1b[37;40;7m"), // how every row of a bg or small code starts
		"every_s": 60,
	})
	fmt.Println(string(line))
	return nil
}
