package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"enroll/flow"
)

// Golden screens use an in-memory service and store with fixed answers, so
// every byte on screen is deterministic; the colour profile is pinned to
// Ascii. Run `go test ./tui -run TestScreens -update` to rewrite them after
// a deliberate change, and read the diff.

const (
	goldenLink   = "https://idp.example.com/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"
	goldenServer = "https://idp.example.com"
)

type memService struct {
	acceptErr error
	answer    flow.Client
}

func (s *memService) Authenticate(context.Context, string, flow.Credentials) (string, error) {
	return "access", nil
}

func (s *memService) Accept(context.Context, flow.AcceptRequest) ([]byte, error) {
	if s.acceptErr != nil {
		return nil, s.acceptErr
	}
	return json.Marshal(s.answer)
}

func (s *memService) DecodeAccept(raw []byte) (flow.Client, error) {
	var c flow.Client
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("%w: %v", flow.ErrBadResponse, err)
	}
	return c, nil
}

func (s *memService) Decline(context.Context, flow.DeclineRequest) error { return nil }

type memStore struct {
	snap    flow.Snapshot
	saveErr error
	jourErr error
	saved   *flow.Credentials
	seals   bool // writes seal the secret to the TPM (--seal tpm)
}

func (s *memStore) Seals() bool  { return s.seals }
func (s *memStore) Sealed() bool { return s.seals && s.saved != nil }

func (s *memStore) Load(context.Context) (flow.Snapshot, error) { return s.snap, nil }
func (s *memStore) Prepare(context.Context) error               { return nil }
func (s *memStore) Journal(flow.Pending) error                  { return s.jourErr }
func (s *memStore) Save(c flow.Credentials) error {
	if s.saveErr != nil {
		return s.saveErr
	}
	s.saved = &c
	return nil
}
func (s *memStore) SetAside() (string, error) {
	return "/var/lib/enroll/credentials.json.pending.unreadable-1", nil
}
func (s *memStore) Release() error      { return nil }
func (s *memStore) Path() string        { return "/var/lib/enroll/credentials.json" }
func (s *memStore) JournalPath() string { return "/var/lib/enroll/credentials.json.pending" }

var goldenClient = flow.Client{ID: "6607a545-3e0c-462c-91aa-9d063f5d056a", ClientID: "4ed1b9f8-b5ce-4b65-be00-9b3b3bae4a36", ClientSecret: "ciOujmBNzJPjdelvO7lfNhdwAsonITB7EGMV4pDj-UE", Name: "lab-1"}

var goldenExisting = flow.Credentials{Server: goldenServer, ID: "11111111-2222-3333-4444-555555555555", ClientID: "kiosk-client-7", ClientSecret: "old-secret", Name: "Lobby kiosk 7", EnrolledAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}

func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

func testWizard(svc flow.Service, st flow.Store, cfg flow.Config, width, height int) Model {
	return testWizardOpts(svc, st, cfg, width, height, false)
}

func testWizardOpts(svc flow.Service, st flow.Store, cfg flow.Config, width, height int, ascii bool) Model {
	w := New(context.Background(), Options{ASCII: ascii,
		Driver: flow.Driver{Service: svc, Store: st, Now: func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }},
		Config: cfg, Renderer: asciiRenderer(), Clock: personPace(),
	})
	m, _ := w.Update(tea.WindowSizeMsg{Width: width, Height: height})
	w = m.(Model)
	return settle(w, w.next())
}

// settle runs the wizard's effect commands, and the wait after a command
// key, synchronously until none is left, following batches. Other commands (the kiosk timers, quitting) are
// run but their messages dropped: tests send those by hand. The fields'
// cursors do not blink and the spinner is never started here.
func settle(w Model, cmd tea.Cmd) Model {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case effectDoneMsg, commandDueMsg:
			m, next := w.Update(msg)
			w = m.(Model)
			queue = append(queue, next)
		}
	}
	return w
}

// press sends keys, running what they start.
func press(w Model, keys ...tea.KeyMsg) Model {
	for _, k := range keys {
		m, cmd := w.Update(k)
		w = settle(m.(Model), cmd)
	}
	return w
}

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func paste(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true} }

var (
	enter = tea.KeyMsg{Type: tea.KeyEnter}
	esc   = tea.KeyMsg{Type: tea.KeyEsc}
)

// goldenScreen is one screen of the wizard, reached by real key presses.
type goldenScreen struct {
	name  string
	setup func(width, height int) Model
}

func fresh() (*memService, *memStore) { return &memService{answer: goldenClient}, &memStore{} }

var goldenConfig = flow.Config{Server: goldenServer, Hostname: "lab-1.example.com"}

// goldenScreens are the wizard's screens, each in the state that shows it.
func goldenScreens() []goldenScreen {
	cfg := goldenConfig
	return []goldenScreen{
		{"welcome", func(wd, h int) Model { s, st := fresh(); return testWizard(s, st, cfg, wd, h) }},
		{"welcome-existing", func(wd, h int) Model {
			s, st := fresh()
			st.snap = flow.Snapshot{Existing: &goldenExisting, Warnings: []string{"The credentials file was open to other users (mode 0644); its mode was set to 0600."}}
			return testWizard(s, st, flow.Config{Hostname: "lab-1"}, wd, h)
		}},
		{"invitation-empty", func(wd, h int) Model { s, st := fresh(); return press(testWizard(s, st, cfg, wd, h), enter) }},
		{"invitation-recognised", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink))
		}},
		{"invitation-refused", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste("http://evil.example.com/invitation?token=abcdefgh12345"))
		}},
		{"server", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, flow.Config{Hostname: "lab-1"}, wd, h), enter, paste(goldenLink), enter)
		}},
		{"name", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter)
		}},
		{"review", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter)
		}},
		{"review-existing", func(wd, h int) Model {
			s, st := fresh()
			existing := goldenExisting
			existing.ClientID = "4ed1b9f8-b5ce-4b65-be00-9b3b3bae4a36" // as long as real ones
			st.snap = flow.Snapshot{Existing: &existing}
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter)
		}},
		{"review-sealed", func(wd, h int) Model {
			s, st := fresh()
			st.seals = true
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter)
		}},
		{"working", func(wd, h int) Model {
			s, st := fresh()
			w := press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter)
			w, _ = decide(w, "a") // the effect is not run: the screen while it runs
			return w
		}},
		{"done", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"))
		}},
		{"done-sealed", func(wd, h int) Model {
			s, st := fresh()
			st.seals = true
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"))
		}},
		{"done-revealed", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"), runes("s"))
		}},
		{"review-decline-asked", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("d"))
		}},
		{"declined", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("d"), runes("y"))
		}},
		{"failed-expired", func(wd, h int) Model {
			s, st := fresh()
			s.acceptErr = fmt.Errorf("accept: the service answered 410 Gone: invitation expired: %w", flow.ErrInvitationExpired)
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"))
		}},
		{"failed-network", func(wd, h int) Model {
			s, st := fresh()
			s.acceptErr = fmt.Errorf("accept: dial tcp: connection refused: %w", flow.ErrNetwork)
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"))
		}},
		{"outcome-unknown", func(wd, h int) Model {
			s, st := fresh()
			s.acceptErr = fmt.Errorf("accept: connection closed after the request was sent: %w", flow.ErrOutcomeUnknown)
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"))
		}},
		{"not-stored", func(wd, h int) Model {
			s, st := fresh()
			st.saveErr = errors.New("write credentials.json: no space left on device")
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"))
		}},
		{"not-stored-reveal", func(wd, h int) Model {
			s, st := fresh()
			st.saveErr = errors.New("write credentials.json: no space left on device")
			st.jourErr = errors.New("write credentials.json.pending: no space left on device")
			return press(testWizard(s, st, cfg, wd, h), enter, paste(goldenLink), enter, enter, runes("a"))
		}},
	}
}

func TestScreens(t *testing.T) {
	cfg := goldenConfig
	screens := goldenScreens()
	// 60×18 is the smallest size the README promises: every screen fits
	// there, if need be with fewer blank lines.
	for _, size := range [][2]int{{80, 24}, {120, 40}, {60, 18}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				v := sc.setup(size[0], size[1]).View()
				if strings.Contains(v, "Make the window larger") {
					t.Errorf("does not fit %dx%d:\n%s", size[0], size[1], v)
				}
				// A line the terminal wraps would push the top off screen.
				for _, line := range strings.Split(v, "\n") {
					if lipgloss.Width(line) > size[0] {
						t.Errorf("a line of %d columns at %dx%d: %q", lipgloss.Width(line), size[0], size[1], line)
					}
				}
				golden.RequireEqual(t, v)
			})
		}
	}
	// The Linux console and non-UTF-8 locales get ASCII symbols.
	for _, name := range []string{"invitation-recognised", "done", "failed-network"} {
		t.Run("ascii/"+name, func(t *testing.T) {
			s, st := fresh()
			w := testWizardOpts(s, st, cfg, 80, 24, true)
			w = press(w, enter, paste(goldenLink))
			if name != "invitation-recognised" {
				if name == "failed-network" {
					s.acceptErr = fmt.Errorf("accept: dial tcp: connection refused: %w", flow.ErrNetwork)
				}
				w = press(w, enter, enter, runes("a"))
			}
			view := w.View()
			for _, r := range view {
				if r > 0x7e {
					t.Fatalf("non-ASCII %q in:\n%s", r, view)
				}
			}
			golden.RequireEqual(t, view)
		})
	}
	t.Run("too-small", func(t *testing.T) {
		s, st := fresh()
		golden.RequireEqual(t, testWizard(s, st, cfg, 50, 15).View())
	})
}

func TestDoneIDAsQR(t *testing.T) {
	w := testWizard(&memService{answer: goldenClient}, &memStore{}, flow.Config{Server: goldenServer, Hostname: "lab-1"}, 80, 24)
	w = press(w, enter, paste(goldenLink), enter, enter, runes("a"), runes("i"))
	golden.RequireEqual(t, w.View())
	// The secret's one showing is not spent on a screen that cannot show it.
	if w = press(w, runes("s"), runes("i")); w.revealed || w.showing || strings.Contains(w.View(), goldenClient.ClientSecret) {
		t.Fatalf("s on the id screen: revealed %v, showing %v", w.revealed, w.showing)
	}
}
