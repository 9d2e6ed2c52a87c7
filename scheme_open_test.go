package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/flow"
)

// GLib (gio, as GNOME and many desktops open links) finds the handler
// through mimeapps.list and runs its Exec with the link as one argument.
// A stand-in terminal records the argv instead of running enroll.
func TestSchemeGioOpensLinkWithHandler(t *testing.T) {
	gio, err := exec.LookPath("gio")
	if err != nil {
		t.Skip("gio (libglib2.0-bin) is not installed")
	}
	s := newSchemeEnv(t, nil)
	record := filepath.Join(s.dir, "argv")
	wrapper := filepath.Join(s.dir, "terminal")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+record+".tmp && mv "+record+".tmp "+record+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	credentials := filepath.Join(s.dir, "odd dir", "c\\\"$%`.json")
	s.vars["ENROLL_CREDENTIALS"] = credentials
	if code := s.run("scheme", "install", "--scheme", "acme-devices", "--server", "https://idp.acme.example", "--terminal", wrapper); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.errOut)
	}
	link := "acme-devices://accept?token=abcdefgh12345678&x=%41%20b"
	cmd := exec.Command(gio, "open", link)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + s.vars["HOME"], "XDG_DATA_HOME=" + s.vars["XDG_DATA_HOME"],
		"XDG_CONFIG_HOME=" + s.vars["XDG_CONFIG_HOME"], "XDG_DATA_DIRS=" + filepath.Join(s.dir, "none")}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gio open: %v\n%s", err, out)
	}
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(record); err == nil {
			got = string(b)
			break
		}
	}
	exe, _ := os.Executable()
	want := strings.Join([]string{exe, "open", "--wait", "--server", "https://idp.acme.example", "--credentials", credentials, "--", link}, "\n") + "\n"
	if got != want {
		t.Errorf("the handler ran with\n%s\nwant\n%s", got, want)
	}
}

func TestOpenRefusesWhatIsNotAnAppLink(t *testing.T) {
	const token = "k7Qm2xVb9RtL4pWz8NcY"
	for _, link := range []string{
		"acme-devices://accept",                            // parser: no token
		"acme-devices://accept?token=" + token + "\x1b[2J", // parser: control character
		"acme-devices://accept?token=" + token + "%zz",     // parser: broken escape
		"javascript:alert('" + token + "')",                // parser: unsafe scheme
		"https://idp.example/invitation?token=" + token,    // a web link
		"http://127.0.0.1:1/invitation?token=" + token,     // a web link
		token,                         // a bare token
		"ssh://accept?token=" + token, // someone else's scheme
		"Hello, open acme-devices://accept?token=" + token, // mail text
	} {
		s := newSchemeEnv(t, nil)
		if code := s.run("open", "--plain", "--server", "https://idp.example", link); code != flow.ExitUsage {
			t.Errorf("%q: exit %d, want %d", link, code, flow.ExitUsage)
		}
		all := s.out.String() + s.errOut.String()
		if strings.Contains(all, token) {
			t.Errorf("%q: the output holds the token:\n%s", link, all)
		}
		if _, perr := flow.ParseInvitation(link); perr != nil && !strings.Contains(all, perr.Error()) {
			t.Errorf("%q: output lacks the parser's message %q:\n%s", link, perr, all)
		} else if perr == nil && !strings.Contains(all, "takes an app link") {
			t.Errorf("%q: output does not say what open takes:\n%s", link, all)
		}
	}
	for _, args := range [][]string{{"open"}, {"open", "enroll://accept?token=" + token, "enroll://accept?token=" + token}} {
		if code := newSchemeEnv(t, nil).run(args...); code != flow.ExitUsage {
			t.Errorf("%d arguments: exit %d", len(args)-1, code)
		}
	}
}

func TestOpenNeedsTerminalAndServer(t *testing.T) {
	link := "acme-devices://accept?token=k7Qm2xVb9RtL4pWz8NcY"
	s := newSchemeEnv(t, nil)
	if code := s.run("open", "--server", "https://idp.example", link); code != flow.ExitUsage {
		t.Fatalf("exit %d", code)
	}
	if msg := s.errOut.String(); !strings.Contains(msg, "needs a terminal") || !strings.Contains(msg, "Terminal=true") || strings.Contains(msg, "k7Qm2") {
		t.Errorf("no terminal:\n%s", msg)
	}
	s.vars["ENROLL_CREDENTIALS"] = filepath.Join(s.dir, "state", "credentials.json")
	if code := s.run("open", "--plain", link); code != flow.ExitUsage {
		t.Fatalf("no server: exit %d", code)
	}
	if msg := s.errOut.String(); !strings.Contains(msg, "names no server") || !strings.Contains(msg, "--server") {
		t.Errorf("no server:\n%s", msg)
	}
	// Where the wizard runs in a window that closes when enroll exits,
	// --wait keeps the message up until Enter.
	s.e.tty = true
	s.e.stdin = strings.NewReader("\n")
	if code := s.run("open", "--wait", "--plain", link); code != flow.ExitUsage || !strings.Contains(s.errOut.String(), "Press Enter to close") {
		t.Errorf("--wait: exit %d:\n%s", code, s.errOut)
	}
}

func openLinkFor(t *testing.T) (*emulator.Running, emulator.Invitation, string) {
	run := startEmulator(t)
	inv := newInvitation(t, run)
	return run, inv, "acme-devices://accept?token=" + inv.Token
}

func TestOpenPlainEnrollsAgainstEmulator(t *testing.T) {
	run, inv, link := openLinkFor(t)
	// Welcome, then Enter takes the link's invitation, Enter keeps the
	// proposed name, a accepts.
	s := newSchemeEnv(t, strings.NewReader("\n\na\n"))
	creds := filepath.Join(s.dir, "state", "enroll", "credentials.json")
	s.vars["ENROLL_CREDENTIALS"] = creds
	if code := s.run("open", "--plain", "--server", run.URL, link); code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, s.out, s.errOut)
	}
	for _, want := range []string{"Using the invitation from the link that was opened.", "Enrolled: this device is now a device client."} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, s.out)
		}
	}
	assertNoSecrets(t, run, s.out.String()+s.errOut.String())
	assertStoredIsIssued(t, run, creds)
	if st, _ := run.Emulator.Invitation(inv.Token); st.State != emulator.StateAccepted {
		t.Errorf("invitation %s", st.State)
	}
}

// With --wait on a terminal, the Enter typed after the plain runner has
// finished closes the window; the runner's reader, which may still be
// waiting on stdin, must not swallow it.
func TestOpenWaitGetsTheEnterAfterThePlainRunner(t *testing.T) {
	run, _, link := openLinkFor(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	s := newSchemeEnv(t, pr)
	s.e.tty = true
	s.vars["ENROLL_CREDENTIALS"] = filepath.Join(s.dir, "state", "enroll", "credentials.json")
	done := make(chan int, 1)
	go func() { done <- s.run("open", "--wait", "--plain", "--server", run.URL, link) }()
	if _, err := io.WriteString(pw, "\n\na\n"); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(s.errOut.String(), what); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q:\n%s\n%s", what, s.out, s.errOut)
			}
		}
	}
	waitFor("Press Enter to close this window.")
	select {
	case code := <-done:
		t.Fatalf("returned (%d) before Enter", code)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := io.WriteString(pw, "\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(s.out.String(), "Enrolled: this device is now a device client.") {
			t.Fatalf("exit %d:\n%s\n%s", code, s.out, s.errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Enter did not close it")
	}
}
