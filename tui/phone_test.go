package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"enroll/flow"
)

// fakePhone is a hand-off session whose outcome the test decides.
type fakePhone struct {
	url     string
	expires time.Time
	result  chan PhoneResult
	closed  bool
}

func newFakePhone() *fakePhone {
	return &fakePhone{
		url:     "http://192.168.1.23:41234/h/AAECAwQFBgcICQoLDA0ODw#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		expires: time.Date(2026, 11, 28, 12, 10, 0, 0, time.UTC),
		result:  make(chan PhoneResult, 1),
	}
}

func (p *fakePhone) URL() string          { return p.url }
func (p *fakePhone) ExpiresAt() time.Time { return p.expires }
func (p *fakePhone) Wait() PhoneResult    { return <-p.result }
func (p *fakePhone) Close() error         { p.closed = true; return nil }

var phoneNow = time.Date(2026, 11, 28, 12, 0, 18, 0, time.UTC)

func phoneWizard(p *fakePhone, width, height int, ascii bool) Model {
	w := testWizardOpts(&memService{answer: goldenClient}, &memStore{}, flow.Config{Server: goldenServer, Hostname: "lab-1"}, width, height, ascii)
	w.opts.StartPhone = func() (Phone, error) { return p, nil }
	w.opts.Now = func() time.Time { return phoneNow }
	w.keys.sync(&w)
	w = press(w, enter)
	m, cmd := w.Update(tea.KeyMsg{Type: tea.KeyCtrlO})
	w = m.(Model)
	m, _ = w.Update(cmd()) // started: the wait and tick commands are not run
	return m.(Model)
}

// shownAddress puts together the pieces of url that end the screen's lines,
// one after another: the address as someone would copy it off the screen.
func shownAddress(view, url string) string {
	got := ""
	for _, line := range strings.Split(ansi.Strip(view), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if piece := f[len(f)-1]; got != "" && strings.HasPrefix(url, got+piece) || got == "" && len(piece) >= 8 && strings.HasPrefix(url, piece) {
			got += piece
		}
	}
	return got
}

func TestPhoneScreens(t *testing.T) {
	for _, tc := range []struct {
		name          string
		width, height int
		ascii         bool
		received      bool
		swapped       int // times the swap key was pressed
	}{
		{"waiting", 80, 24, false, false, 0},
		{"waiting", 120, 40, false, false, 0},
		{"waiting", 120, 50, false, false, 0}, // bg, the address below
		{"waiting", 60, 25, false, false, 0},  // the code alone: the key shows the address
		{"waiting-address", 60, 25, false, false, 1},
		{"waiting-ascii", 80, 24, true, false, 0},
		{"waiting-ascii", 128, 48, true, false, 0}, // the Linux console on a 1024×768 framebuffer
		{"too-small-for-the-code", 60, 18, false, false, 0},
		{"received", 80, 24, false, true, 0},
	} {
		t.Run(fmt.Sprintf("%s/%dx%d", tc.name, tc.width, tc.height), func(t *testing.T) {
			p := newFakePhone()
			w := phoneWizard(p, tc.width, tc.height, tc.ascii)
			if tc.received {
				m, _ := w.Update(phoneResultMsg{phone: p, result: PhoneResult{Text: goldenLink, From: "192.168.1.50", Code: "123 456"}})
				w = m.(Model)
			}
			for range tc.swapped {
				w = press(w, runes("a"))
			}
			v := w.View()
			for _, line := range strings.Split(v, "\n") {
				if lipgloss.Width(line) > tc.width {
					t.Errorf("a line of %d columns: %q", lipgloss.Width(line), line)
				}
			}
			if lipgloss.Height(v) > tc.height {
				t.Errorf("%d lines", lipgloss.Height(v))
			}
			// The address is on screen whole, or a key the footer
			// offers shows it.
			switch {
			case tc.received:
			case shownAddress(v, p.url) == p.url:
				if w.keys.PhoneSwap.Enabled() && !strings.Contains(v, "a show the code") {
					t.Errorf("the address shows, and the footer does not offer the code back")
				}
			case !w.keys.PhoneSwap.Enabled() || !strings.Contains(v, "a show the address"):
				t.Errorf("the address is not shown whole (%q), nor offered behind a key", shownAddress(v, p.url))
			}
			golden.RequireEqual(t, v)
		})
	}
}

func TestPhoneHandOff(t *testing.T) {
	t.Run("confirmed code uses the invitation", func(t *testing.T) {
		p := newFakePhone()
		w := phoneWizard(p, 80, 24, false)
		m, _ := w.Update(phoneResultMsg{phone: p, result: PhoneResult{Text: goldenLink, From: "192.168.1.50", Code: "123 456"}})
		w = press(m.(Model), runes("y"))
		if w.machine.State != flow.StateName || w.machine.Invitation.Host != "idp.example.com" || !p.closed {
			t.Fatalf("state %v invitation %+v closed %v", w.machine.State, w.machine.Invitation, p.closed)
		}
	})
	t.Run("cancel returns to typing and closes the page", func(t *testing.T) {
		p := newFakePhone()
		w := press(phoneWizard(p, 80, 24, false), esc)
		if w.machine.State != flow.StateInvitation || w.phone.stage != phoneOff || !p.closed {
			t.Fatalf("state %v stage %v closed %v", w.machine.State, w.phone.stage, p.closed)
		}
	})
	t.Run("letters do not reach the field while the code is shown", func(t *testing.T) {
		p := newFakePhone()
		w := press(phoneWizard(p, 80, 24, false), runes("abc"))
		if w.invitation.Value() != "" || w.phone.stage != phoneWaiting {
			t.Fatalf("value %q stage %v", w.invitation.Value(), w.phone.stage)
		}
	})
	t.Run("expired session says so", func(t *testing.T) {
		p := newFakePhone()
		w := phoneWizard(p, 80, 24, false)
		m, _ := w.Update(phoneResultMsg{phone: p, result: PhoneResult{Err: errors.New("the hand-off page expired after 10 minutes")}})
		w = m.(Model)
		if w.phone.stage != phoneFailed || !strings.Contains(w.View(), "expired") {
			t.Fatalf("stage %v view:\n%s", w.phone.stage, w.View())
		}
	})
	t.Run("a stale session's result is ignored", func(t *testing.T) {
		old, p := newFakePhone(), newFakePhone()
		w := phoneWizard(p, 80, 24, false)
		m, _ := w.Update(phoneResultMsg{phone: old, result: PhoneResult{Text: goldenLink}})
		if m.(Model).phone.stage != phoneWaiting {
			t.Fatal("a result of another session was taken")
		}
	})
	t.Run("ctrl-c closes the page", func(t *testing.T) {
		p := newFakePhone()
		w := press(phoneWizard(p, 80, 24, false), tea.KeyMsg{Type: tea.KeyCtrlC})
		if !p.closed {
			t.Fatal("the hand-off page still listens")
		}
		_ = w
	})
	t.Run("a page that starts after the person left is closed", func(t *testing.T) {
		p := newFakePhone()
		w := testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24)
		w.opts.StartPhone = func() (Phone, error) { return p, nil }
		w = press(w, enter)
		m, start := w.Update(tea.KeyMsg{Type: tea.KeyCtrlO}) // the start is slow: not run yet
		w = press(m.(Model), esc)
		if w.phone.stage != phoneOff {
			t.Fatalf("esc while starting: stage %v", w.phone.stage)
		}
		m, cmd := w.Update(start())
		if w = m.(Model); !p.closed || w.phone.session != nil || cmd != nil {
			t.Fatalf("a page started too late: closed %v, kept %v", p.closed, w.phone.session != nil)
		}
	})
	t.Run("a page that cannot start says why and goes back", func(t *testing.T) {
		w := testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24)
		w.opts.StartPhone = func() (Phone, error) {
			return nil, errors.New("listen tcp 192.168.1.23:0: bind: address not available")
		}
		m, start := press(w, enter).Update(tea.KeyMsg{Type: tea.KeyCtrlO})
		m, _ = m.Update(start())
		w = m.(Model)
		// Shown as a sentence: capital letter, full stop.
		if v := w.View(); w.phone.stage != phoneFailed || !strings.Contains(v, "The hand-off ended") || !strings.Contains(v, "Listen tcp") || !strings.Contains(v, "address not available.") {
			t.Fatalf("stage %v:\n%s", w.phone.stage, v)
		}
		w = press(w, esc, paste("x"))
		if w.phone.stage != phoneOff || w.machine.State != flow.StateInvitation || w.invitation.Value() != "x" {
			t.Fatalf("after esc: stage %v, state %v, field %q", w.phone.stage, w.machine.State, w.invitation.Value())
		}
	})
	t.Run("a kiosk left idle closes the page and starts over", func(t *testing.T) {
		p := newFakePhone()
		w := phoneWizard(p, 80, 24, false)
		w.opts.Kiosk, w.opts.KioskTimeout = true, time.Minute
		m, _ := w.Update(kioskIdleMsg{gen: w.gen, idle: w.idle})
		if w = m.(Model); !p.closed || w.phone.stage != phoneOff || w.machine.State != flow.StateLoading && w.machine.State != flow.StateWelcome {
			t.Fatalf("closed %v, stage %v, state %v", p.closed, w.phone.stage, w.machine.State)
		}
	})
}

// The window size a screen asks for to show its code is enough: at that
// size the code is drawn (the hand-off page's address, and the device id).
func TestCodeRoomAskedIsEnough(t *testing.T) {
	sizeAsked := func(v string) (int, int) {
		var wd, h int
		v = strings.Join(strings.Fields(ansi.Strip(v)), " ")
		i := strings.Index(v, "at least ")
		if i < 0 {
			t.Fatalf("no size asked for:\n%s", v)
		}
		if _, err := fmt.Sscanf(strings.ReplaceAll(v[i+len("at least "):], "×", " "), "%d %d", &wd, &h); err != nil {
			t.Fatalf("reading the size: %v", err)
		}
		return wd, h
	}
	v := phoneWizard(newFakePhone(), 60, 18, false).View()
	wd, h := sizeAsked(v)
	if got := phoneWizard(newFakePhone(), wd, h, false).View(); !hasCode(got) {
		t.Errorf("at the %d×%d asked for, the hand-off code is not drawn:\n%s", wd, h, got)
	}

	idScreen := func(wd, h int) string {
		s, st := fresh()
		w := press(testWizard(s, st, goldenConfig, 80, 40), enter, paste(goldenLink), enter, enter, runes("a"), runes("i"))
		m, _ := w.Update(tea.WindowSizeMsg{Width: wd, Height: h})
		return m.(Model).View()
	}
	wd, h = sizeAsked(idScreen(60, 18))
	if got := idScreen(wd, h); !hasCode(got) {
		t.Errorf("at the %d×%d asked for, the id code is not drawn:\n%s", wd, h, got)
	}
}

// A token alone sent from a phone, where no server is known, is refused on
// the hand-off screen already, as it would be when typed.
func TestPhoneTokenAloneWithoutAServer(t *testing.T) {
	p := newFakePhone()
	s, st := fresh()
	w := testWizard(s, st, flow.Config{Hostname: "lab-1"}, 80, 24)
	w.opts.StartPhone = func() (Phone, error) { return p, nil }
	m, start := press(w, enter).Update(tea.KeyMsg{Type: tea.KeyCtrlO})
	m, _ = m.Update(start())
	m, _ = m.Update(phoneResultMsg{phone: p, result: PhoneResult{Text: "Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk", From: "192.168.1.50", Code: "123 456"}})
	if v := m.(Model).View(); !strings.Contains(v, "a token alone names no server") || strings.Contains(v, "as a token:") {
		t.Fatalf("hand-off screen:\n%s", v)
	}
}
