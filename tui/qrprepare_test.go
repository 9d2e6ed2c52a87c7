package tui

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Encoding a code takes about a millisecond, a frame's whole budget, so no
// View() encodes: the commands that bring a code on screen encode it into
// the cache, and until then the screen says the code is being prepared.
// (settle and phoneWizard run those commands, so the goldens show codes.)

// runAll runs cmd and the commands of its batches, returning the messages.
func runAll(cmd tea.Cmd) []tea.Msg {
	var msgs []tea.Msg
	for queue := []tea.Cmd{cmd}; len(queue) > 0; queue = queue[1:] {
		if queue[0] == nil {
			continue
		}
		switch msg := queue[0]().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			msgs = append(msgs, msg)
		}
	}
	return msgs
}

// hasCode reports a QR code on screen: ten lines or more that set the
// code's colours at their start and reset them at their end.
func hasCode(v string) bool {
	n := 0
	for _, line := range strings.Split(v, "\n") {
		if strings.HasPrefix(line, "\x1b[") && strings.Contains(line, "\x1b[0m") {
			n++
		}
	}
	return n >= 10
}

// The start command encodes the page's URL: the screen's first frame only
// draws the code.
func TestPhoneStartEncodesTheURL(t *testing.T) {
	p := newFakePhone()
	w := testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24)
	w.opts.StartPhone = func() (Phone, error) { return p, nil }
	w.opts.Now = func() time.Time { return phoneNow }
	m, start := press(w, enter).Update(tea.KeyMsg{Type: tea.KeyCtrlO})
	w = m.(Model)
	if w.qrCache.Ready(p.url) {
		t.Fatal("encoded before the page started")
	}
	msg := start()
	if !w.qrCache.Ready(p.url) {
		t.Fatal("the start command did not encode the URL")
	}
	m, _ = w.Update(msg)
	if v := m.(Model).View(); strings.Contains(v, "Preparing the code") || !hasCode(v) {
		t.Fatalf("first frame of the hand-off screen:\n%s", v)
	}
}

// A hand-off whose URL is not encoded yet (its start message came from
// elsewhere than the start command) shows the address and says the code is
// coming, and the message's commands encode it; no frame encodes.
func TestPhoneCodeNotReadyYet(t *testing.T) {
	p := newFakePhone()
	p.result <- PhoneResult{Err: errors.New("ended")} // so the wait command returns at once
	w := testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24)
	w.opts.StartPhone = func() (Phone, error) { return p, nil }
	w.opts.Now = func() time.Time { return p.expires.Add(-30 * time.Second) } // no tick: within the last minute
	m, _ := press(w, enter).Update(tea.KeyMsg{Type: tea.KeyCtrlO})
	m, cmd := m.Update(phoneStartedMsg{phone: p})
	w = m.(Model)
	v := w.View()
	if !strings.Contains(v, "Preparing the code…") || hasCode(v) || shownAddress(v, p.url) != p.url {
		t.Fatalf("before the code is encoded:\n%s", v)
	}
	if w.qrCache.Ready(p.url) {
		t.Fatal("View() encoded the code")
	}
	ready := false
	for _, msg := range runAll(cmd) {
		if _, ok := msg.(qrReadyMsg); ok {
			ready = true
			m, _ = w.Update(msg)
			w = m.(Model)
		}
	}
	if v := w.View(); !ready || !hasCode(v) {
		t.Fatalf("after the prepare command (ran %v):\n%s", ready, v)
	}
}

// The done screen's id as a QR code: the key that shows it returns the
// command that encodes it; the frame before says the code is coming.
func TestDoneIDPrepared(t *testing.T) {
	w := testWizard(&memService{answer: goldenClient}, &memStore{}, goldenConfig, 80, 24)
	w = press(w, enter, paste(goldenLink), enter, enter, runes("a"))
	m, cmd := w.Update(runes("i"))
	w = m.(Model)
	if v := w.View(); !strings.Contains(v, "Preparing the code…") || hasCode(v) || !strings.Contains(v, goldenClient.ID) {
		t.Fatalf("the frame before the id is encoded:\n%s", v)
	}
	if w.qrCache.Ready(goldenClient.ID) {
		t.Fatal("View() encoded the id")
	}
	w = settle(w, cmd)
	if v := w.View(); !hasCode(v) {
		t.Fatalf("after the prepare command:\n%s", v)
	}
	// Back and again: encoded already, nothing to prepare.
	m, _ = w.Update(runes("i"))
	m, cmd = m.Update(runes("i"))
	w = m.(Model)
	for _, msg := range runAll(cmd) {
		if _, ok := msg.(qrReadyMsg); ok {
			t.Fatal("the id was prepared again")
		}
	}
	// The very screen TestDoneIDAsQR pins.
	want, err := os.ReadFile("testdata/TestDoneIDAsQR.golden")
	if err != nil {
		t.Fatal(err)
	}
	if !w.showingID || w.View() != string(want) {
		t.Fatalf("showing %v, view:\n%s", w.showingID, w.View())
	}
}
