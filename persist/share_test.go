package persist

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"enroll/flow"
)

// Sharing with a reader group, and everything that must not be taken for
// it. Changing a group needs root (or membership): the tests that give
// files to a group run as root, as CI does.

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root, which giving files to a group needs")
		}
		t.Skip("needs root to give files to a group")
	}
}

func statOf(t *testing.T, p string) (fs.FileMode, int) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm(), int(fi.Sys().(*syscall.Stat_t).Gid)
}

func saveWith(t *testing.T, path, group string) error {
	t.Helper()
	s := Open(Options{Path: path, ReaderGroup: group, Now: fixedNow})
	defer func() { _ = s.Release() }()
	if _, err := s.Load(t.Context()); err != nil {
		return err
	}
	if err := s.Prepare(t.Context()); err != nil {
		return err
	}
	return s.Save(testCreds())
}

func TestReaderGroupIsKeptUntilNone(t *testing.T) {
	needRoot(t)
	path := filepath.Join(t.TempDir(), "enroll", "credentials.json")
	if err := saveWith(t, path, "54390"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		path string
		mode fs.FileMode
	}{{path, 0o640}, {filepath.Dir(path), 0o750}} {
		if mode, gid := statOf(t, p.path); mode != p.mode || gid != 54390 {
			t.Errorf("%s: %04o gid %d", p.path, mode, gid)
		}
	}
	if err := saveWith(t, path, ""); err != nil { // a later write, no choice given
		t.Fatal(err)
	}
	if mode, gid := statOf(t, path); mode != 0o640 || gid != 54390 {
		t.Errorf("not kept: %04o gid %d", mode, gid)
	}
	if err := saveWith(t, path, ReaderGroupNone); err != nil {
		t.Fatal(err)
	}
	if mode, _ := statOf(t, path); mode != 0o600 {
		t.Errorf("none: %04o", mode)
	}
	if mode, _ := statOf(t, filepath.Dir(path)); mode != 0o700 {
		t.Errorf("none, directory: %04o", mode)
	}
}

// A directory or file that happens to be group-readable is no choice to
// share: without --reader-group the files are 0600 and 0700.
func TestNoSharingWithoutTheChoice(t *testing.T) {
	needRoot(t)
	dir := filepath.Join(t.TempDir(), "enroll")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, -1, 100); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "credentials.json")
	writeRaw(t, path, []byte("{}"), 0o644)
	if err := os.Chown(path, -1, 100); err != nil {
		t.Fatal(err)
	}
	if err := saveWith(t, path, ""); err != nil {
		t.Fatal(err)
	}
	if mode, _ := statOf(t, path); mode != 0o600 {
		t.Errorf("file %04o", mode)
	}
	if mode, _ := statOf(t, dir); mode != 0o700 {
		t.Errorf("directory %04o", mode)
	}
}

func TestRootGroupIsNoReaderGroup(t *testing.T) {
	for _, g := range []string{"0", "root", "-1", "4294967296", "no-such-group-xyz"} {
		if _, err := lookupGroup(g); !errors.Is(err, flow.ErrUsage) {
			t.Errorf("%q: %v", g, err)
		}
	}
}

// A user who may not give files to the group learns it before the
// invitation is spent (exit 6), not after (exit 7).
func TestSharingProvedBeforeAccepting(t *testing.T) {
	f := newFaultFS()
	f.Set(func(op, name string) error {
		if op == "fchown" {
			return syscall.EPERM
		}
		return nil
	})
	s := Open(Options{Path: filepath.Join(t.TempDir(), "enroll", "credentials.json"), ReaderGroup: "54390", FS: f})
	err := s.Prepare(t.Context())
	if !errors.Is(err, flow.ErrStoreUnavailable) || !strings.Contains(err.Error(), "reader group") {
		t.Fatalf("Prepare: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path()), ".*")); len(left) > 1 { // the lock file stays
		t.Errorf("left behind: %v", left)
	}
}

// A journal a reader of the credentials may not read (it is root's) does
// not stop a read-only load: it is reported, the credentials are read.
func TestReadOnlyLoadAroundAnUnreadableJournal(t *testing.T) {
	s := newStore(t, nil)
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	_ = s.Release()
	writeRaw(t, s.JournalPath(), []byte("{}"), 0o600)
	f := newFaultFS()
	f.Set(func(op, name string) error {
		if op == "open" && name == s.JournalPath() {
			return syscall.EACCES
		}
		return nil
	})
	ro := Open(Options{Path: s.Path(), FS: f, ReadOnly: true})
	snap, err := ro.Load(t.Context())
	if err != nil || snap.Existing == nil || snap.Pending == nil || !strings.Contains(strings.Join(snap.Warnings, " "), "journal is in the way") {
		t.Fatalf("snapshot %+v, %v", snap, err)
	}
}

// A link named enroll is never enroll's own directory: its target's mode
// is not changed.
func TestALinkNamedEnrollIsNotOurs(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "elsewhere")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(root, "enroll")); err != nil {
		t.Fatal(err)
	}
	if err := saveWith(t, filepath.Join(root, "enroll", "credentials.json"), ""); err != nil {
		t.Fatal(err)
	}
	if mode, _ := statOf(t, target); mode != 0o755 {
		t.Errorf("the link's target became %04o", mode)
	}
}
