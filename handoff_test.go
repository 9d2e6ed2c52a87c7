package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"golang.org/x/crypto/chacha20poly1305"

	"enroll/api"
	"enroll/flow"
	"enroll/persist"
	"enroll/qr/handoff"
	"enroll/tui"
)

// The phone hand-off end to end, without a browser: the wizard starts the
// real hand-off server on loopback, a "phone" seals the invitation link as
// the page does and posts it, the operator confirms the code, and the
// device enrolls with exactly that invitation. (qr/handoff's browser test
// drives the same page in headless Chromium.)
func TestPhoneHandOffEnrolls(t *testing.T) {
	run := startEmulator(t)
	inv := newInvitation(t, run)
	hc, err := api.NewHTTPClient(api.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := persist.Open(persist.Options{Path: t.TempDir() + "/enroll/credentials.json"})
	phones := make(chan tui.Phone, 1)
	start := startPhone("127.0.0.1")
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.Ascii)
	w := tui.New(context.Background(), tui.Options{
		Driver:   flow.Driver{Service: api.New(api.Options{HTTP: hc}), Store: st},
		Config:   flow.Config{Server: run.URL, Hostname: "lab-1"},
		Renderer: r,
		Clock:    personClock(),
		StartPhone: func() (tui.Phone, error) {
			p, err := start()
			if err == nil {
				phones <- p
			}
			return p, err
		},
	})
	tm := teatest.NewTestModel(t, w, teatest.WithInitialTermSize(100, 40))
	wait := func(text string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
			teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	wait("step 1 of 4")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	wait("step 2 of 4")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlO})
	var phone tui.Phone
	select {
	case phone = <-phones:
	case <-time.After(15 * time.Second):
		t.Fatal("the hand-off page did not start")
	}
	wait("Waiting for your phone")
	code := sealAndPost(t, phone.URL(), inv.Link)
	wait(code)
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("y")})
	wait("step 3 of 4")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	wait("step 4 of 4")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("a")})
	wait("Enrolled")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	m := tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(tui.Model).Machine()
	if m.State != flow.StateDone || m.Invitation.Token != inv.Token {
		t.Fatalf("state %v, token is the phone's: %v", m.State, m.Invitation.Token == inv.Token)
	}
	if _, err := http.Get(strings.SplitN(phone.URL(), "#", 2)[0]); err == nil {
		t.Error("the hand-off page still answers after use")
	}
}

// sealAndPost does what the phone's page does and returns the code the
// page would show.
func sealAndPost(t *testing.T, pageURL, text string) string {
	t.Helper()
	u, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	key, err := base64.RawURLEncoding.DecodeString(u.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(u.Path, "/h/")
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		t.Fatal(err)
	}
	nonce := bytes.Repeat([]byte{7}, chacha20poly1305.NonceSize)
	ct := aead.Seal(nil, nonce, []byte(text), []byte("enroll-handoff-v1:"+id))
	body, _ := json.Marshal(map[string]any{"v": 1, "nonce": base64.RawURLEncoding.EncodeToString(nonce), "ct": base64.RawURLEncoding.EncodeToString(ct)})
	if resp, err := http.Get(u.Scheme + "://" + u.Host + u.Path); err != nil || resp.StatusCode != 200 {
		t.Fatalf("page: %v %v", resp, err) // the phone opens the page first
	}
	resp, err := http.Post(u.Scheme+"://"+u.Host+u.Path, "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %v %v", resp, err)
	}
	tag := ct[len(ct)-16:]
	n := (uint32(tag[0])<<24 | uint32(tag[1])<<16 | uint32(tag[2])<<8 | uint32(tag[3])) % 1000000
	s := []byte{byte('0' + n/100000%10), byte('0' + n/10000%10), byte('0' + n/1000%10), ' ', byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)}
	return string(s)
}

// The hand-off's end reaches the wizard in a person's words: without the
// package's prefix, and still the same error underneath.
func TestHandoffErrorsForAPerson(t *testing.T) {
	r := phoneResult(handoff.Result{Err: handoff.ErrTooManyFailures})
	if msg := r.Err.Error(); msg != "too many failed attempts; the hand-off was closed" || !errors.Is(r.Err, handoff.ErrTooManyFailures) {
		t.Errorf("%q", msg)
	}
	if _, err := startPhone("not an address")(); err == nil || strings.HasPrefix(err.Error(), "handoff:") {
		t.Errorf("start: %v", err)
	}
}
