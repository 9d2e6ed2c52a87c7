package tui

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"enroll/api"
	"enroll/api/emulator"
	"enroll/api/emulator/emulatortest"
	"enroll/flow"
	"enroll/persist"
)

// Full runs of the real Bubble Tea program against the emulator over
// loopback, with the real api client and store in a temporary directory.
// Waiting for a screen is bounded by a generous deadline that only guards
// against a hang; nothing here asserts how long anything takes.

type rig struct {
	emu   *emulator.Running
	store *persist.Store
	drv   flow.Driver
}

func newRig(t *testing.T) *rig {
	t.Helper()
	run := emulatortest.Start(t, emulator.Options{})
	hc, err := api.NewHTTPClient(api.HTTPOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st := persist.Open(persist.Options{Path: filepath.Join(t.TempDir(), "enroll", "credentials.json")})
	return &rig{emu: run, store: st, drv: flow.Driver{Service: api.New(api.Options{HTTP: hc}), Store: st}}
}

func (r *rig) invite(t *testing.T) emulator.Invitation {
	t.Helper()
	inv, err := r.emu.Emulator.CreateInvitation(emulator.InvitationSpec{Groups: []string{emulator.GroupKiosks}})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func (r *rig) start(t *testing.T, cfg flow.Config) *teatest.TestModel {
	t.Helper()
	w := New(context.Background(), Options{Driver: r.drv, Config: cfg, Renderer: asciiRenderer(), Clock: personPace()})
	return teatest.NewTestModel(t, w, teatest.WithInitialTermSize(80, 24))
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func finish(t *testing.T, tm *teatest.TestModel) flow.Machine {
	t.Helper()
	tm.Send(runes("q"))
	return tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(Model).Machine()
}

// enrollTo walks the happy path up to the review screen.
func enrollTo(t *testing.T, tm *teatest.TestModel, link string, confirmServer bool) {
	t.Helper()
	enrollFrom(t, tm, "step 1 of 4", link, confirmServer)
}

// enrollFrom is enrollTo, waiting first for a welcome screen showing want.
// (Each wait consumes the output it read: a screen is waited for once.)
func enrollFrom(t *testing.T, tm *teatest.TestModel, want, link string, confirmServer bool) {
	t.Helper()
	waitFor(t, tm, want)
	tm.Send(enter)
	waitFor(t, tm, "step 2 of 4")
	tm.Send(paste(link))
	tm.Send(enter)
	if confirmServer {
		waitFor(t, tm, "use this server")
		tm.Send(runes("y"))
	}
	waitFor(t, tm, "step 3 of 4")
	tm.Send(enter)
	waitFor(t, tm, "step 4 of 4")
}

func TestRunNewDevice(t *testing.T) {
	r := newRig(t)
	inv := r.invite(t)
	tm := r.start(t, flow.Config{Hostname: "lab-1"})
	enrollTo(t, tm, inv.Link, true)
	tm.Send(runes("a"))
	waitFor(t, tm, "Enrolled: this device is now a device client.")
	m := finish(t, tm)
	if m.State != flow.StateDone || m.Result == nil {
		t.Fatalf("final state %v (%+v)", m.State, m.Failure)
	}
	clients := r.emu.Emulator.Clients()
	if len(clients) != 1 || clients[0].ClientSecret != m.Result.ClientSecret || clients[0].Name != "lab-1" {
		t.Fatalf("emulator clients %+v, stored %+v", clients, m.Result)
	}
}

func TestRunExistingDevice(t *testing.T) {
	r := newRig(t)
	first, second := r.invite(t), r.invite(t)
	if _, err := flow.Run(context.Background(), r.drv, flow.Config{}, flow.Script{Invitation: first.Link, TrustLinkServer: true}, nil); err != nil {
		t.Fatal(err)
	}
	tm := r.start(t, flow.Config{Hostname: "lab-1"})
	enrollFrom(t, tm, "a device client already", second.Link, false) // the stored server is used, nothing to confirm
	tm.Send(runes("a"))
	waitFor(t, tm, "already a device client; the invitation added it")
	m := finish(t, tm)
	if m.State != flow.StateDone || m.Existing == nil {
		t.Fatalf("final state %v", m.State)
	}
	if n := len(r.emu.Emulator.Clients()); n != 1 || r.emu.Emulator.Calls(emulator.OpToken) == 0 {
		t.Fatalf("clients %d, token calls %d", n, r.emu.Emulator.Calls(emulator.OpToken))
	}
}

func TestRunDecline(t *testing.T) {
	r := newRig(t)
	inv := r.invite(t)
	tm := r.start(t, flow.Config{Hostname: "lab-1"})
	enrollTo(t, tm, inv.Link, true)
	tm.Send(runes("d"))
	waitFor(t, tm, "Decline this invitation?")
	tm.Send(runes("y"))
	waitFor(t, tm, "Declined the invitation.")
	m := finish(t, tm)
	st, _ := r.emu.Emulator.Invitation(inv.Token)
	if m.State != flow.StateDeclined || st.State != emulator.StateDeclined {
		t.Fatalf("wizard %v, emulator %v", m.State, st.State)
	}
}

func TestRunInvalidThenCorrected(t *testing.T) {
	r := newRig(t)
	inv := r.invite(t)
	tm := r.start(t, flow.Config{Server: r.emu.URL, Hostname: "lab-1"})
	waitFor(t, tm, "step 1 of 4")
	tm.Send(enter)
	waitFor(t, tm, "step 2 of 4")
	tm.Send(runes("not-a-real-token"))
	tm.Send(enter)
	waitFor(t, tm, "step 3 of 4")
	tm.Send(enter)
	waitFor(t, tm, "step 4 of 4") // the service is asked only at accept
	tm.Send(runes("a"))
	waitFor(t, tm, "does not know this invitation")
	tm.Send(esc) // back to the invitation
	waitFor(t, tm, "step 2 of 4")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU}) // clear the field
	tm.Send(paste(inv.Link))
	tm.Send(enter)
	waitFor(t, tm, "step 3 of 4")
	tm.Send(enter)
	tm.Send(runes("a"))
	waitFor(t, tm, "Enrolled")
	if m := finish(t, tm); m.State != flow.StateDone {
		t.Fatalf("final state %v", m.State)
	}
}

func TestRunServerDownThenRetry(t *testing.T) {
	r := newRig(t)
	inv := r.invite(t)
	tm := r.start(t, flow.Config{Server: r.emu.URL, Hostname: "lab-1"})
	enrollTo(t, tm, inv.Link, false)
	r.emu.Emulator.SetDown(true)
	tm.Send(runes("a"))
	waitFor(t, tm, "The service had a problem.")
	r.emu.Emulator.SetDown(false)
	tm.Send(runes("r"))
	waitFor(t, tm, "Enrolled")
	if m := finish(t, tm); m.State != flow.StateDone {
		t.Fatalf("final state %v", m.State)
	}
}

// The invitation field takes a paste, a scanner's burst, and refuses text
// carrying escape sequences, without ever drawing them.
func TestInvitationInput(t *testing.T) {
	link := "https://idp.example.com/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"
	cfg := flow.Config{Server: "https://idp.example.com", Hostname: "lab-1"}
	tests := []struct {
		name   string
		keys   []tea.KeyMsg
		state  flow.State
		notice string
	}{
		{"bracketed paste then enter", []tea.KeyMsg{paste(link), enter}, flow.StateName, ""},
		{"scanner burst: runes and enter in one go", []tea.KeyMsg{runes(link), enter}, flow.StateName, ""},
		{"scanner burst ending in a line break", []tea.KeyMsg{runes(link + "\r\n"), enter}, flow.StateName, ""},
		{"escape sequence inside", []tea.KeyMsg{paste("https://idp.example.com/invitation?token=Zm9v\x1b[31mYmFy"), enter}, flow.StateInvitation, `invisible character \x1b`},
		{"C1 control inside", []tea.KeyMsg{runes("abc\u009bdefghijk")}, flow.StateInvitation, `\x9b`},
		{"bidi override inside", []tea.KeyMsg{paste(link + "\u202e")}, flow.StateInvitation, `\u202e`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := press(testWizard(&memService{answer: goldenClient}, &memStore{}, cfg, 80, 24), enter)
			w = press(w, tt.keys...)
			if w.machine.State != tt.state {
				t.Fatalf("state %v, want %v (input error %v)", w.machine.State, tt.state, w.machine.InputErr)
			}
			view := w.View()
			if tt.notice != "" && !strings.Contains(view, tt.notice) {
				t.Errorf("screen lacks %q:\n%s", tt.notice, view)
			}
			for _, bad := range []string{"\x1b", "\u009b", "\u202e"} {
				if strings.Contains(view, bad) {
					t.Errorf("screen draws %q", bad)
				}
			}
		})
	}
}

// The help line offers exactly the keys that work in each state.
func TestHelpFollowsState(t *testing.T) {
	cfg := flow.Config{Server: "https://idp.example.com", Hostname: "lab-1"}
	w := testWizard(&memService{answer: goldenClient}, &memStore{}, cfg, 80, 24)
	if !w.keys.Continue.Enabled() || w.keys.Accept.Enabled() || w.keys.Back.Enabled() {
		t.Error("welcome: wrong keys")
	}
	w = press(w, enter)
	if w.keys.Quit.Enabled() || w.keys.Help.Enabled() || !w.keys.Use.Enabled() {
		t.Error("invitation: letters must be text, not keys")
	}
	w = press(w, runes("q")) // typed into the field, does not quit
	if w.machine.State != flow.StateInvitation || w.invitation.Value() != "q" {
		t.Fatalf("q at the invitation: state %v value %q", w.machine.State, w.invitation.Value())
	}
	w = press(w, tea.KeyMsg{Type: tea.KeyCtrlU}, paste("https://idp.example.com/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"), enter, enter)
	if !w.keys.Accept.Enabled() || !w.keys.Decline.Enabled() || w.keys.Retry.Enabled() {
		t.Error("review: wrong keys")
	}
	w = press(w, runes("r")) // retry is not a key here: nothing happens
	if w.machine.State != flow.StateReview {
		t.Fatalf("r at review moved to %v", w.machine.State)
	}
}

// In kiosk mode the secret cannot be revealed, a final screen goes back to
// the start, an idle half-done enrollment too — but never a screen that
// holds the only copy of something. The timers' messages are sent by hand.
func TestKiosk(t *testing.T) {
	cfg := flow.Config{Server: "https://idp.example.com", Hostname: "lab-1"}
	kiosk := func(st *memStore) Model {
		w := testWizard(&memService{answer: goldenClient}, st, cfg, 80, 24)
		w.opts.Kiosk, w.opts.KioskTimeout = true, time.Millisecond // its timers' messages are dropped by settle
		w.keys.sync(&w)
		return w
	}
	link := "https://idp.example.com/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"

	w := press(kiosk(&memStore{}), enter, paste(link), enter, enter, runes("a"))
	if w.machine.State != flow.StateDone || w.keys.Reveal.Enabled() {
		t.Fatalf("state %v, reveal enabled %v", w.machine.State, w.keys.Reveal.Enabled())
	}
	w = press(w, runes("s"))
	if w.revealed || strings.Contains(w.View(), goldenClient.ClientSecret) {
		t.Fatal("the secret was revealed in kiosk mode")
	}
	m, cmd := w.Update(kioskResetMsg{gen: w.gen})
	w = settle(m.(Model), cmd)
	if w.machine.State != flow.StateWelcome || w.machine.Result != nil {
		t.Fatalf("after the final screen's timeout: state %v", w.machine.State)
	}

	// Idle on the review screen: back to the start.
	w = press(kiosk(&memStore{}), enter, paste(link), enter, enter)
	m, cmd = w.Update(kioskIdleMsg{gen: w.gen, idle: w.idle})
	w = settle(m.(Model), cmd)
	if w.machine.State != flow.StateWelcome {
		t.Fatalf("idle review not cleared: %v", w.machine.State)
	}

	// A stale idle timer (a key was pressed since) does nothing.
	w = press(kiosk(&memStore{}), enter)
	stale := kioskIdleMsg{gen: w.gen, idle: w.idle}
	w = press(w, runes("x"))
	m, _ = w.Update(stale)
	if m.(Model).machine.State != flow.StateInvitation {
		t.Fatal("a stale idle timer restarted the wizard")
	}

	// Credentials shown once stay until someone acts.
	st := &memStore{saveErr: errors.New("disk full"), jourErr: errors.New("disk full")}
	w = press(kiosk(st), enter, paste(link), enter, enter, runes("a"))
	if w.machine.Failure == nil || w.machine.Failure.Reveal == nil {
		t.Fatalf("failure %+v", w.machine.Failure)
	}
	for _, msg := range []tea.Msg{kioskResetMsg{gen: w.gen}, kioskIdleMsg{gen: w.gen, idle: w.idle}} {
		m, _ = w.Update(msg)
		if m.(Model).machine.State != flow.StateFailed {
			t.Fatalf("%T cleared the only copy of the credentials", msg)
		}
	}
}

// Letters that arrive in one read outside a field are text, never keys:
// "sq" on the last screen neither shows the secret nor quits.
func TestTypeAhead(t *testing.T) {
	cfg := flow.Config{Server: "https://idp.example.com", Hostname: "lab-1"}
	w := testWizard(&memService{answer: goldenClient}, &memStore{}, cfg, 80, 24)
	w = press(w, enter, paste("https://idp.example.com/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"), enter, enter)
	w = press(w, runes("a"))
	if w.machine.State != flow.StateDone {
		t.Fatalf("state %v", w.machine.State)
	}
	m, _ := w.Update(runes("sq"))
	w = m.(Model)
	if w.revealed || w.showing || w.quitting {
		t.Fatalf("revealed %v quitting %v", w.revealed, w.quitting)
	}
}
