package main

import (
	"enroll/desktop"

	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"enroll/flow"
)

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
	s.out.Reset()
	s.errOut.Reset()
	return run(context.Background(), args, s.e)
}

func (s *schemeEnv) desktop(scheme string) string {
	return filepath.Join(s.dir, "data", "applications", desktop.ID(scheme))
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
		if t := strings.TrimSpace(l); t != "" && t[0] != '#' {
			if k, v, ok := strings.Cut(t, "="); ok {
				keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
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

func TestSchemeTerminalWrapsTheHandler(t *testing.T) {
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
