package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
