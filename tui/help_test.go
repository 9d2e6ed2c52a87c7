package tui

import (
	"context"
	"enroll/flow"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// bindings are all of the wizard's key bindings, the help's and Ctrl-C.
func bindings(k keyMap) []key.Binding {
	var out []key.Binding
	for _, col := range k.FullHelp() {
		out = append(out, col...)
	}
	return out
}

// keyFor is the key press a binding's key name stands for.
func keyFor(t *testing.T, name string) tea.KeyMsg {
	t.Helper()
	if len([]rune(name)) == 1 {
		return runes(name)
	}
	for _, k := range []tea.KeyMsg{enter, esc, {Type: tea.KeyTab}, {Type: tea.KeyCtrlC}, {Type: tea.KeyCtrlO}} {
		if k.String() == name {
			return k
		}
	}
	t.Fatalf("no key press for %q", name)
	return tea.KeyMsg{}
}

// The help line is always true: on every screen, each key it offers does
// something, and a key whose every binding is switched off does nothing
// (in a text field, letters are text and are not checked; while the
// secret shows, any key hides it).
func TestHelpIsAlwaysTrue(t *testing.T) {
	for _, sc := range slices.Concat(goldenScreens(), handOffScreens(), refusalScreens()) {
		t.Run(sc.name, func(t *testing.T) {
			w := sc.setup(80, 24)
			before := w.View()
			offered := map[string]bool{}
			for _, b := range bindings(w.keys) {
				for _, k := range b.Keys() {
					offered[k] = offered[k] || b.Enabled()
				}
			}
			for _, b := range bindings(w.keys) {
				for _, k := range b.Keys() {
					msg := keyFor(t, k)
					m, cmd := w.Update(msg)
					after := m.(Model)
					changed := cmd != nil || after.View() != before || after.machine.State != w.machine.State
					if w.showing && after.showing {
						t.Errorf("%s (%s) left the secret on screen", k, b.Help().Desc)
					}
					switch {
					case b.Enabled() && !changed:
						t.Errorf("%s (%s) is offered and does nothing", k, b.Help().Desc)
					case !offered[k] && w.showing:
						// The screen says "any key hides it", and that is
						// all such a key may do.
						if after.showing || after.machine.State != w.machine.State || after.revealed != w.revealed {
							t.Errorf("%s (%s) did more than hide the secret", k, b.Help().Desc)
						}
					case !offered[k] && changed && !textIn(w, msg):
						t.Errorf("%s (%s) is switched off and did something", k, b.Help().Desc)
					}
				}
			}
		})
	}
}

// textIn reports a key that is text on w's screen rather than a key:
// letters, spaces and tabs in a text field, and on the welcome screen,
// where they begin the invitation.
func textIn(w Model, msg tea.KeyMsg) bool {
	text := msg.Type == tea.KeyRunes || msg.Type == tea.KeyTab || msg.Type == tea.KeySpace
	return text && (w.inField() || w.machine.State == flow.StateWelcome && msg.Type == tea.KeyRunes)
}

// handOffScreens are the invitation screen with a phone hand-off on offer,
// and the hand-off screen waiting and with a result.
func handOffScreens() []goldenScreen {
	received := func(wd, h int) Model {
		p := newFakePhone()
		m, _ := phoneWizard(p, wd, h, false).Update(phoneResultMsg{phone: p, result: PhoneResult{Text: goldenLink, From: "192.168.1.50", Code: "123 456"}})
		return m.(Model)
	}
	return []goldenScreen{
		{"invitation-with-phone", func(wd, h int) Model {
			w := testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, wd, h)
			w.opts.StartPhone = func() (Phone, error) { return newFakePhone(), nil }
			w.keys.sync(&w)
			return press(w, enter)
		}},
		{"handoff-waiting", func(wd, h int) Model { return phoneWizard(newFakePhone(), wd, h, false) }},
		// Too narrow for the address beside the code: the key swaps them.
		{"handoff-waiting-swap", func(int, int) Model { return phoneWizard(newFakePhone(), 60, 25, false) }},
		{"handoff-received", received},
	}
}

// refusalScreens are the states where a refusal or an interruption is on
// screen, which the golden screens do not show.
func refusalScreens() []goldenScreen {
	noServer := flow.Config{Hostname: "lab-1"}
	return []goldenScreen{
		{"invitation-token-alone-refused", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, noServer, wd, h), enter, paste("Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"), enter)
		}},
		{"name-refused", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, goldenConfig, wd, h), enter, paste(goldenLink), enter, tea.KeyMsg{Type: tea.KeyCtrlU})
		}},
		{"invitation-after-server-refused", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, noServer, wd, h), enter, paste(goldenLink), enter, runes("n"))
		}},
		{"done-id-qr", func(wd, h int) Model {
			s, st := fresh()
			return press(testWizard(s, st, goldenConfig, wd, h), enter, paste(goldenLink), enter, enter, runes("a"), runes("i"))
		}},
		{"working-interrupted", func(wd, h int) Model {
			s, st := fresh()
			w := press(testWizard(s, st, goldenConfig, wd, h), enter, paste(goldenLink), enter, enter)
			w, _ = decide(w, "a") // the effect is not run
			m, _ := w.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
			return m.(Model)
		}},
	}
}

// Letters that arrive in one read (type-ahead over a slow link) are each a
// key of the screen the one before led to: "y" then "q" on the server
// screen confirms the server and types a q into the name, and "a" then "q"
// on the review screen accepts and does not ask to quit halfway.
func TestTypeAheadFollowsTheScreen(t *testing.T) {
	s, st := fresh()
	// Letters that arrive in one read outside a field are text, never
	// keys: yq on the server question neither trusts nor quits, aq on
	// the review screen neither accepts nor quits.
	w := press(testWizard(s, st, flow.Config{Hostname: "lab-1"}, 80, 24), enter, paste(goldenLink), enter, runes("yq"))
	if w.quitting || w.machine.State != flow.StateServer || w.machine.Server != "" || !strings.Contains(w.notice, "Ignored text") {
		t.Fatalf("yq on the server screen: quitting %v, state %v, server %q, notice %q", w.quitting, w.machine.State, w.machine.Server, w.notice)
	}
	s, st = fresh()
	w = press(testWizard(s, st, goldenConfig, 80, 24), enter, paste(goldenLink), enter, enter, runes("aq"))
	if w.quitting || w.machine.State != flow.StateReview || st.saved != nil {
		t.Fatalf("aq on the review screen: quitting %v, state %v", w.quitting, w.machine.State)
	}
}

// While the screen asks for a larger window, nothing can be accepted,
// declined or typed blind; Ctrl-C still works.
func TestKeysWaitForAWindowLargeEnough(t *testing.T) {
	s, st := fresh()
	w := press(testWizard(s, st, goldenConfig, 80, 24), enter, paste(goldenLink), enter, enter)
	m, _ := w.Update(tea.WindowSizeMsg{Width: 40, Height: 10})
	w = press(m.(Model), runes("a"), runes("d"), esc, runes("q"))
	if w.machine.State != flow.StateReview || w.quitting {
		t.Fatalf("keys worked behind the request for a larger window: state %v, quitting %v", w.machine.State, w.quitting)
	}
	m, _ = w.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if w = press(m.(Model), runes("a")); w.machine.State != flow.StateDone {
		t.Fatalf("a, once the window is large enough: state %v", w.machine.State)
	}
	m, _ = w.Update(tea.WindowSizeMsg{Width: 40, Height: 10})
	if _, cmd := m.Update(tea.KeyMsg{Type: tea.KeyCtrlC}); cmd == nil {
		t.Fatal("Ctrl-C did nothing on a window too small")
	}
}

// Saying no to the link's server goes back to the invitation and says why.
func TestServerRefusedSaysWhy(t *testing.T) {
	s, st := fresh()
	w := press(testWizard(s, st, flow.Config{Hostname: "lab-1"}, 80, 24), enter, paste(goldenLink), enter, runes("n"))
	if v := w.View(); w.machine.State != flow.StateInvitation || !strings.Contains(v, "Not using that server") {
		t.Fatalf("state %v:\n%s", w.machine.State, v)
	}
}

// A screen taller than the window, though the window is of the smallest
// size promised (a long message from the service), is hidden the same way:
// what the last frame showed decides, as Bubble Tea draws after each update.
func TestKeysWaitWhenTheScreenDoesNotFit(t *testing.T) {
	s, st := fresh()
	st.saveErr = errors.New(strings.Repeat("the disk is very sorry ", 20))
	st.jourErr = st.saveErr // the credentials are then shown, and the screen is long
	w := press(testWizard(s, st, goldenConfig, 60, 18), enter, paste(goldenLink), enter, enter, runes("a"))
	if v := w.View(); w.machine.State != flow.StateFailed || !strings.Contains(v, "Make the window larger") {
		t.Fatalf("state %v; want a failure too tall for 60×18:\n%s", w.machine.State, v)
	}
	st.saveErr, st.jourErr = nil, nil // a retry would now succeed
	if w = press(w, runes("r")); st.saved != nil {
		t.Fatalf("r retried behind the request for a larger window: state %v", w.machine.State)
	}
	m, _ := w.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	w = m.(Model)
	_ = w.View()
	if w = press(w, runes("r")); w.machine.State != flow.StateDone || st.saved == nil {
		t.Fatalf("r once the screen fits: state %v", w.machine.State)
	}
}

// An enrolled device keeps the name it has, even one longer than a new name
// may be (the administrator may have set it on the service): Enter is
// offered and keeps it unchanged.
func TestLongExistingNameIsKept(t *testing.T) {
	s, st := fresh()
	existing := goldenExisting
	existing.Name = strings.Repeat("Lobby kiosk ", 6) // 72 characters
	st.snap = flow.Snapshot{Existing: &existing}
	w := press(testWizard(s, st, goldenConfig, 80, 24), enter, paste(goldenLink), enter)
	if w.machine.State != flow.StateName || !w.keys.Use.Enabled() {
		t.Fatalf("state %v, Enter offered %v", w.machine.State, w.keys.Use.Enabled())
	}
	if w = press(w, enter); w.machine.State != flow.StateReview || w.machine.NameChosen {
		t.Fatalf("state %v, name chosen %v; want the name kept, unchanged", w.machine.State, w.machine.NameChosen)
	}
}

// Prose breaks at spaces; a word wider than the line is broken at its
// width, never cut (Bubble Tea's renderer cuts lines wider than the window).
func TestWrapBreaksLongWords(t *testing.T) {
	const path = "/tmp/explore2/deep/directory/for/the/credentials/of/this/device/long"
	got := wrapTo("The directory "+path+" is open to other users.", 30)
	for _, line := range strings.Split(got, "\n") {
		if ansi.StringWidth(line) > 30 {
			t.Errorf("a line of %d columns: %q", ansi.StringWidth(line), line)
		}
	}
	if !strings.Contains(strings.ReplaceAll(got, "\n", ""), path) {
		t.Errorf("the path is not all there:\n%s", got)
	}
	if got := wrapTo("a short sentence that wraps at spaces", 12); got != "a short\nsentence\nthat wraps\nat spaces" {
		t.Errorf("wrapTo = %q", got)
	}
}

// Asking for all the keys where they do not fit keeps the short help
// instead of hiding the screen (which left only Ctrl-C working).
func TestAllKeysThatDoNotFitKeepTheScreen(t *testing.T) {
	s, st := fresh()
	warn := strings.Repeat("The directory is open to other users; ", 7)
	st.snap = flow.Snapshot{Warnings: []string{warn, "The file was repaired."}}
	w := testWizard(s, st, goldenConfig, 60, 18)
	w = press(w, runes("?"))
	if v := w.View(); strings.Contains(v, "Make the window larger") || !strings.Contains(v, "enter continue") ||
		!strings.Contains(v, "? more keys") || !strings.Contains(v, "All the keys need a larger window") || w.help.ShowAll {
		t.Fatalf("after ?:\n%s", v)
	}
	// Shown where they fit, they give way when the window shrinks.
	m, _ := w.Update(tea.WindowSizeMsg{Width: 80, Height: 40})
	if w = press(m.(Model), runes("?")); !w.help.ShowAll {
		t.Fatal("? in a large window did not show all the keys")
	}
	m, _ = w.Update(tea.WindowSizeMsg{Width: 60, Height: 18})
	if w = m.(Model); w.help.ShowAll || strings.Contains(w.View(), "Make the window larger") {
		t.Fatalf("after shrinking, all keys still asked for:\n%s", w.View())
	}
	if w = press(w, enter); w.machine.State != flow.StateInvitation {
		t.Fatalf("Enter after ?: state %v", w.machine.State)
	}
}

// Without a server, a token alone is refused as it is pasted, not only
// after Enter.
func TestTokenAloneRefusedAtOnceWithoutAServer(t *testing.T) {
	s, st := fresh()
	w := press(testWizard(s, st, flow.Config{Hostname: "lab-1"}, 80, 24), enter, paste("Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"))
	if v := w.View(); !strings.Contains(v, "a token alone names no server") || strings.Contains(v, "Token read") || w.keys.Use.Enabled() {
		t.Fatalf("Enter offered %v:\n%s", w.keys.Use.Enabled(), v)
	}
	// Nor is it offered on the way there.
	s, st = fresh()
	w = testWizard(s, st, flow.Config{Hostname: "lab-1"}, 80, 24)
	if v := w.View(); strings.Contains(v, "type the token") {
		t.Errorf("welcome offers the token alone:\n%s", v)
	}
	if w = press(w, enter); strings.Contains(w.invitation.Placeholder, "token") {
		t.Errorf("placeholder %q", w.invitation.Placeholder)
	}
}

// The screen that asks whether to trust a server says when its name is
// written with letters that can imitate another name, and gives its ASCII
// form; --plain says so before the question.
func TestLookAlikeServerIsPointedOut(t *testing.T) {
	link := "https://idp.\u0430cme.example/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"
	s, st := fresh()
	w := press(testWizard(s, st, flow.Config{Hostname: "lab-1"}, 80, 24), enter, paste(link), enter)
	if v := w.View(); w.machine.State != flow.StateServer || !strings.Contains(v, "idp.xn--cme-5cd.example") {
		t.Fatalf("state %v:\n%s", w.machine.State, v)
	}
	var out strings.Builder
	s, st = fresh()
	d := flow.Driver{Service: s, Store: st, Now: time.Now}
	_, _ = RunPlain(context.Background(), PlainOptions{In: strings.NewReader("\n" + link + "\nn\n"), Out: &out, Driver: d, Config: flow.Config{Hostname: "lab-1"}})
	if !strings.Contains(out.String(), "Warning: This name is written with letters outside ASCII") || !strings.Contains(out.String(), "idp.xn--cme-5cd.example") {
		t.Errorf("--plain did not point it out:\n%s", out.String())
	}
}
