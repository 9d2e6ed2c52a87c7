package tui

import (
	"strings"

	"enroll/qr"
)

// The waiting hand-off screen shows the page's address as a QR code, and
// always as text too: someone may have to type it into the phone when the
// scan fails. Where the two do not fit together, a key swaps them.

// arrangement is how the waiting hand-off screen uses the window.
type arrangement int

const (
	// arrangeText: no room for a code (or it is being encoded): the
	// instructions and the address.
	arrangeText arrangement = iota
	// arrangeBeside: the code on the left, the instructions and the
	// address beside it.
	arrangeBeside
	// arrangeBelow: the code, then the countdown and the address under it.
	arrangeBelow
	// arrangeSwap: the code with the countdown only; the swap key shows
	// the address instead (phoneModel.address), and back.
	arrangeSwap
)

// textColumn is the width the instructions beside a code need: their
// longest line, "This page closes within 10 min.".
const textColumn = 31

// waitingText is the hand-off screen's text while it waits for the phone.
func (p phoneModel) waitingText() []string {
	return []string{
		p.styles.title.Render("Hand over from a phone"),
		"",
		"Scan the code with the phone's",
		"camera, open the page, paste",
		"the invitation link there and",
		"send it.",
		"",
		"Waiting for your phone " + p.styles.glyph.more,
		"This page closes within " + countdown(p.session.ExpiresAt().Sub(p.now())),
	}
}

// arrange picks how the screen shows url in this window: the largest code
// that fits beside the text or above the address (beside when they are the
// same size), else the largest code alone with the swap key, else none;
// err says why there is no code. The cache draws each layout once, so this
// costs a few lookups a frame.
func (p phoneModel) arrange(url string) (arrangement, qr.Code, error) {
	best, code := arrangeText, qr.Code{}
	beside, err := p.qrIn(url, p.width-2-textColumn, p.height-1)
	if err == nil && len(p.waitingText())+2+len(p.link(url, p.width-beside.Width-4)) <= p.height-1 {
		best, code = arrangeBeside, beside
	}
	if below, err := p.qrIn(url, p.width, p.height-len(p.addressBelow(url))-2); err == nil && below.Width*below.Height > code.Width*code.Height {
		best, code = arrangeBelow, below
	}
	if best != arrangeText {
		return best, code, nil
	}
	// Alone, the code leaves the countdown and the help line.
	alone, err := p.qrFor(url, 2)
	if err != nil {
		return arrangeText, qr.Code{}, err
	}
	return arrangeSwap, alone, nil
}

// addressBelow is the address as it stands under a code: after its label
// when the line has room, else under it, broken across lines.
func (p phoneModel) addressBelow(url string) []string {
	const label = "Or open on the phone: "
	if len([]rune(label))+len([]rune(url)) <= p.width-2 {
		return []string{label + p.link(url, 1<<16)[0]}
	}
	return append([]string{strings.TrimSpace(label)}, p.link(url, p.width-2)...)
}

// waitingView is the screen while the code waits for the phone; help is
// the footer.
func (p phoneModel) waitingView(help string) string {
	url := p.session.URL()
	text := p.waitingText()
	how, code, err := p.arrange(url)
	status := text[7] + " " + text[8]
	switch {
	case how == arrangeBeside:
		text = append(text, "", "Or open on the phone:")
		text = append(text, p.link(url, p.width-code.Width-4)...)
		return beside(code, text) + "\n" + help
	case how == arrangeBelow:
		return code.Text + "\n" + status + "\n" + strings.Join(p.addressBelow(url), "\n") + "\n" + help
	case how == arrangeSwap && !p.address:
		return code.Text + "\n" + status + "\n" + help
	case how == arrangeSwap:
		text = append(text, "", p.wrap("The window has no room for the code and the address together. Open this address on the phone:"),
			strings.Join(p.link(url, p.contentWidth()), "\n"))
		return strings.Join(text, "\n") + "\n\n" + help
	}
	// No room for the code: the address itself still works.
	text = append(text, "", p.wrap(p.noRoomForCode(err, 2)+" Open this address on the phone:"),
		strings.Join(p.link(url, p.contentWidth()), "\n"))
	return strings.Join(text, "\n") + "\n\n" + help
}

// swappable reports whether the swap key is offered: the hand-off waits
// and its code and address take turns on screen.
func (p phoneModel) swappable() bool {
	if p.stage != phoneWaiting || p.session == nil {
		return false
	}
	how, _, _ := p.arrange(p.session.URL())
	return how == arrangeSwap
}
