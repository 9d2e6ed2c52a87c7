package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api/emulator"
)

// The monkey in a real terminal: the real binary's wizard in a
// pseudo-terminal against the emulator, with no server configured (so the
// link's server must be trusted), driven by a seeded sequence of an
// impatient person's keys, hurried typing, scans fast and slow, pastes
// with and without bracketed paste, escape sequences and resizes, on real
// time. The person's purposeful keys wait for their screen. Asserted at
// the end of each session: the exit code; no accept, decline, trust or
// reveal without its key pressed alone; the credentials file complete and
// 0600 when present; no escape sequence from the input echoed. tui's
// TestMonkey runs the same on the model, thousands of times; bench/monkey
// runs longer campaigns of both (MONKEY_PTY_RUNS=N, MONKEY_PTY_SEED=S).

// Gaps around a letter are either clearly together (≤ 120 ms) or clearly
// apart (≥ 700 ms) from the wizard's 400 ms quiet window, so that the
// scheduling of a loaded machine cannot move a letter across it.
const (
	hurried    = 120 * time.Millisecond
	deliberate = 700 * time.Millisecond
)

func TestMonkeyInPTY(t *testing.T) {
	t.Parallel() // it waits on real time, as the other suites that run beside it do
	runs, first := 4, uint64(1)
	if v, err := strconv.Atoi(os.Getenv("MONKEY_PTY_RUNS")); err == nil {
		runs = v
	}
	if v, err := strconv.ParseUint(os.Getenv("MONKEY_PTY_SEED"), 10, 64); err == nil {
		first, runs = v, 1
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for seed := first; seed < first+uint64(runs); seed++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
				got := ptyMonkey(t, seed)
				mu.Lock()
				defer mu.Unlock()
				for k, v := range got {
					counts[k] += v
				}
			})
		}()
	}
	wg.Wait()
	t.Logf("%d sessions: %v", runs, counts)
}

// ptyKeys is one session's account of what it sent.
type ptyKeys struct {
	p       *ptyRun
	rng     *rand.Rand
	last    time.Time
	pending string // a letter sent apart from the rest, its quiet after still running
	alone   map[string]int
	log     []string
}

// send writes keys after gap, as one read; one letter sent apart from
// the keys around it (deliberate gaps both sides) is counted alone, for
// the screen the person saw (on), "" when not pressed for one.
func (k *ptyKeys) send(gap time.Duration, keys, desc string) { k.sendOn(gap, keys, desc, "") }

func (k *ptyKeys) sendOn(gap time.Duration, keys, desc, on string) {
	time.Sleep(gap)
	now := time.Now()
	if k.pending != "" && now.Sub(k.last) >= deliberate {
		k.alone[k.pending]++
	}
	k.pending = ""
	if now.Sub(k.last) >= deliberate && len(keys) == 1 && keys[0] >= 'a' && keys[0] <= 'z' {
		k.pending = keys + "@" + on
	}
	k.p.send(keys)
	k.last = time.Now()
	if desc != "" {
		k.log = append(k.log, fmt.Sprintf("+%v %s", gap.Round(time.Millisecond), desc))
	}
}

// screen is the text of the latest frames, for choosing a purposeful key.
func (k *ptyKeys) screen() string { s := k.p.text(); return s[max(0, len(s)-1500):] }

func ptyMonkey(t *testing.T, seed uint64) map[string]int {
	x := newFx(t)
	rng := rand.New(rand.NewPCG(seed, 2026))
	inv := x.svc.invite(emulator.InvitationSpec{})
	p := startPTY(t, []string{"ENROLL_CREDENTIALS=" + x.creds}, "--timeout", "10s")
	k := &ptyKeys{p: p, rng: rng, alone: map[string]int{}, last: time.Now()}
	p.waitFor("step 1 of 4")
	evil := "\x1b]0;MONKEY\x07"
	texts := []string{inv.Link, "see a link", "thanks s", "link y s", "https://idp.example.com/x?token=ab" + evil + "cd", "\u202etxt", "yes"}
	for n := 10 + rng.IntN(12); n > 0; n-- {
		switch rng.IntN(10) {
		case 0, 1, 2, 8, 9: // what the screen asks for, after a pause
			k.purposeful(inv.Link)
		case 3: // hurried letters
			for i := 1 + rng.IntN(4); i > 0; i-- {
				l := string("adysrnqxi "[rng.IntN(10)])
				k.send(time.Duration(rng.Int64N(int64(hurried))), l, "hurried "+strconv.Quote(l))
			}
		case 4: // a bracketed paste
			s := texts[rng.IntN(len(texts))]
			k.send(deliberate, "\x1b[200~"+s+"\x1b[201~", fmt.Sprintf("paste %.30q", s))
		case 5: // a scanner, a character a read, fast or slow, ending in CR
			s := texts[rng.IntN(len(texts))]
			gap := time.Duration(2+rng.IntN(8)) * time.Millisecond
			if rng.IntN(2) == 0 {
				gap = time.Duration(20+rng.IntN(60)) * time.Millisecond
			}
			k.send(deliberate, s[:1], fmt.Sprintf("scan %.30q", s))
			for i := 1; i < len(s); i++ {
				k.send(gap, s[i:i+1], "")
			}
			k.send(gap, "\r", "scan CR")
		case 6: // text that arrives in one read, without bracketed paste
			s := texts[rng.IntN(len(texts))]
			k.send(time.Duration(rng.Int64N(int64(hurried))), s, fmt.Sprintf("burst %.30q", s))
		case 7: // a resize
			w, h := 20+rng.IntN(140), 5+rng.IntN(50)
			if rng.IntN(2) == 0 {
				w, h = 80, 24
			}
			if err := p.resize(w, h); err != nil {
				t.Fatal(err)
			}
			k.log = append(k.log, fmt.Sprintf("resize %dx%d", w, h))
		}
	}
	_ = p.resize(80, 24)
	time.Sleep(deliberate) // a command's quiet ends
	if k.pending != "" {
		k.alone[k.pending]++
	}
	k.send(deliberate, "\x03", "ctrl+c")
	code := p.wait()
	fail := func(format string, args ...any) {
		t.Errorf("seed %d: %s\nevents:\n%s\nscreen:\n%s", seed, fmt.Sprintf(format, args...), strings.Join(k.log, "\n"), p.tail())
	}
	accepts, declines := x.svc.emu.Calls(emulator.OpAccept), x.svc.emu.Calls(emulator.OpDecline)
	switch {
	case code != 0 && code != 3 && code != 130:
		fail("exit %d", code)
	case (code == 0 || code == 3) && accepts+declines == 0:
		// 0: finished after enrolling or declining; 3: the service refused
		// an invitation the monkey's keys had altered. Both need a call.
		fail("exit %d without an accept or decline call", code)
	case accepts > k.alone["a@review"]:
		fail("%d accept calls; a pressed alone on review %d", accepts, k.alone["a@review"])
	case declines > min(k.alone["d@review"], k.alone["y@decline?"]):
		fail("%d decline calls; pressed alone: d on review %d, y when asked %d", declines, k.alone["d@review"], k.alone["y@decline?"])
	case accepts+declines > 0 && k.alone["y@server"] == 0:
		fail("the link's server was used without y pressed alone on its question")
	case strings.Contains(p.raw(), evil):
		fail("an escape sequence from the input was echoed")
	}
	for _, c := range x.svc.emu.Clients() {
		if strings.Contains(p.raw(), c.ClientSecret) && k.alone["s@done"] == 0 {
			fail("the secret was shown without s pressed alone")
		}
	}
	if b, err := os.ReadFile(x.creds); err == nil {
		var f struct{ Version int }
		if json.Unmarshal(b, &f) != nil || f.Version != 1 {
			fail("credentials file: %s", b)
		}
		x.credsIssued()
		x.mode(x.creds, 0o600)
	}
	if os.Getenv("MONKEY_PTY_SHOW") != "" {
		t.Logf("seed %d, exit %d, accepts %d, declines %d, alone %v\nevents:\n%s\nscreen:\n%s", seed, code, accepts, declines, k.alone, strings.Join(k.log, "\n"), p.tail())
	}
	state := "enrolled"
	switch {
	case accepts == 0 && declines == 0:
		state = "nothing sent"
	case declines > 0:
		state = "declined"
	}
	return map[string]int{"sessions": 1, state: 1, "exit " + strconv.Itoa(code): 1}
}

// purposeful sends the key the screen asks for, after a person's pause:
// the screen is the one whose mark was drawn last (the renderer redraws
// only what changed, so a screen's mark appears once, when it appears).
func (k *ptyKeys) purposeful(link string) {
	out := k.p.text()
	pick := func(keys ...string) string { return keys[k.rng.IntN(len(keys))] }
	screen, at := "", -1
	for _, mark := range []string{"step 1 of 4", "step 2 of 4", "No server is configured", "step 3 of 4", "step 4 of 4",
		"Decline this invitation?", "Enrolled", "Declined the invitation", "Make the window larger"} {
		if i := strings.LastIndex(out, mark); i > at {
			screen, at = mark, i
		}
	}
	switch screen {
	case "Decline this invitation?":
		k.sendOn(deliberate, pick("y", "n"), "person answers", "decline?")
	case "step 4 of 4":
		k.sendOn(deliberate, pick("a", "a", "d"), "person decides", "review")
	case "No server is configured":
		k.sendOn(deliberate, "y", "person trusts", "server")
	case "step 2 of 4":
		k.send(deliberate, "\x1b[200~"+link+"\x1b[201~", "person pastes the link")
		k.send(deliberate, "\r", "person enter")
	case "Enrolled":
		k.sendOn(deliberate, pick("s", "i", "\r"), "person on Done", "done")
	case "Make the window larger":
		_ = k.p.resize(80, 24)
		k.log = append(k.log, "person resizes to 80x24")
	default:
		k.send(deliberate, "\r", "person enter")
	}
}
