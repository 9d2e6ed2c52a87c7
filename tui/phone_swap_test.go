package tui

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/qr"
)

// phoneOpen resizes the timeline's wizard, goes to the invitation screen
// and opens the hand-off screen, its page started and its code encoded.
func (tl *timeline) phoneOpen(width, height int) {
	m, _ := tl.w.Update(tea.WindowSizeMsg{Width: width, Height: height})
	tl.w = m.(Model)
	tl.key(2*time.Second, enter)
	tl.wait(2 * time.Second)
	m, cmd := tl.w.Update(tea.KeyMsg{Type: tea.KeyCtrlO})
	m, _ = m.(Model).Update(cmd()) // the hand-off started
	tl.w = m.(Model)
}

// Where the code and the address take turns, the key that swaps them is a
// command like the others: it counts only pressed alone, and a scan or
// typing that holds an "a" never flips the screen.
func TestPhoneSwapNeedsAPerson(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	alone := 2 * time.Second
	for _, tc := range []struct {
		name          string
		width, height int
		do            func(tl *timeline)
		address       bool
		notice        string
	}{
		{name: "a alone shows the address", width: 60, height: 25, do: func(tl *timeline) {
			tl.key(alone, runes("a"))
			tl.wait(alone)
		}, address: true},
		{name: "a twice, each alone, shows the code again", width: 60, height: 25, do: func(tl *timeline) {
			tl.key(alone, runes("a"))
			tl.key(alone, runes("a"))
			tl.wait(alone)
		}},
		{name: "a, then Enter 100 ms later", width: 60, height: 25, do: func(tl *timeline) {
			tl.key(alone, runes("a"))
			tl.key(100*time.Millisecond, enter)
			tl.wait(alone)
		}, notice: "Did not swap the code and the address: other input followed a"},
		{name: "a slow scan holding a", width: 60, height: 25, do: func(tl *timeline) {
			tl.wait(alone)
			tl.typed("a link\r", between(rng, 20*time.Millisecond, 80*time.Millisecond))
			tl.wait(alone)
		}},
		{name: "a pasted a", width: 60, height: 25, do: func(tl *timeline) {
			tl.key(alone, paste("a"))
			tl.wait(alone)
		}},
		{name: "a alone where the address is beside the code", width: 80, height: 24, do: func(tl *timeline) {
			tl.key(alone, runes("a"))
			tl.wait(alone)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTimeline(&memService{answer: goldenClient}, &memStore{}, goldenConfig, func(o *Options) {
				o.StartPhone = func() (Phone, error) { return newFakePhone(), nil }
				o.Now = func() time.Time { return phoneNow }
			})
			tl.phoneOpen(tc.width, tc.height)
			tc.do(tl)
			w := tl.w
			if w.phone.stage != phoneWaiting {
				t.Fatalf("stage %v", w.phone.stage)
			}
			if w.phone.address != tc.address {
				t.Errorf("address shown: %v, want %v\n%s", w.phone.address, tc.address, w.View())
			}
			if !strings.Contains(w.notice, tc.notice) {
				t.Errorf("notice %q, want %q", w.notice, tc.notice)
			}
		})
	}
}

// arrange's choices for the window sizes a device has: beside and below
// keep the address on screen; the key is offered only where neither fits.
func TestPhoneArrangement(t *testing.T) {
	for _, tc := range []struct {
		width, height int
		ascii         bool
		how           arrangement
		format        qr.Format
		codeWidth     int
	}{
		{80, 24, false, arrangeBeside, qr.FormatSmall, 45},
		{120, 40, false, arrangeBeside, qr.FormatSmall, 49},
		{120, 50, false, arrangeBelow, qr.FormatBG, 94},
		{132, 52, false, arrangeBeside, qr.FormatBG, 98},
		{60, 25, false, arrangeSwap, qr.FormatSmall, 45},
		{60, 18, false, arrangeText, "", 0},
		{80, 24, true, arrangeText, "", 0}, // the console's 80×25 has no room for a code without glyphs
		{128, 48, true, arrangeBeside, qr.FormatBG, 94},
		{80, 50, true, arrangeBeside, qr.FormatBG, 47}, // narrow: one cell a module
		{60, 47, true, arrangeSwap, qr.FormatBG, 45},
		{160, 64, true, arrangeBeside, qr.FormatBG, 98}, // 1280×1024 framebuffer
		{100, 60, true, arrangeBelow, qr.FormatBG, 98},
	} {
		t.Run(fmt.Sprintf("%dx%d/ascii=%v", tc.width, tc.height, tc.ascii), func(t *testing.T) {
			w := phoneWizard(newFakePhone(), tc.width, tc.height, tc.ascii)
			how, code, _ := w.phone.arrange(w.phone.session.URL())
			if how != tc.how || code.Format != tc.format || code.Width != tc.codeWidth {
				t.Fatalf("got %v %s %d wide, want %v %s %d wide", how, code.Format, code.Width, tc.how, tc.format, tc.codeWidth)
			}
			if w.keys.PhoneSwap.Enabled() != (how == arrangeSwap) {
				t.Errorf("swap key offered: %v", w.keys.PhoneSwap.Enabled())
			}
		})
	}
}
