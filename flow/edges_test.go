package flow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Names of states, including the first and last, and of values that are
// no state at all.
func TestStateStringAndKinds(t *testing.T) {
	if StateLoading.String() != "loading" || StateFailed.String() != "failed" {
		t.Errorf("first and last: %q, %q", StateLoading, StateFailed)
	}
	for _, s := range []State{-1, State(len(stateNames)), 99} {
		if got, want := s.String(), fmt.Sprintf("State(%d)", int(s)); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
	working := []State{StatePreparing, StateAuthenticating, StateAccepting, StateJournaling, StateSaving, StateDeclining}
	for s := StateLoading; s <= StateFailed; s++ {
		if s.Working() != slices.Contains(working, s) {
			t.Errorf("%v.Working() = %v", s, s.Working())
		}
		if (s.Doing() != "") != s.Working() {
			t.Errorf("%v.Doing() = %q", s, s.Doing())
		}
	}
}

// A Saved event only completes the save it answers: not one before the
// answer was decoded, nor one that arrives in another state.
func TestStraySavedCompletesNothing(t *testing.T) {
	m := Machine{State: StateSaving, raw: []byte("{}"), journaled: true, locked: true}
	if got, eff := Step(m, Saved{}); got.State != StateSaving || got.Result != nil || eff != nil {
		t.Errorf("Saved before Decoded: %v, result %v, effects %v", got.State, got.Result, eff)
	}
	c := existing
	m = Machine{State: StatePreparing, decoded: &c, locked: true}
	if got, eff := Step(m, Saved{}); got.State != StatePreparing || got.Result != nil || eff != nil {
		t.Errorf("Saved while preparing a retry: %v, result %v, effects %v", got.State, got.Result, eff)
	}
}

// The name the service answers with is stored; the name the person chose
// only fills in when the service sends none.
func TestStoredNameIsTheServicesFirst(t *testing.T) {
	m := Machine{Server: testServer, Name: "chosen", NameChosen: true}
	for answer, want := range map[string]string{"": "chosen", "from-service": "from-service"} {
		c, err := m.credentialsFrom(Client{ID: "d", ClientID: "c", ClientSecret: "s3cret-x", Name: answer})
		if err != nil || c.Name != want {
			t.Errorf("service name %q: stored %q, %v; want %q", answer, c.Name, err, want)
		}
	}
	m.NameChosen = false
	if c, _ := m.credentialsFrom(Client{ID: "d", ClientID: "c", ClientSecret: "s3cret-x"}); c.Name != "" {
		t.Errorf("no name chosen, none answered: stored %q", c.Name)
	}
}

// An answer that cannot be read says it was cut short only when it was.
func TestUnreadableAnswerSaysCutOnlyWhenCut(t *testing.T) {
	for _, cut := range []error{nil, errors.New("the time limit ran out")} {
		m := Machine{State: StateSaving, raw: []byte("{"), cut: cut, journaled: true, locked: true}
		got, eff := Step(m, EffectFailed{Err: ErrBadResponse})
		if got.Failure == nil {
			t.Fatalf("cut %v: no failure", cut)
		}
		msg := got.Failure.Err.Error()
		if strings.Contains(msg, "cut short") != (cut != nil) || (cut != nil && !strings.Contains(msg, cut.Error())) {
			t.Errorf("cut %v: %q", cut, msg)
		}
		if len(eff) == 0 || eff[0] != (SetAsideJournal{}) {
			t.Errorf("cut %v: effects %v; want the journal set aside first", cut, eff)
		}
	}
}

// A failed machine's outcome is its failure.
func TestOutcomeOfFailure(t *testing.T) {
	m := Machine{State: StateReview, Server: testServer}
	m, _ = fail(m, fmt.Errorf("%w: the invitation expired", ErrInvitationExpired), StateInvitation)
	o := OutcomeOf(m, "/creds.json", "/creds.json.pending")
	if len(o.Headline) == 0 || slices.Contains(o.Headline, sayEnrolled) || o.Reason != "the invitation expired" {
		t.Errorf("outcome %+v", o)
	}
}

// The effect loop hears an interruption once a run, and never in a final
// state; what it hears and steps is reported as it happens.
func TestLoopHearsAnInterruptionOnce(t *testing.T) {
	var l Loop
	m := Machine{State: StatePreparing}
	if !l.Interrupt(&m) || m.State != StatePreparing || !m.Interrupted {
		t.Fatalf("first interruption: %v, interrupted %v", m.State, m.Interrupted)
	}
	m.Interrupted = false // to see whether it is told again
	if l.Interrupt(&m) || m.Interrupted {
		t.Error("a second interruption was heard")
	}
	l = Loop{}
	m = Machine{State: StateDone}
	if l.Interrupt(&m) || l.heard {
		t.Error("a final machine was interrupted")
	}
}

func TestLoopDrainReportsEachStep(t *testing.T) {
	svc, st := &fakeService{answer: newClient}, &fakeStore{}
	var l Loop
	m := l.Start(cfgServer)
	var seen []string
	stepped := func(ev Event) { seen = append(seen, fmt.Sprintf("%T", ev)) }
	l.Drain(t.Context(), driver(svc, st), &m, func() bool { return false }, stepped)
	if m.State != StateWelcome || !slices.Equal(seen, []string{"flow.Loaded"}) {
		t.Errorf("uninterrupted: %v, stepped %v", m.State, seen)
	}
	// Interrupted while loading: heard once, before the outcome, and
	// reported once.
	l = Loop{}
	m = l.Start(cfgServer)
	seen = nil
	l.Drain(t.Context(), driver(svc, st), &m, func() bool { return true }, stepped)
	if !slices.Equal(seen, []string{"flow.Interrupt", "flow.Loaded"}) || m.State != StateFailed {
		t.Errorf("interrupted: %v, stepped %v", m.State, seen)
	}
	// Done without a stepper, and with no event, steps as told.
	l = Loop{}
	m = l.Start(cfgServer)
	l.Done(&m, nil, false)
	if m.State != StateLoading {
		t.Errorf("no event moved the machine to %v", m.State)
	}
	l.Done(&m, Loaded{}, false)
	if m.State != StateWelcome {
		t.Errorf("Done(Loaded): %v", m.State)
	}
}

// Look-alike host names: any byte from 0x80 up makes a name suspect, even
// one that is not UTF-8, and a name with no valid ASCII form gets none.
func TestLookAlikeBytes(t *testing.T) {
	for _, host := range []string{"a\x80b.example", "\x80", "-b\u00fccher.example"} {
		if _, ok := LookAlike(host); !ok {
			t.Errorf("LookAlike(%q) is not suspect", host)
		}
	}
	// No valid ASCII form (a label may not begin with "-"): none is shown.
	if a, _ := LookAlike("-b\u00fccher.example"); a != "" {
		t.Errorf("LookAlike of an invalid name gives %q", a)
	}
	if w := LookAlikeWarning("-b\u00fccher.example"); !strings.Contains(w, "not a valid international name") {
		t.Errorf("warning %q", w)
	}
}

// Sanitize escapes invalid UTF-8 wherever it is, a lone byte included; the
// escaping is stable.
func TestSanitizeInvalidBytes(t *testing.T) {
	for in, want := range map[string]string{
		"\x80":         `\x80`,
		"a\x80":        `a\x80`,
		"\xff":         `\xff`,
		"ok\xc3":       `ok\xc3`,
		"\x7f":         `\x7f`,
		"\u0080":       `\x80`, // a C1 control, as a rune
		"caf\u00e9":    "café",
		`back\slash`:   `back\slash`,
		"\u2028":       `\u2028`,
		"tab\tnewline": `tab\x09newline`,
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if Sanitize(Sanitize(in)) != Sanitize(in) {
			t.Errorf("Sanitize(%q) is not stable", in)
		}
		if Visible(in) != (Sanitize(in) == in) {
			t.Errorf("Visible(%q) = %v", in, Visible(in))
		}
	}
}

// The name a device already has, or the one an interrupted enrollment
// chose, is the name shown and sent again; an empty one leaves the default
// (from the host name, lab-1.local here).
func TestNamesCarriedOver(t *testing.T) {
	named := existing
	unnamed := existing
	unnamed.Name = ""
	for _, tc := range []struct {
		what       string
		loaded     Loaded
		name       string
		nameChosen bool
	}{
		{"an enrolled device's name", Loaded{Snapshot: Snapshot{Existing: &named}}, existing.Name, false},
		{"an enrolled device without one", Loaded{Snapshot: Snapshot{Existing: &unnamed}}, "lab-1", false},
		{"a journaled enrollment's name", Loaded{Snapshot: Snapshot{Pending: &Pending{Server: testServer, Raw: []byte("{}"), Name: "lab-9"}}}, "lab-9", true},
		{"a journaled enrollment without one", Loaded{Snapshot: Snapshot{Pending: &Pending{Server: testServer, Raw: []byte("{}")}}}, "lab-1", false},
	} {
		m := walk(cfgServer, tc.loaded)
		if m.Name != tc.name || m.NameChosen != tc.nameChosen {
			t.Errorf("%s: name %q (chosen %v), want %q (%v)", tc.what, m.Name, m.NameChosen, tc.name, tc.nameChosen)
		}
	}
}

// A retry prepares the store to commit only where an answer was received;
// before the accept call it is a fresh attempt, which may still be
// interrupted.
func TestRetryCommitsOnlyAnAnswer(t *testing.T) {
	journal := Loaded{Snapshot: Snapshot{Pending: &Pending{Server: testServer, Raw: []byte("{}")}}}
	unavailable := EffectFailed{Err: fmt.Errorf("disk: %w", ErrStoreUnavailable)}
	for _, tc := range []struct {
		what   string
		before []Event
		commit bool
	}{
		{"before the accept call", seq(toReview, ev(AcceptChosen{}, unavailable)), false},
		{"finishing a journal found at start", ev(journal, unavailable), true},
	} {
		m := walk(cfgServer, tc.before...)
		if m.Failure == nil || !m.Failure.Retry {
			t.Fatalf("%s: %v, failure %+v; want one to retry", tc.what, m.State, m.Failure)
		}
		if _, effs := Step(m, Retry{}); len(effs) != 1 || effs[0] != (PrepareStore{Commit: tc.commit}) {
			t.Errorf("%s: retry effects %+v, want PrepareStore{Commit: %v}", tc.what, effs, tc.commit)
		}
	}
}
