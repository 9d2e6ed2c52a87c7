package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"enroll/api"
	"enroll/flow"
	"enroll/persist"
	"enroll/qr/handoff"
	"enroll/tui"
)

// wiz drives the wizard's Model as Bubble Tea would, without a terminal:
// commands run in goroutines and their messages come back through msgs,
// and every frame (View after each Update) is checked for terminal
// controls. Colours are off (termenv.Ascii), so any ESC in a frame came
// from the text, except the OSC 8 hyperlink the wizard wraps a
// (sanitized) URL in, which is taken out first.
type wiz struct {
	t      *testing.T
	m      tea.Model
	msgs   chan tea.Msg
	done   chan struct{}
	frames int
}

func startWiz(t *testing.T, o tui.Options) *wiz {
	t.Helper()
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	o.Renderer = r
	w := &wiz{t: t, m: tui.New(context.Background(), o), msgs: make(chan tea.Msg, 16), done: make(chan struct{})}
	t.Cleanup(func() { close(w.done) })
	w.update(tea.WindowSizeMsg{Width: 80, Height: 24})
	w.run(w.m.Init())
	return w
}

// wizOptions is a wizard against x's service and credentials.
func wizOptions(x *fx, server string) tui.Options {
	hc, err := api.NewHTTPClient(api.HTTPOptions{Timeout: hangGuard})
	if err != nil {
		x.t.Fatal(err)
	}
	st := persist.Open(persist.Options{Path: x.creds})
	return tui.Options{
		Driver: flow.Driver{Service: api.New(api.Options{HTTP: hc}), Store: st},
		Config: flow.Config{Server: server, Hostname: "lab-1"},
		Clock:  personClock(),
	}
}

func (w *wiz) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		select {
		case w.msgs <- msg:
		case <-w.done:
		}
	}()
}

func (w *wiz) update(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			w.run(c)
		}
		return
	}
	var cmd tea.Cmd
	w.m, cmd = w.m.Update(msg)
	w.check()
	w.run(cmd)
}

var osc8 = regexp.MustCompile("\x1b\\]8;;[^\x1b]*\x1b\\\\")

func (w *wiz) check() {
	w.t.Helper()
	w.frames++
	v := w.m.View()
	if r, bad := terminalControl(osc8.ReplaceAllString(v, "")); bad {
		w.t.Fatalf("frame %d holds %U:\n%s", w.frames, r, short(v))
	}
}

// until processes messages until the frame holds every text.
func (w *wiz) until(texts ...string) string {
	w.t.Helper()
	deadline := time.After(hangGuard)
	for {
		v := w.m.View()
		missing := false
		for _, s := range texts {
			missing = missing || !strings.Contains(v, s)
		}
		if !missing {
			return v
		}
		select {
		case msg := <-w.msgs:
			w.update(msg)
		case <-deadline:
			w.t.Fatalf("still waiting for %q; the frame is:\n%s", texts, v)
		}
	}
}

// untilAny processes messages until the frame holds one of texts.
func (w *wiz) untilAny(texts ...string) string {
	w.t.Helper()
	deadline := time.After(hangGuard)
	for {
		v := w.m.View()
		for _, s := range texts {
			if strings.Contains(v, s) {
				return v
			}
		}
		select {
		case msg := <-w.msgs:
			w.update(msg)
		case <-deadline:
			w.t.Fatalf("still waiting for one of %q; the frame is:\n%s", texts, v)
		}
	}
}

// released processes messages until the wizard has given the store back:
// a failure screen is drawn before the release runs, and the file Prepare
// reserved for the journal goes with the lock.
func (w *wiz) released(x *fx) {
	w.t.Helper()
	deadline := time.After(hangGuard)
	for len(x.glob(".*.tmp-*")) != 0 {
		select {
		case msg := <-w.msgs:
			w.update(msg)
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			w.t.Fatalf("the store was never released: %q", x.glob(".*.tmp-*"))
		}
	}
}

func (w *wiz) keys(k tea.KeyType) { w.update(tea.KeyMsg{Type: k}) }

func (w *wiz) typed(s string) { w.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}) }

func (w *wiz) paste(s string) {
	w.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
}

// to walks from the welcome screen to the review screen with link.
func (w *wiz) to(link string) {
	w.t.Helper()
	w.until("step 1 of 4")
	w.keys(tea.KeyEnter)
	w.until("step 2 of 4")
	w.paste(link)
	w.keys(tea.KeyEnter)
	w.until("step 3 of 4")
	w.keys(tea.KeyEnter)
	w.until("step 4 of 4")
}

// fakePhone is a hand-off whose phone sends what it holds at once; it
// passes through phoneResult as the real one (phoneSession) does.
type fakePhone struct{ received handoff.Received }

func (p fakePhone) URL() string           { return "http://192.0.2.7:8080/h/abcdef#key" }
func (p fakePhone) ExpiresAt() time.Time  { return time.Now().Add(10 * time.Minute) }
func (p fakePhone) Wait() tui.PhoneResult { return phoneResult(handoff.Result{Received: p.received}) }
func (p fakePhone) Close() error          { return nil }
