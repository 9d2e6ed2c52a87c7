package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Allocate reserves the space now, without changing the file's size, so
// that a later write of that much cannot fail for want of space.
func TestAllocateReservesWithoutGrowing(t *testing.T) {
	f, err := OSFS{}.OpenFile(filepath.Join(t.TempDir(), "f"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, ok := f.(Allocator)
	if !ok {
		t.Fatal("a real file is not an Allocator")
	}
	err = a.Allocate(1 << 16)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("this filesystem has no fallocate: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	st, _ := fi.Sys().(*syscall.Stat_t)
	if fi.Size() != 0 || st == nil || st.Blocks*512 < 1<<16 {
		t.Errorf("size %d, %d bytes of blocks; want size 0 and at least 64 KiB reserved", fi.Size(), st.Blocks*512)
	}
	// A closed file cannot be reserved for: the error is the system's.
	f.Close()
	if err := a.Allocate(4096); err == nil || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Allocate on a closed file = %v", err)
	}
}

// OSFS is the real filesystem, operation by operation.
func TestOSFS(t *testing.T) {
	dir := t.TempDir()
	var o OSFS
	sub := filepath.Join(dir, "a", "b")
	if err := o.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(sub, "f")
	if _, err := o.OpenFile(p, os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenFile of nothing = %v", err)
	}
	f, err := o.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := o.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := o.Chown(p, -1, os.Getegid()); err != nil {
		t.Fatal(err)
	}
	if fi, err := o.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("Stat = %v, %v", fi, err)
	}
	link := filepath.Join(sub, "link")
	_ = os.Symlink(p, link)
	if fi, err := o.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat of a link = %v, %v", fi, err)
	}
	if es, err := o.ReadDir(sub); err != nil || len(es) != 2 {
		t.Errorf("ReadDir = %v, %v", es, err)
	}
	if err := o.Rename(p, p+"2"); err != nil || !Exists(p+"2") || Exists(p) {
		t.Errorf("Rename = %v", err)
	}
	if err := o.Remove(p + "2"); err != nil || Exists(p+"2") {
		t.Errorf("Remove = %v", err)
	}
	// ReadFlags never follow a link and never wait on a FIFO.
	if _, err := o.OpenFile(link, ReadFlags, 0); err == nil {
		t.Error("ReadFlags followed a symbolic link")
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		if f, err := o.OpenFile(fifo, ReadFlags, 0); err != nil {
			t.Errorf("ReadFlags on a FIFO: %v", err)
		} else {
			f.Close()
		}
	}
}

func TestDescribe(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		fs.ModeDir | 0o700:                  "a directory",
		fs.ModeSymlink | 0o777:              "a symbolic link",
		fs.ModeNamedPipe | 0o600:            "a named pipe (FIFO)",
		fs.ModeSocket | 0o600:               "a socket",
		fs.ModeDevice | 0o600:               "a device",
		fs.ModeDevice | fs.ModeCharDevice:   "a device",
		0o600:                               "a regular file",
		fs.ModeIrregular:                    "not a regular file",
		fs.ModeDir | fs.ModeSymlink | 0o7:   "a directory",
		fs.ModeSymlink | fs.ModeNamedPipe:   "a symbolic link",
		fs.ModeNamedPipe | fs.ModeSocket:    "a named pipe (FIFO)",
		fs.ModeSocket | fs.ModeDevice:       "a socket",
		fs.ModeDevice | fs.ModeIrregular:    "a device",
		fs.ModeIrregular | fs.ModeTemporary: "not a regular file",
	} {
		if got := Describe(m); got != want {
			t.Errorf("Describe(%v) = %q, want %q", m, got, want)
		}
	}
}

// A log refuses what it cannot append to safely, and a lock file planted
// as a symbolic link is never followed.
func TestLogRefusals(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenLog(filepath.Join(dir, "missing", "log")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenLog in a missing directory = %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		if _, err := OpenLog(fifo); !errors.Is(err, ErrNotRegular) {
			t.Errorf("OpenLog of a FIFO = %v, want ErrNotRegular", err)
		}
	}
	p := filepath.Join(dir, "log")
	l, err := OpenLog(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]byte("one\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.File().Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if b, err := l.ReadAll(); err != nil || string(b) != "one\n" {
		t.Errorf("ReadAll = %q, %v", b, err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := l.Append([]byte("two\n")); err == nil {
		t.Error("Append after Close succeeded")
	}
	// Closed, it can be opened again: the lock went with it.
	l2, err := OpenLog(p)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	l2.Close()

	link := filepath.Join(dir, "lock")
	_ = os.Symlink(filepath.Join(dir, "target"), link)
	if ok, err := NewLock(link, true).TryLock(); ok || err == nil {
		t.Errorf("a planted symlink was locked: %v, %v", ok, err)
	}
	if Exists(filepath.Join(dir, "target")) {
		t.Error("the lock created the symlink's target")
	}
	if ok, err := NewLock(filepath.Join(dir, "absent"), false).TryLock(); ok || err == nil {
		t.Errorf("a missing lock file without create was locked: %v, %v", ok, err)
	}
	fresh := filepath.Join(dir, "fresh.lock")
	fl := NewLock(fresh, true)
	if ok, err := fl.TryLock(); !ok || err != nil {
		t.Fatalf("a new lock file: %v, %v", ok, err)
	}
	defer fl.Unlock()
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file %v, %v; want 0600", fi, err)
	}
}

// A record that could not be written is an error even when the sync after
// it succeeds: the caller must not act on what is not on disk.
func TestAppendReportsAFailedWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ro, err := os.Open(p) // writes fail (EBADF); fsync of a read-only file works
	if err != nil {
		t.Fatal(err)
	}
	l := &Log{Path: p, f: ro}
	defer l.Close()
	if err := l.Append([]byte("record\n")); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Append = %v; want the write's EBADF", err)
	}
}

// Giving a file to a group changes its group only: it keeps its owner.
func TestWriteFileGivesTheGroupOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(OSFS{}, p, []byte("x"), 0o640, os.Getegid()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid() {
		t.Errorf("owner %d, group %d; want %d, %d", st.Uid, st.Gid, os.Geteuid(), os.Getegid())
	}
}
