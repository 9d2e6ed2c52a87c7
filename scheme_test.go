package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/flow"
)

// syncBuffer is a bytes.Buffer that a command may write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// schemeEnv is an env whose XDG directories and HOME lie in a temporary
// directory; vars may be changed before each run.
type schemeEnv struct {
	dir         string
	vars        map[string]string
	out, errOut *syncBuffer
	e           env
}

func newSchemeEnv(t *testing.T, stdin io.Reader) *schemeEnv {
	t.Helper()
	dir := t.TempDir()
	s := &schemeEnv{dir: dir, out: &syncBuffer{}, errOut: &syncBuffer{}, vars: map[string]string{
		"HOME":            filepath.Join(dir, "home"),
		"XDG_DATA_HOME":   filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
	}}
	s.e = env{
		stdin: stdin, stdout: s.out, stderr: s.errOut,
		getenv:   func(k string) string { return s.vars[k] },
		uid:      1000,
		hostname: func() (string, error) { return "lab-1", nil },
	}
	return s
}

func (s *schemeEnv) run(args ...string) int {
	s.out.mu.Lock()
	s.out.b.Reset()
	s.out.mu.Unlock()
	s.errOut.mu.Lock()
	s.errOut.b.Reset()
	s.errOut.mu.Unlock()
	return run(context.Background(), args, s.e)
}

func (s *schemeEnv) desktop(scheme string) string {
	return filepath.Join(s.dir, "data", "applications", desktopID(scheme))
}

func (s *schemeEnv) mimeapps() string { return filepath.Join(s.dir, "config", "mimeapps.list") }

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// desktopKeys reads the [Desktop Entry] group of a desktop file.
func desktopKeys(t *testing.T, path string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, l := range strings.Split(readString(t, path), "\n") {
		if k, v, ok := iniKey(l); ok {
			keys[k] = v
		}
	}
	return keys
}

func TestSchemeInstallWritesDesktopEntryAndDefault(t *testing.T) {
	s := newSchemeEnv(t, nil)
	if code := s.run("scheme", "install", "--scheme", "acme-devices", "--server", "https://IDP.acme.example/"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.errOut)
	}
	keys := desktopKeys(t, s.desktop("acme-devices"))
	for k, want := range map[string]string{
		"Type": "Application", "Name": "Enroll this device (acme-devices links)", "Terminal": "true",
		"NoDisplay": "true", "MimeType": "x-scheme-handler/acme-devices;",
	} {
		if keys[k] != want {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	exe, _ := os.Executable()
	prog, args, _ := strings.Cut(keys["Exec"], " ")
	if !filepath.IsAbs(prog) || prog != exe {
		t.Errorf("Exec runs %q, want this executable %q", prog, exe)
	}
	if want := "open --wait --server https://idp.acme.example -- %u"; args != want {
		t.Errorf("Exec arguments %q, want %q", args, want)
	}
	if got, want := readString(t, s.mimeapps()), "[Default Applications]\nx-scheme-handler/acme-devices=enroll-acme-devices.desktop;\n"; got != want {
		t.Errorf("mimeapps.list:\n%s\nwant:\n%s", got, want)
	}
	for _, want := range []string{s.desktop("acme-devices"), s.mimeapps(), "acme-devices://accept?token=…"} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, s.out)
		}
	}
	if fi, err := os.Stat(filepath.Dir(s.desktop("acme-devices"))); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("new applications directory: %v %v, want 0700", fi.Mode(), err)
	}

	if code := s.run("scheme", "install", "--scheme", "acme-devices", "--json"); code != 0 {
		t.Fatalf("--json exit %d:\n%s", code, s.errOut)
	}
	var res map[string]string
	if err := json.Unmarshal([]byte(s.out.String()), &res); err != nil {
		t.Fatalf("--json output %s: %v", s.out, err)
	}
	if res["scheme"] != "acme-devices" || res["desktopFile"] != s.desktop("acme-devices") || res["mimeapps"] != s.mimeapps() {
		t.Errorf("--json output %v", res)
	}
	if !strings.Contains(s.errOut.String(), "No --server given") {
		t.Errorf("no note about the missing server:\n%s", s.errOut)
	}
}

// The person's own mimeapps.list: comments, odd spacing, other sections,
// a stale entry for our key, and no newline at the end.
const personalMimeapps = "# my defaults\n" +
	"[Added Associations]\n" +
	"text/plain=gedit.desktop;\n" +
	"\n" +
	"[Default Applications]\n" +
	"# browsers\n" +
	"x-scheme-handler/http = firefox.desktop;\n" +
	"x-scheme-handler/acme-devices=old-tool.desktop;\n" +
	"x-scheme-handler/https=firefox.desktop;\n" +
	"\n" +
	"[Removed Associations]\n" +
	"image/png=gimp.desktop;"

func TestSchemeInstallKeepsEverythingElse(t *testing.T) {
	s := newSchemeEnv(t, nil)
	// Dotfiles kept elsewhere, linked in: the link must stay a link.
	real := filepath.Join(s.dir, "dotfiles", "mimeapps.list")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(s.mimeapps()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte(personalMimeapps), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, s.mimeapps()); err != nil {
		t.Fatal(err)
	}
	acme := strings.Replace(personalMimeapps, "old-tool.desktop;", "enroll-acme-devices.desktop;", 1)
	for i := 0; i < 2; i++ { // the second install changes nothing
		if code := s.run("scheme", "install", "--scheme", "acme-devices"); code != 0 {
			t.Fatalf("install %d: exit %d:\n%s", i, code, s.errOut)
		}
		if got := readString(t, s.mimeapps()); got != acme {
			t.Fatalf("install %d: mimeapps.list:\n%s\nwant:\n%s", i, got, acme)
		}
	}
	if fi, err := os.Lstat(s.mimeapps()); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("mimeapps.list is no longer a symlink: %v", err)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's own 0600 kept", fi.Mode())
	}

	// A second scheme joins the same section, after its last entry.
	if code := s.run("scheme", "install"); code != 0 {
		t.Fatalf("install enroll: exit %d:\n%s", code, s.errOut)
	}
	both := strings.Replace(acme, "x-scheme-handler/https=firefox.desktop;\n",
		"x-scheme-handler/https=firefox.desktop;\nx-scheme-handler/enroll=enroll-enroll.desktop;\n", 1)
	if got := readString(t, s.mimeapps()); got != both {
		t.Fatalf("mimeapps.list with two schemes:\n%s\nwant:\n%s", got, both)
	}

	// Removing one keeps the other and everything else.
	if code := s.run("scheme", "remove", "--scheme", "acme-devices"); code != 0 {
		t.Fatalf("remove: exit %d:\n%s", code, s.errOut)
	}
	onlyEnroll := strings.Replace(both, "x-scheme-handler/acme-devices=enroll-acme-devices.desktop;\n", "", 1)
	if got := readString(t, s.mimeapps()); got != onlyEnroll {
		t.Fatalf("after remove:\n%s\nwant:\n%s", got, onlyEnroll)
	}
	if _, err := os.Stat(s.desktop("acme-devices")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("desktop entry still there: %v", err)
	}
	if _, err := os.Stat(s.desktop("enroll")); err != nil {
		t.Errorf("the other scheme's desktop entry is gone: %v", err)
	}
	if !strings.Contains(s.out.String(), "Removed "+s.desktop("acme-devices")) || !strings.Contains(s.out.String(), "Removed x-scheme-handler/acme-devices") {
		t.Errorf("remove did not say what it removed:\n%s", s.out)
	}
	// Idempotent.
	if code := s.run("scheme", "remove", "--scheme", "acme-devices"); code != 0 || !strings.Contains(s.out.String(), "Nothing to remove") {
		t.Fatalf("second remove: exit %d:\n%s%s", code, s.out, s.errOut)
	}
	if got := readString(t, s.mimeapps()); got != onlyEnroll {
		t.Fatalf("second remove changed mimeapps.list:\n%s", got)
	}
}

func TestSchemeRemoveKeepsOtherHandlers(t *testing.T) {
	for _, tc := range []struct{ before, after string }{
		// ours among others: only ours goes
		{"[Default Applications]\r\nx-scheme-handler/enroll=enroll-enroll.desktop;other.desktop;\r\n",
			"[Default Applications]\r\nx-scheme-handler/enroll=other.desktop;\r\n"},
		// the person has chosen another handler since: left alone
		{"[Default Applications]\nx-scheme-handler/enroll = other.desktop\n",
			"[Default Applications]\nx-scheme-handler/enroll = other.desktop\n"},
		// the same key in another section is not a default: left alone
		{"[Added Associations]\nx-scheme-handler/enroll=enroll-enroll.desktop;\n",
			"[Added Associations]\nx-scheme-handler/enroll=enroll-enroll.desktop;\n"},
	} {
		s := newSchemeEnv(t, nil)
		if err := os.MkdirAll(filepath.Dir(s.mimeapps()), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.mimeapps(), []byte(tc.before), 0o644); err != nil {
			t.Fatal(err)
		}
		if code := s.run("scheme", "remove"); code != 0 {
			t.Fatalf("exit %d:\n%s", code, s.errOut)
		}
		if got := readString(t, s.mimeapps()); got != tc.after {
			t.Errorf("%q: became %q, want %q", tc.before, got, tc.after)
		}
	}
}

func TestSchemeInstallRefusesBadNamesAndServers(t *testing.T) {
	for _, args := range [][]string{
		{"--scheme", ""}, {"--scheme", "https"}, {"--scheme", "HTTP"}, {"--scheme", "file"},
		{"--scheme", "javascript"}, {"--scheme", "data"}, {"--scheme", "mailto"}, {"--scheme", "web+acme"},
		{"--scheme", "1acme"}, {"--scheme", "acme devices"}, {"--scheme", "acme_devices"}, {"--scheme", "acme/x"},
		{"--scheme", "acme:"}, {"--scheme", "äcme"}, {"--scheme", strings.Repeat("a", 65)},
		{"--server", "http://idp.example"}, {"--server", "https://u:p@idp.example"}, {"--server", "idp.example"},
		{"--terminal", "a=b -e"}, {"extra-argument"},
	} {
		s := newSchemeEnv(t, nil)
		if code := s.run(append([]string{"scheme", "install"}, args...)...); code != flow.ExitUsage {
			t.Errorf("%q: exit %d, want %d:\n%s", args, code, flow.ExitUsage, s.errOut)
		}
		if _, err := os.Stat(filepath.Join(s.dir, "data")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: something was written", args)
		}
	}
	for _, args := range [][]string{{"scheme"}, {"scheme", "list"}, {"scheme", "remove", "--scheme", "https"}} {
		if code := newSchemeEnv(t, nil).run(args...); code != flow.ExitUsage {
			t.Errorf("%q: exit %d", args, code)
		}
	}
	// Schemes are case-insensitive; "+" and "." are scheme characters.
	s := newSchemeEnv(t, nil)
	for scheme, file := range map[string]string{"ACME": "enroll-acme.desktop", "com.acme+x": "enroll-com.acme_x.desktop"} {
		if code := s.run("scheme", "install", "--scheme", scheme); code != 0 {
			t.Fatalf("%s: exit %d:\n%s", scheme, code, s.errOut)
		}
		if _, err := os.Stat(filepath.Join(s.dir, "data", "applications", file)); err != nil {
			t.Errorf("%s: %v", scheme, err)
		}
	}
}

func TestSchemeExecLineQuoting(t *testing.T) {
	got, err := execLine([]string{"/opt/my tools/enroll", "open", "--credentials", `/a"b\c$d%e` + "`f", "--"}, "%u")
	if err != nil {
		t.Fatal(err)
	}
	// Quoted as the Desktop Entry Specification says, then string-escaped.
	want := `"/opt/my tools/enroll" open --credentials "/a\\"b\\\\c\\$d%%e\\` + "`" + `f" -- %u`
	if got != want {
		t.Errorf("Exec\n got %s\nwant %s", got, want)
	}
	if _, err := execLine([]string{"/bin/enroll", "a\nb"}, "%u"); err == nil {
		t.Error("a newline in an argument was accepted")
	}
	s := newSchemeEnv(t, nil)
	if code := s.run("scheme", "install", "--terminal", "xterm -e"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.errOut)
	}
	keys := desktopKeys(t, s.desktop("enroll"))
	if !strings.HasPrefix(keys["Exec"], "xterm -e /") || keys["Terminal"] != "false" {
		t.Errorf("--terminal: Exec=%q Terminal=%q", keys["Exec"], keys["Terminal"])
	}
}

func TestSchemeDesktopFileValidates(t *testing.T) {
	tool, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Skip("desktop-file-validate (desktop-file-utils) is not installed")
	}
	s := newSchemeEnv(t, nil)
	s.vars["ENROLL_CREDENTIALS"] = filepath.Join(s.dir, "odd dir", `c"$%.json`)
	for _, args := range [][]string{
		{"--server", "https://idp.example"}, {"--scheme", "com.acme+x", "--terminal", "xterm -e"},
	} {
		if code := s.run(append([]string{"scheme", "install"}, args...)...); code != 0 {
			t.Fatalf("exit %d:\n%s", code, s.errOut)
		}
	}
	for _, f := range []string{s.desktop("enroll"), s.desktop("com.acme+x")} {
		if out, err := exec.Command(tool, f).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("%s: %v\n%s%s", f, err, out, readString(t, f))
		}
	}
}

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
	inv := invite(t, run)
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
	for _, want := range []string{"Using the invitation from the link that was opened.", "Enrolled."} {
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
		if code != 0 || !strings.Contains(s.out.String(), "Enrolled.") {
			t.Fatalf("exit %d:\n%s\n%s", code, s.out, s.errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Enter did not close it")
	}
}

func TestSchemeInstallWithoutAPlace(t *testing.T) {
	s := newSchemeEnv(t, nil)
	s.vars = map[string]string{"XDG_DATA_HOME": "relative/data"} // relative XDG paths are ignored
	if code := s.run("scheme", "install"); code != flow.ExitUsage || !strings.Contains(s.errOut.String(), "nor HOME") {
		t.Errorf("no HOME: exit %d:\n%s", code, s.errOut)
	}
	s = newSchemeEnv(t, nil)
	if err := os.WriteFile(filepath.Join(s.dir, "config"), []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := s.run("scheme", "install"); code != flow.ExitUnexpected || !strings.Contains(s.errOut.String(), "cannot create") {
		t.Errorf("config directory is a file: exit %d:\n%s", code, s.errOut)
	}
	if _, err := os.Stat(s.desktop("enroll")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a desktop entry was written without its default: %v", err)
	}
}
