package tui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/flow"
)

// A command needs a person: the reproductions of issue 14 on a timeline,
// the wizard's clock moved by the test, so that "20 ms later" is exact.

// schedClock is a clock whose waits are timers on the test's timeline:
// After registers one, and the timeline delivers it when its time comes.
type schedClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []timer
}

type timer struct {
	at  time.Time
	msg tea.Msg
}

func newSchedClock() *schedClock { return &schedClock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)} }

func (c *schedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *schedClock) After(d time.Duration, msg tea.Msg) tea.Cmd {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers = append(c.timers, timer{c.t.Add(d), msg})
	return nil
}

// timeline drives a wizard on a schedClock.
type timeline struct {
	w     Model
	clock *schedClock
}

// countingService counts the calls that change the service.
type countingService struct {
	memService
	mu                sync.Mutex
	accepts, declines int
}

func (s *countingService) Accept(ctx context.Context, r flow.AcceptRequest) ([]byte, error) {
	s.mu.Lock()
	s.accepts++
	s.mu.Unlock()
	return s.memService.Accept(ctx, r)
}

func (s *countingService) Decline(ctx context.Context, r flow.DeclineRequest) error {
	s.mu.Lock()
	s.declines++
	s.mu.Unlock()
	return s.memService.Decline(ctx, r)
}

func newTimeline(svc flow.Service, st flow.Store, cfg flow.Config, more ...func(*Options)) *timeline {
	c := newSchedClock()
	o := Options{
		Driver: flow.Driver{Service: svc, Store: st, Now: c.Now},
		Config: cfg, Renderer: asciiRenderer(), Clock: c,
	}
	for _, f := range more {
		f(&o)
	}
	w := New(context.Background(), o)
	m, _ := w.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	w = m.(Model)
	return &timeline{w: settle(w, w.next()), clock: c}
}

// wait moves the clock on by d, delivering the timers that come due.
func (tl *timeline) wait(d time.Duration) {
	end := tl.clock.Now().Add(d)
	for {
		c := tl.clock
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		if len(c.timers) == 0 || c.timers[0].at.After(end) {
			c.t = end
			c.mu.Unlock()
			return
		}
		next := c.timers[0]
		c.timers = c.timers[1:]
		c.t = next.at
		c.mu.Unlock()
		m, cmd := tl.w.Update(next.msg)
		tl.w = settle(m.(Model), cmd)
	}
}

// key delivers msg d after the previous input.
func (tl *timeline) key(d time.Duration, msg tea.KeyMsg) {
	tl.wait(d)
	m, cmd := tl.w.Update(msg)
	tl.w = settle(m.(Model), cmd)
}

// typed types text one character per read, gap apart (a person, or a
// scanner set to pause between characters).
func (tl *timeline) typed(text string, gap func() time.Duration) {
	for _, r := range text {
		k := runes(string(r))
		switch r {
		case '\r':
			k = enter
		case '\n':
			k = tea.KeyMsg{Type: tea.KeyCtrlJ}
		}
		tl.key(gap(), k)
	}
}

func between(rng *rand.Rand, lo, hi time.Duration) func() time.Duration {
	return func() time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
}

const scannedLink = "https://idp.example.com/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk\r"

// phoneSent opens the hand-off screen and has the phone send the link.
func (tl *timeline) phoneSent(d time.Duration) {
	tl.wait(d)
	m, cmd := tl.w.Update(tea.KeyMsg{Type: tea.KeyCtrlO})
	m, _ = m.(Model).Update(cmd()) // the hand-off started
	m, _ = m.(Model).Update(phoneResultMsg{phone: m.(Model).phone.session, result: PhoneResult{Text: goldenLink, From: "192.168.1.50", Code: "123 456"}})
	tl.w = m.(Model)
}

func TestCommandsNeedAPerson(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	alone := 2 * time.Second
	toReview := func(tl *timeline) {
		tl.key(alone, enter)
		tl.key(alone, paste(goldenLink))
		tl.key(alone, enter)
		tl.key(alone, enter)
	}
	for _, tc := range []struct {
		name  string
		cfg   flow.Config
		do    func(tl *timeline)
		state flow.State
		calls int  // accept calls; 1 when the state is Done, 0 otherwise, unless given
		trust bool // the link's server was taken
		// failing: every accept fails (a network error); phone: the hand-off
		// is on offer; enrolled: the device is enrolled already.
		failing, phone, enrolled bool
		reveal                   bool
		asks                     bool // the review screen asks whether to decline
		notice                   string
	}{
		{name: "a alone accepts", do: func(tl *timeline) { toReview(tl); tl.key(alone, runes("a")); tl.wait(alone) }, state: flow.StateDone},
		{name: "a, then Enter 100 ms later", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("a"))
			tl.key(100*time.Millisecond, enter)
			tl.wait(alone)
		}, state: flow.StateReview, notice: "Did not accept: other input followed a"},
		{name: "a 150 ms after another key", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("x"))
			tl.key(150*time.Millisecond, runes("a"))
			tl.wait(alone)
		}, state: flow.StateReview, notice: "Ignored a: it arrived with other input"},
		{name: "q in a slow scan on Review", do: func(tl *timeline) {
			toReview(tl)
			tl.wait(alone)
			tl.typed("http://x.q/a\r", between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview},
		{name: "okay, typed on the server question", cfg: flow.Config{Hostname: "lab-1"}, do: func(tl *timeline) {
			tl.key(alone, enter)
			tl.key(alone, paste(goldenLink))
			tl.key(alone, enter)
			tl.wait(alone)
			tl.typed("okay", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateServer},
		{name: "a slow scan of a link on Review (one character a read, 20–80 ms apart)", do: func(tl *timeline) {
			toReview(tl)
			tl.wait(alone)
			tl.typed(scannedLink, between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview},
		{name: "a fast scan of a link on Review (2–10 ms apart)", do: func(tl *timeline) {
			toReview(tl)
			tl.wait(alone)
			tl.typed(scannedLink, between(rng, 2*time.Millisecond, 10*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview},
		{name: "a scan ending in LF on Review", do: func(tl *timeline) {
			toReview(tl)
			tl.wait(alone)
			tl.typed(strings.TrimSuffix(scannedLink, "\r")+"\n", between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview},
		{name: "see a link, typed on Review", do: func(tl *timeline) {
			toReview(tl)
			tl.wait(alone)
			tl.typed("see a link", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview},
		{name: "link y s, typed on the server question", cfg: flow.Config{Hostname: "lab-1"}, do: func(tl *timeline) {
			tl.key(alone, enter)
			tl.key(alone, paste(goldenLink))
			tl.key(alone, enter)
			tl.wait(alone)
			tl.typed("link y s", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateServer},
		{name: "y alone trusts the server", cfg: flow.Config{Hostname: "lab-1"}, do: func(tl *timeline) {
			tl.key(alone, enter)
			tl.key(alone, paste(goldenLink))
			tl.key(alone, enter)
			tl.key(alone, runes("y"))
			tl.wait(alone)
		}, state: flow.StateName, trust: true},
		{name: "thanks s, typed on Done", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("a"))
			tl.wait(alone)
			tl.typed("thanks s", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateDone},
		{name: "s alone shows the secret", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("a"))
			tl.key(alone, runes("s"))
			tl.wait(alone)
		}, state: flow.StateDone, reveal: true},
		{name: "d alone asks first", do: func(tl *timeline) { toReview(tl); tl.key(alone, runes("d")); tl.wait(alone) }, state: flow.StateReview, asks: true},
		{name: "d, then y, each alone, declines", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("d"))
			tl.key(alone, runes("y"))
			tl.wait(alone)
		}, state: flow.StateDeclined},
		{name: "d, then n, keeps it", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("d"))
			tl.key(alone, runes("n"))
			tl.wait(alone)
		}, state: flow.StateReview},
		{name: "d alone, then a scan holding y", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("d"))
			tl.wait(alone)
			tl.typed("yes, really\r", between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview, asks: true},
		{name: "a pasted a on Review", do: func(tl *timeline) { toReview(tl); tl.key(alone, paste("a")); tl.wait(alone) }, state: flow.StateReview},
		{name: "r alone retries", failing: true, do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("a"))
			tl.key(alone, runes("r"))
			tl.wait(alone)
		}, state: flow.StateFailed, calls: 2},
		{name: "a slow scan holding r on a failure", failing: true, do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("a"))
			tl.wait(alone)
			tl.typed("https://idp.example.com/retry?token=abc\r", between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateFailed, calls: 1},
		{name: "y alone takes the phone's text", phone: true, do: func(tl *timeline) {
			tl.key(alone, enter)
			tl.phoneSent(alone)
			tl.key(alone, runes("y"))
			tl.wait(alone)
		}, state: flow.StateName},
		{name: "a slow scan holding y on the phone's screen", phone: true, do: func(tl *timeline) {
			tl.key(alone, enter)
			tl.phoneSent(alone)
			tl.wait(alone)
			tl.typed("yes yes\r", between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateInvitation},
		// Text that ends in a command letter: only the quiet before it
		// tells it from a key pressed alone.
		{name: "send, typed on Review", do: func(tl *timeline) {
			toReview(tl)
			tl.wait(alone)
			tl.typed("send", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview},
		{name: "okay, typed when asked whether to decline", do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("d"))
			tl.wait(alone)
			tl.typed("okay", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateReview, asks: true},
		{name: "oh no err, typed on a failure", failing: true, do: func(tl *timeline) {
			toReview(tl)
			tl.key(alone, runes("a"))
			tl.wait(alone)
			tl.typed("oh no err", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateFailed, calls: 1},
		{name: "okay, typed on the phone's screen", phone: true, do: func(tl *timeline) {
			tl.key(alone, enter)
			tl.phoneSent(alone)
			tl.wait(alone)
			tl.typed("okay", between(rng, 120*time.Millisecond, 250*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateInvitation},
		{name: "a slow scan on Welcome is the invitation", do: func(tl *timeline) {
			tl.wait(alone)
			tl.typed(scannedLink, between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}, state: flow.StateName},
		{name: "a scanner's CR LF keeps an enrolled device's name", enrolled: true, do: func(tl *timeline) {
			tl.key(alone, enter)
			tl.wait(alone)
			tl.typed(strings.TrimSuffix(scannedLink, "\r")+"\r\n", between(rng, 2*time.Millisecond, 10*time.Millisecond))
			tl.key(alone, enter)
			tl.wait(alone)
		}, state: flow.StateReview},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Hostname == "" {
				cfg = goldenConfig
			}
			svc := &countingService{memService: memService{answer: goldenClient}}
			if tc.failing {
				svc.acceptErr = fmt.Errorf("%w: accept: connection refused", flow.ErrNetwork)
			}
			st := &memStore{}
			if tc.enrolled {
				st.snap = flow.Snapshot{Existing: &goldenExisting}
			}
			tl := newTimeline(svc, st, cfg, func(o *Options) {
				if tc.phone {
					o.StartPhone = func() (Phone, error) { return newFakePhone(), nil }
				}
			})
			tc.do(tl)
			w := tl.w
			if w.machine.State != tc.state {
				t.Errorf("state %v, want %v\n%s", w.machine.State, tc.state, w.View())
			}
			want := tc.calls
			if want == 0 && tc.state == flow.StateDone {
				want = 1
			}
			if svc.accepts != want {
				t.Errorf("%d accept calls, want %d", svc.accepts, want)
			}
			if tc.enrolled && w.machine.NameChosen {
				t.Errorf("the enrolled device's name is sent as chosen: %q", w.name.Value())
			}
			if want := tc.state == flow.StateDeclined; (svc.declines == 1) != want || svc.declines > 1 {
				t.Errorf("%d decline calls", svc.declines)
			}
			if trusted := w.machine.Server == goldenServer && cfg.Server == ""; trusted != tc.trust {
				t.Errorf("server taken from the link: %v", trusted)
			}
			if w.revealed != tc.reveal {
				t.Errorf("secret shown: %v", w.revealed)
			}
			if w.confirmDecline != tc.asks {
				t.Errorf("asks whether to decline: %v", w.confirmDecline)
			}
			if !strings.Contains(w.notice, tc.notice) {
				t.Errorf("notice %q, want %q", w.notice, tc.notice)
			}
		})
	}
}
