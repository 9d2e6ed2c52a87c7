package durable_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"enroll/persist/durable"
	"enroll/persist/durable/faultfs"
)

// The fault matrix runs outside the package (durable_test): faultfs wraps
// durable, so a test inside it could not import faultfs.

// faultFS is the real filesystem failing where fail says.
func faultFS(fail func(op, name string) error) *faultfs.FS {
	f := &faultfs.FS{}
	f.Set(fail)
	return f
}

func everywhere(string) bool { return true }

func isTemp(name string) bool { return strings.Contains(filepath.Base(name), ".tmp-") }

// A write that fails at any step leaves the old file as it was, no
// temporary file behind, and reports the failure.
func TestWriteFileFailsWhole(t *testing.T) {
	for _, tc := range []struct {
		op    string
		match func(string) bool
		gid   int
	}{
		{"create", isTemp, durable.NoGroup},
		{"write", isTemp, durable.NoGroup},
		{"fchown", isTemp, os.Getegid()},
		{"fchmod", isTemp, durable.NoGroup},
		{"sync", isTemp, durable.NoGroup},
		{"close", isTemp, durable.NoGroup},
		{"rename", isTemp, durable.NoGroup},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		f := faultFS(faultfs.Where(tc.op, tc.match, syscall.EIO))
		err := durable.WriteFile(f, p, []byte("new"), 0o600, tc.gid)
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("%s fails: durable.WriteFile = %v, want EIO", tc.op, err)
		}
		if b, _ := os.ReadFile(p); string(b) != "old" {
			t.Errorf("%s fails: the file holds %q", tc.op, b)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".f.tmp-*")); len(left) > 0 {
			t.Errorf("%s fails: temporary files left: %v", tc.op, left)
		}
	}
}

// The directory sync after the rename is part of the write: when it fails
// the new file is in place but the caller is told it is not durable.
func TestWriteFileReportsTheDirectorySync(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, op := range []string{"open", "sync", "close"} {
		f := faultFS(faultfs.On(op, dir, syscall.EIO))
		if err := durable.WriteFile(f, p, []byte(op), 0o600, durable.NoGroup); !errors.Is(err, syscall.EIO) {
			t.Errorf("directory %s fails: durable.WriteFile = %v, want EIO", op, err)
		}
	}
	// Filesystems that cannot sync a directory at all are no failure.
	for _, errno := range []syscall.Errno{syscall.EINVAL, syscall.ENOTSUP} {
		f := faultFS(faultfs.On("sync", dir, errno))
		if err := durable.WriteFile(f, p, []byte("x"), 0o600, durable.NoGroup); err != nil {
			t.Errorf("directory sync %v: durable.WriteFile = %v, want nil", errno, err)
		}
	}
}

// The steps of a write, in the order that makes it atomic and durable: the
// group before the mode, the data synced before the rename, the directory
// synced after it, and nothing removed once renamed.
func TestWriteFileOrder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	f := &faultfs.FS{}
	if err := durable.WriteFile(f, p, []byte("data"), 0o640, os.Getegid()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range f.Ops() {
		name, _, _ := strings.Cut(op, " ")
		got = append(got, name)
	}
	want := []string{"create", "write", "fchown", "fchmod", "sync", "close", "rename", "open", "sync", "close"}
	if !slices.Equal(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v", fi.Mode().Perm(), err)
	}
}

// durable.CreateTemp tries another name when one is taken, gives up after a
// hundred, and never treats another error as a collision.
func TestCreateTempCollisions(t *testing.T) {
	dir := t.TempDir()
	n := 0
	f := faultFS(func(op, _ string) error {
		if op == "create" {
			if n++; n <= 3 {
				return syscall.EEXIST
			}
		}
		return nil
	})
	file, name, err := durable.CreateTemp(f, dir, ".x.tmp-")
	if err != nil || file == nil || !strings.HasPrefix(filepath.Base(name), ".x.tmp-") || n != 4 {
		t.Fatalf("durable.CreateTemp after 3 collisions = %v, %q, %v (%d tries)", file, name, err, n)
	}
	file.Close()
	if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("temporary file: %v, %v", fi, err)
	}
	f.Set(faultfs.Where("create", everywhere, syscall.EEXIST))
	if _, _, err := durable.CreateTemp(f, dir, ".x.tmp-"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("always taken: %v, want ErrExist", err)
	}
	f.Reset()
	f.Set(faultfs.Where("create", everywhere, syscall.EACCES))
	if _, _, err := durable.CreateTemp(f, dir, ".x.tmp-"); !errors.Is(err, syscall.EACCES) || len(f.Ops()) != 1 {
		t.Errorf("denied: %v after %d tries, want EACCES after one", err, len(f.Ops()))
	}
}

// durable.MoveAside never overwrites and never loses: when it cannot check a name
// or rename, the file stays where it is and the caller is told.
func TestMoveAsideFailures(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		op       string
		match    func(string) bool
		moved    bool // the rename happened (a failed sync after it)
		wantName bool
	}{
		{"lstat", func(n string) bool { return strings.HasSuffix(n, "Z") }, false, false},
		{"rename", everywhere, false, false},
		{"sync", func(n string) bool { return !strings.Contains(n, "corrupt") }, true, true},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "f")
		_ = os.WriteFile(p, []byte("only copy"), 0o600)
		f := faultFS(faultfs.Where(tc.op, tc.match, syscall.EIO))
		name, err := durable.MoveAside(f, p, "corrupt", now)
		if !errors.Is(err, syscall.EIO) || (name != "") != tc.wantName {
			t.Errorf("%s fails: durable.MoveAside = %q, %v", tc.op, name, err)
		}
		if durable.Exists(p) == tc.moved {
			t.Errorf("%s fails: the file is there = %v", tc.op, durable.Exists(p))
		}
		if tc.moved {
			if b, _ := os.ReadFile(name); string(b) != "only copy" {
				t.Errorf("moved file holds %q", b)
			}
		}
	}
	// A thousand earlier files of that name: it gives up, moving nothing.
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	_ = os.WriteFile(p, nil, 0o600)
	taken := &takenFS{FS: &faultfs.FS{}}
	if name, err := durable.MoveAside(taken, p, "corrupt", now); err == nil || !errors.Is(err, fs.ErrExist) || name != "" {
		t.Errorf("all names taken: %q, %v", name, err)
	}
	if taken.checked != 1000 || !durable.Exists(p) {
		t.Errorf("checked %d names; file there %v", taken.checked, durable.Exists(p))
	}
}

// takenFS finds a file at every name but the real path.
type takenFS struct {
	*faultfs.FS
	checked int
}

func (t *takenFS) Lstat(name string) (fs.FileInfo, error) {
	t.checked++
	return os.Lstat(os.DevNull)
}
