package tui

import (
	"strings"
	"testing"

	"enroll/flow"
)

// Every screen that shows a token says where it came from in the same
// words: the invitation field, the review (which said "as typed" for an app
// link) and the phone's confirmation.
func TestScreensSayWhereTheTokenCameFrom(t *testing.T) {
	const tok = "Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"
	for _, tt := range []struct{ text, want string }{
		{goldenLink, "from a link at idp.example.com"},
		{"enroll://accept?token=" + tok, "from an app link"},
		{tok, "as typed"},
	} {
		w := press(testWizard(&memService{answer: goldenClient}, &memStore{}, flow.Config{Server: goldenServer, Hostname: "lab-1"}, 120, 40), enter, paste(tt.text))
		if v := w.View(); !strings.Contains(v, "Token read "+tt.want) {
			t.Errorf("%s: the invitation screen does not say %q:\n%s", tt.text, tt.want, v)
		}
		w = press(w, enter)
		if w.machine.State == flow.StateServer {
			w = press(w, runes("y"))
		}
		w = press(w, enter)
		if w.machine.State != flow.StateReview || !strings.Contains(w.View(), tt.want) {
			t.Errorf("%s: the review (%v) does not say %q:\n%s", tt.text, w.machine.State, tt.want, w.View())
		}
	}
}
