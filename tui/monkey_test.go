package tui

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// The monkey: seeded random sessions of an impatient person, a flaky
// scanner and a resizing terminal against the wizard, on the test's
// timeline (keys, pastes with and without bracketed paste, scanner bursts
// fast and slow, escape sequences, Alt and Ctrl keys, resizes). After
// every event: no panic; no accept, decline, trust or reveal without its
// key pressed alone; no escape sequence from the input on screen. A
// bounded number of sessions runs with go test; MONKEY_RUNS=N runs more
// and MONKEY_SEED=S replays one (bench/monkey runs a long campaign).

// notColour finds an escape sequence other than an SGR colour.
var notColour = regexp.MustCompile(`\x1b(?:[^\[]|\[[0-9;]*(?:[^0-9;m]|$))`)

type monkeyStats struct {
	runs, events, accepted, declined, trusted, revealed int
	screens                                             map[flow.State]int
}

func TestMonkey(t *testing.T) {
	runs, first := 200, uint64(1)
	if v, err := strconv.Atoi(os.Getenv("MONKEY_RUNS")); err == nil {
		runs = v
	}
	if v, err := strconv.ParseUint(os.Getenv("MONKEY_SEED"), 10, 64); err == nil {
		first, runs = v, 1
	}
	st := monkeyStats{screens: map[flow.State]int{}}
	for seed := first; seed < first+uint64(runs); seed++ {
		if !monkeySession(t, seed, &st) {
			t.Fatalf("replay with MONKEY_SEED=%d go test ./tui -run TestMonkey -v", seed)
		}
	}
	t.Logf("%d sessions, %d events; screens reached %v; accepted %d, declined %d, servers trusted %d, secrets shown %d; failures: none",
		st.runs, st.events, st.screens, st.accepted, st.declined, st.trusted, st.revealed)
}

// lone counts the command keys pressed alone so far, by letter.
type lone map[string]int

// monkeySession runs one session and reports whether every check held.
func monkeySession(t *testing.T, seed uint64, st *monkeyStats) (ok bool) {
	rng := rand.New(rand.NewPCG(seed, 14))
	cfg := goldenConfig
	if rng.IntN(2) == 0 {
		cfg = flow.Config{Hostname: "lab-1"} // the server comes from the link: trust is asked
	}
	svc := &countingService{memService: memService{answer: goldenClient}}
	store := &memStore{}
	tl := newTimeline(svc, store, cfg)
	var log []string
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("seed %d: panic %v after:\n%s", seed, r, strings.Join(log, "\n"))
			ok = false
		}
	}()
	alone := lone{}
	// The monkey's own account of which letters came alone: quiet since the
	// last key before, and none within the window after. Resizes are not
	// input.
	var now, lastKey time.Time
	var pendingLetter string // a letter sent alone, waiting for the quiet after it
	var pendingAt time.Time
	settlePending := func() {
		if pendingLetter != "" && now.Sub(pendingAt) >= quietWindow {
			alone[pendingLetter]++
			pendingLetter = ""
		}
	}
	send := func(gap time.Duration, msg tea.Msg, desc string) {
		log = append(log, fmt.Sprintf("+%v %s", gap, desc))
		now = now.Add(gap)
		settlePending() // the wizard acts on it while the clock gets here
		if k, isKey := msg.(tea.KeyMsg); isKey {
			pendingLetter = ""
			if (lastKey.IsZero() || now.Sub(lastKey) >= quietWindow) && k.Type == tea.KeyRunes && len(k.Runes) == 1 && !k.Paste && !k.Alt {
				// Counted for the screen it was pressed on: an a typed on
				// another screen must not excuse an accept.
				pendingLetter, pendingAt = string(k.Runes)+"@"+screenOf(tl.w), now
			}
			lastKey = now
		}
		tl.wait(gap)
		m, cmd := tl.w.Update(msg)
		tl.w = settle(m.(Model), cmd)
		st.events++
	}
	now = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for n := 8 + rng.IntN(40); n > 0 && !tl.w.quitting; n-- {
		if rng.IntN(3) == 0 {
			purposeful(rng, tl.w, send) // someone who wants to get somewhere
		} else {
			monkeyEvent(rng, send)
		}
		if !monkeyChecks(t, seed, tl.w, svc, alone, cfg, log) {
			return false
		}
	}
	tl.wait(2 * time.Second)
	now = now.Add(2 * time.Second)
	settlePending()
	if !monkeyChecks(t, seed, tl.w, svc, alone, cfg, log) {
		return false
	}
	st.runs++
	st.screens[tl.w.machine.State]++
	st.accepted += svc.accepts
	st.declined += svc.declines
	if cfg.Server == "" && tl.w.machine.Server != "" {
		st.trusted++
	}
	if tl.w.revealed {
		st.revealed++
	}
	if s := store.saved; s != nil && s.ClientSecret != goldenClient.ClientSecret {
		t.Errorf("seed %d: stored %+v", seed, s)
		return false
	}
	return true
}

// monkeyChecks are the properties that hold after every event. A command
// acts only after the quiet that follows its key, and the monkey counts a
// letter as alone only once that quiet has passed: so the count is never
// behind what the wizard may have done.
func monkeyChecks(t *testing.T, seed uint64, w Model, svc *countingService, alone lone, cfg flow.Config, log []string) bool {
	t.Helper()
	fail := func(format string, args ...any) bool {
		t.Errorf("seed %d: %s; events:\n%s\nscreen:\n%s", seed, fmt.Sprintf(format, args...), strings.Join(log, "\n"), w.View())
		return false
	}
	if svc.accepts > alone["a@review"]+alone["r@failed"] {
		return fail("%d accept calls; pressed alone: a on review %d, r on a failure %d", svc.accepts, alone["a@review"], alone["r@failed"])
	}
	if svc.declines > min(alone["d@review"], alone["y@decline?"])+alone["r@failed"] {
		return fail("%d decline calls; pressed alone: d on review %d, y when asked %d, r %d", svc.declines, alone["d@review"], alone["y@decline?"], alone["r@failed"])
	}
	if cfg.Server == "" && w.machine.Server != "" && alone["y@server"] == 0 {
		return fail("the link's server was trusted without y pressed alone on its question")
	}
	if w.revealed && alone["s@done"] == 0 {
		return fail("the secret was shown without s pressed alone on the last screen")
	}
	// The wizard's own escapes are colours (a QR code's, even with the
	// plain renderer); anything else came from the input.
	if v := w.View(); notColour.MatchString(v) || strings.ContainsAny(v, "\x07\u009b\u202e\u2066\u200b") {
		return fail("the screen holds a terminal control from the input: %q", v)
	}
	return true
}

// monkeyEvent sends one random event: keys at a person's pace or in a
// hurry, a scan, a paste, a resize.
func monkeyEvent(rng *rand.Rand, send func(time.Duration, tea.Msg, string)) {
	gap := func() time.Duration {
		switch rng.IntN(4) {
		case 0:
			return time.Duration(rng.IntN(10)) * time.Millisecond // type-ahead, a burst
		case 1:
			return time.Duration(20+rng.IntN(280)) * time.Millisecond // typing
		default:
			return time.Duration(450+rng.IntN(2500)) * time.Millisecond // a person deciding
		}
	}
	keys := []tea.KeyMsg{
		enter, esc, {Type: tea.KeyTab}, {Type: tea.KeyBackspace}, {Type: tea.KeyLeft}, {Type: tea.KeyRight},
		{Type: tea.KeyHome}, {Type: tea.KeyEnd}, {Type: tea.KeyDelete}, {Type: tea.KeySpace},
		{Type: tea.KeyCtrlU}, {Type: tea.KeyCtrlW}, {Type: tea.KeyCtrlK}, {Type: tea.KeyCtrlA}, {Type: tea.KeyCtrlE},
		{Type: tea.KeyCtrlJ}, {Type: tea.KeyDelete, Alt: true}, {Type: tea.KeyBackspace, Alt: true},
		{Type: tea.KeyRunes, Runes: []rune("d"), Alt: true}, {Type: tea.KeyRunes, Runes: []rune("b"), Alt: true},
		{Type: tea.KeyRunes, Runes: []rune("f"), Alt: true}, {Type: tea.KeyRunes, Runes: []rune("]"), Alt: true},
	}
	texts := []string{goldenLink, scannedLink, "see a link", "thanks s", "link y s", "yes", "Lab 4 ✓",
		"https://idp.example.com/invitation?token=ab\x1b]0;MONKEY\x07cd", "\u202etxt.exe", "a\u200bb", strings.Repeat("x", 10_000)}
	letters := "adysrnqi?xylk "
	switch rng.IntN(9) {
	case 0, 1, 2: // a letter, often a command letter
		l := string(letters[rng.IntN(len(letters))])
		send(gap(), runes(l), "key "+strconv.Quote(l))
	case 3: // another key
		k := keys[rng.IntN(len(keys))]
		send(gap(), k, "key "+k.String())
	case 4: // a bracketed paste
		s := texts[rng.IntN(len(texts))]
		send(gap(), paste(s), fmt.Sprintf("paste %.40q", s))
	case 5: // a fast scan, or a paste without bracketed paste: one read
		s := texts[rng.IntN(len(texts))]
		send(gap(), runes(s), fmt.Sprintf("burst %.40q", s))
	case 6: // a scanner one character a read, fast or slow
		s := texts[rng.IntN(len(texts)-1)] // not the 10 KB one: a character at a time it is slow to walk
		lo, hi := 2, 10
		if rng.IntN(2) == 0 {
			lo, hi = 20, 80
		}
		first := true
		for _, r := range s {
			d := time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond
			if first {
				d, first = gap(), false
			}
			send(d, runes(string(r)), fmt.Sprintf("scan %q", r))
		}
		if rng.IntN(2) == 0 {
			send(time.Duration(lo)*time.Millisecond, enter, "scan enter")
		}
	case 7: // a resize
		w, h := 20+rng.IntN(181), 5+rng.IntN(56)
		send(gap(), tea.WindowSizeMsg{Width: w, Height: h}, fmt.Sprintf("resize %dx%d", w, h))
	case 8: // back to a usable size
		send(gap(), tea.WindowSizeMsg{Width: 80, Height: 24}, "resize 80x24")
	}
}

// purposeful does what the screen asks for, as a person would, with a
// pause before (a command key needs one) and sometimes a hurried key
// after.
func purposeful(rng *rand.Rand, w Model, send func(time.Duration, tea.Msg, string)) {
	pause := time.Duration(450+rng.IntN(1500)) * time.Millisecond
	var k tea.Msg = enter
	switch w.machine.State {
	case flow.StateInvitation:
		if w.invitation.Value() == "" {
			k = paste(goldenLink)
		}
	case flow.StateServer:
		k = runes("y")
	case flow.StateReview:
		k = runes([]string{"a", "a", "d", "y", "n"}[rng.IntN(5)])
	case flow.StateDone:
		k = runes([]string{"s", "i", "enter"}[rng.IntN(3)])
		if k.(tea.KeyMsg).String() == "enter" {
			k = enter
		}
	case flow.StateFailed:
		k = runes("r")
	}
	send(pause, k, fmt.Sprintf("person %v", k))
}

// screenOf names the screen a key lands on, as the monkey's accounting
// needs it.
func screenOf(w Model) string {
	switch st := w.machine.State; {
	case w.phone.stage != phoneOff:
		return "phone"
	case st == flow.StateReview && w.confirmDecline:
		return "decline?"
	default:
		return st.String()
	}
}
