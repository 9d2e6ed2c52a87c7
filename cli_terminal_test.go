package main

// Commands whose behaviour depends on a person being at a terminal: the
// size of the window, a question before deleting, a hint while reading.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"enroll/flow"
)

// `enroll status --qr` on a terminal draws the id in a layout that fits the
// window whole (a wrapped or scrolled code cannot be scanned), or says the
// window is too small; without a terminal it draws at full size.
func TestStatusQRFitsTheTerminal(t *testing.T) {
	run := startEmulator(t)
	dir := t.TempDir()
	e, _, errOut := testEnv(dir, nil, newInvitation(t, run).Link)
	if code := run1(e, "accept", "--token-file", "-"); code != flow.ExitOK {
		t.Fatalf("accept: exit %d\n%s", code, errOut)
	}
	status := func(width, height int) string {
		e, out, errOut := testEnv(dir, nil, "")
		e.termSize = func() (int, int, bool) { return width, height, true }
		getenv := e.getenv
		e.getenv = func(k string) string { // a UTF-8 terminal: block characters
			if k == "LANG" {
				return "C.UTF-8"
			}
			return getenv(k)
		}
		if code := run1(e, "status", "--qr"); code != flow.ExitOK {
			t.Fatalf("%d×%d: exit %d\n%s", width, height, code, errOut)
		}
		return out.String()
	}
	for _, tc := range []struct {
		width, height int
		fits          bool
	}{{80, 24, true}, {60, 20, true}, {30, 12, false}} {
		text := status(tc.width, tc.height)
		_, qrText, found := strings.Cut(text, "QR code:\n")
		if found != tc.fits || (!tc.fits && !strings.Contains(text, "too small")) {
			t.Fatalf("%d×%d: code shown %v:\n%s", tc.width, tc.height, found, text)
		}
		rows := strings.Split(strings.TrimRight(qrText, "\n"), "\n")
		if tc.fits && len(rows) > tc.height-1 {
			t.Errorf("%d×%d: %d rows", tc.width, tc.height, len(rows))
		}
		for _, row := range rows {
			if ansi.StringWidth(row) > tc.width {
				t.Errorf("%d×%d: a row of %d columns", tc.width, tc.height, ansi.StringWidth(row))
				break
			}
		}
	}
	// The size a too small window is asked to grow to shows the code.
	var w, h int
	text := status(30, 12)
	if _, err := fmt.Sscanf(text[strings.Index(text, "it needs ")+len("it needs "):], "%d×%d", &w, &h); err != nil {
		t.Fatalf("no size asked for: %v\n%s", err, text)
	}
	if !strings.Contains(status(w, h), "QR code:\n") {
		t.Errorf("at the %d×%d asked for, no code", w, h)
	}
}

// --token-file - says what it waits for when a person is at a terminal, and
// nothing when the invitation comes down a pipe.
func TestTokenFromATerminalSaysWhatItWaitsFor(t *testing.T) {
	run := startEmulator(t)
	for _, tty := range []bool{true, false} {
		e, _, errOut := testEnv(t.TempDir(), nil, newInvitation(t, run).Link)
		e.stdinTTY = tty
		if code := run1(e, "accept", "--token-file", "-"); code != flow.ExitOK {
			t.Fatalf("tty %v: exit %d\n%s", tty, code, errOut)
		}
		if said := strings.Contains(errOut.String(), "paste it, then press Enter and Ctrl-D"); said != tty {
			t.Errorf("tty %v: hint shown %v:\n%s", tty, said, errOut)
		}
	}
}

// enroll forget asks first on a terminal, and only there; --yes does not.
func TestForgetAsksOnATerminal(t *testing.T) {
	run := startEmulator(t)
	for _, tc := range []struct {
		name    string
		tty     bool
		answer  string
		args    []string
		exit    int
		deleted bool
	}{
		{"terminal, no", true, "n\n", nil, flow.ExitInterrupted, false},
		{"terminal, nothing typed", true, "", nil, flow.ExitInterrupted, false},
		{"terminal, yes", true, "y\n", nil, flow.ExitOK, true},
		{"terminal, --yes", true, "", []string{"--yes"}, flow.ExitOK, true},
		{"terminal, --json", true, "", []string{"--json"}, flow.ExitOK, true},
		{"script", false, "", nil, flow.ExitOK, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e, _, errOut := testEnv(dir, nil, newInvitation(t, run).Link)
			if code := run1(e, "accept", "--token-file", "-"); code != flow.ExitOK {
				t.Fatalf("accept: exit %d\n%s", code, errOut)
			}
			e, _, errOut = testEnv(dir, nil, tc.answer)
			e.stdinTTY = tc.tty
			code := run1(e, append([]string{"forget"}, tc.args...)...)
			_, err := os.Stat(filepath.Join(dir, "enroll", "credentials.json"))
			if code != tc.exit || os.IsNotExist(err) != tc.deleted {
				t.Fatalf("exit %d, deleted %v; want %d, %v\n%s", code, os.IsNotExist(err), tc.exit, tc.deleted, errOut)
			}
		})
	}
}

// With nothing stored there is nothing to ask about: forget says so at once.
func TestForgetAsksNothingWhenNotEnrolled(t *testing.T) {
	e, _, errOut := testEnv(t.TempDir(), nil, "")
	e.stdinTTY = true
	if code := run1(e, "forget"); code != flow.ExitDevice || strings.Contains(errOut.String(), "[y/N]") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

// On a terminal the code keeps its black and white, under NO_COLOR and
// --no-color too: a code is a picture, and without its own colours it
// reads inverted on a light theme (README says so). TERM=dumb takes the
// escape sequences away, as a pipe does (testdata/script/env_and_json.txtar).
func TestStatusQRColours(t *testing.T) {
	run := startEmulator(t)
	dir := t.TempDir()
	e, _, errOut := testEnv(dir, nil, newInvitation(t, run).Link)
	if code := run1(e, "accept", "--token-file", "-"); code != flow.ExitOK {
		t.Fatalf("accept: exit %d\n%s", code, errOut)
	}
	for _, tc := range []struct {
		vars   map[string]string
		args   []string
		colour bool
	}{
		{nil, nil, true},
		{map[string]string{"NO_COLOR": "1"}, nil, true},
		{nil, []string{"--no-color"}, true},
		{map[string]string{"TERM": "dumb"}, nil, false},
	} {
		e, out, errOut := testEnv(dir, nil, "")
		getenv := e.getenv
		e.getenv = func(k string) string {
			if v, ok := tc.vars[k]; ok {
				return v
			}
			return getenv(k)
		}
		e.termSize = func() (int, int, bool) { return 120, 60, true }
		if code := run1(e, append([]string{"status", "--qr", "--qr-format", "small"}, tc.args...)...); code != flow.ExitOK {
			t.Fatalf("%v %v: exit %d\n%s", tc.vars, tc.args, code, errOut)
		}
		if got := strings.Contains(out.String(), "\x1b["); got != tc.colour {
			t.Errorf("%v %v: escape sequences %v, want %v", tc.vars, tc.args, got, tc.colour)
		}
	}
}
