package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"enroll/flow"
	"enroll/qr"
)

// View() runs after every message Bubble Tea delivers, so its cost is paid
// per key and per tick. These benchmarks draw every screen of the wizard as
// a person sees it: the 16-colour profile of a real run (the goldens pin
// Ascii), at 80×24 and 120×40. bench/run reports them; the budget is 1 ms
// a screen. No timing is asserted here.

// colourWizard is testWizardOpts with the colour profile the CLI uses.
func colourWizard(svc flow.Service, st flow.Store, cfg flow.Config, width, height int) Model {
	w := New(context.Background(), Options{
		Driver: flow.Driver{Service: svc, Store: st, Now: func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }},
		Config: cfg, Renderer: colourRenderer(), Clock: personPace(),
	})
	m, _ := w.Update(tea.WindowSizeMsg{Width: width, Height: height})
	w = m.(Model)
	return settle(w, w.next())
}

func colourRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI)
	return r
}

// benchScreens are the wizard's screens, each reached the way a person
// reaches it.
func benchScreens() []struct {
	name  string
	setup func(width, height int) Model
} {
	cfg := flow.Config{Server: goldenServer, Hostname: "lab-1.example.com"}
	fresh := func() (*memService, *memStore) { return &memService{answer: goldenClient}, &memStore{} }
	at := func(keys ...tea.KeyMsg) func(int, int) Model {
		return func(wd, h int) Model { s, st := fresh(); return press(colourWizard(s, st, cfg, wd, h), keys...) }
	}
	review := []tea.KeyMsg{enter, paste(goldenLink), enter, enter}
	then := func(keys ...tea.KeyMsg) []tea.KeyMsg { return append(append([]tea.KeyMsg{}, review...), keys...) }
	return []struct {
		name  string
		setup func(width, height int) Model
	}{
		{"loading", func(wd, h int) Model {
			s, st := fresh()
			w := New(context.Background(), Options{Driver: flow.Driver{Service: s, Store: st, Now: time.Now}, Config: cfg, Renderer: colourRenderer()})
			m, _ := w.Update(tea.WindowSizeMsg{Width: wd, Height: h})
			return m.(Model) // the store is not read yet
		}},
		{"welcome", at()},
		{"invitation-empty", at(enter)},
		{"invitation-typing", at(enter, runes("Z"), runes("m"), runes("9"), runes("v"), runes("Y"), runes("m"), runes("F"), runes("y"), runes("L"))},
		{"invitation-recognised", at(enter, paste(goldenLink))},
		{"invitation-refused", at(enter, paste("http://evil.example.com/invitation?token=abcdefgh12345"))},
		{"server", func(wd, h int) Model {
			s, st := fresh()
			return press(colourWizard(s, st, flow.Config{Hostname: "lab-1"}, wd, h), enter, paste(goldenLink), enter)
		}},
		{"name", at(enter, paste(goldenLink), enter)},
		{"review", at(review...)},
		{"working", func(wd, h int) Model {
			w := at(review...)(wd, h)
			w, _ = decide(w, "a") // the effect is not run: the screen while it runs
			return w
		}},
		{"done", at(then(runes("a"))...)},
		{"done-id-qr", at(then(runes("a"), runes("i"))...)},
		{"declined", at(then(runes("d"), runes("y"))...)},
		{"failed-network", func(wd, h int) Model {
			s, st := fresh()
			s.acceptErr = fmt.Errorf("accept: dial tcp: connection refused: %w", flow.ErrNetwork)
			return press(colourWizard(s, st, cfg, wd, h), then(runes("a"))...)
		}},
		{"not-stored-reveal", func(wd, h int) Model {
			s, st := fresh()
			st.saveErr = errors.New("write credentials.json: no space left on device")
			st.jourErr = errors.New("write credentials.json.pending: no space left on device")
			return press(colourWizard(s, st, cfg, wd, h), then(runes("a"))...)
		}},
		{"handoff-waiting", func(wd, h int) Model { return colourPhone(newFakePhone(), wd, h) }},
		{"handoff-received", func(wd, h int) Model {
			p := newFakePhone()
			m, _ := colourPhone(p, wd, h).Update(phoneResultMsg{phone: p, result: PhoneResult{Text: goldenLink, From: "192.168.1.50", Code: "123 456"}})
			return m.(Model)
		}},
		{"too-small", func(_, _ int) Model { s, st := fresh(); return colourWizard(s, st, cfg, 50, 15) }},
	}
}

// colourPhone is phoneWizard in colour: the hand-off screen, QR code shown.
func colourPhone(p *fakePhone, width, height int) Model {
	w := colourWizard(&memService{answer: goldenClient}, &memStore{}, flow.Config{Server: goldenServer, Hostname: "lab-1"}, width, height)
	w.opts.StartPhone = func() (Phone, error) { return p, nil }
	w.opts.Now = func() time.Time { return phoneNow }
	w.keys.sync(&w)
	w = press(w, enter)
	m, cmd := w.Update(tea.KeyMsg{Type: tea.KeyCtrlO})
	w = m.(Model)
	m, _ = w.Update(cmd())
	return m.(Model)
}

// BenchmarkView is View() of every screen: what each frame costs once the
// screen is up (the QR code of the hand-off and id screens is cached).
func BenchmarkView(b *testing.B) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, sc := range benchScreens() {
			b.Run(fmt.Sprintf("%s/%dx%d", sc.name, size[0], size[1]), func(b *testing.B) {
				w := sc.setup(size[0], size[1])
				if w.View() == "" {
					b.Fatal("empty view")
				}
				b.ReportAllocs()
				for b.Loop() {
					_ = w.View()
				}
			})
		}
	}
}

// BenchmarkViewFirstQR is the hand-off screen's first frame: the QR code
// drawn for the window (what the cache saves on every later frame). The
// URL was encoded by the command that started the page, off the render
// path, so that is left out of the timing.
func BenchmarkViewFirstQR(b *testing.B) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			w := colourPhone(newFakePhone(), size[0], size[1])
			url := w.phone.session.URL()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				w.phone.qrCache = &qr.Cache{} // as if the URL were new: encoded, not drawn
				w.phone.qrCache.Prepare(url)
				b.StartTimer()
				_ = w.View()
			}
		})
	}
}

// BenchmarkKeyView is one typed character on the invitation screen as the
// program pays for it: Update with the key, then View.
func BenchmarkKeyView(b *testing.B) {
	s, st := &memService{answer: goldenClient}, &memStore{}
	base := press(colourWizard(s, st, flow.Config{Server: goldenServer, Hostname: "lab-1"}, 80, 24), enter, runes("Zm9vYmFyLXRva2Vu"))
	key := runes("x")
	b.ReportAllocs()
	for b.Loop() {
		m, _ := base.Update(key)
		_ = m.View()
	}
}
