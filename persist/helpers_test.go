package persist

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"enroll/flow"
)

// testTime is a fixed clock: moved-aside names and enrolledAt are then
// predictable.
var testTime = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func fixedNow() time.Time { return testTime }

const testSecret = "s3cr3t-DO-NOT-PRINT"

func testCreds() flow.Credentials {
	return flow.Credentials{
		Server:       "https://licensing.example.com",
		ID:           "dc-1",
		ClientID:     "client-1",
		ClientSecret: testSecret,
		Name:         "kiosk 7",
		EnrolledAt:   time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// newStore returns a store on a fresh temp dir; the path's directory does
// not exist yet.
func newStore(t testing.TB, fsys FS) *Store {
	t.Helper()
	s := Open(Options{
		Path:     filepath.Join(t.TempDir(), "enroll", "credentials.json"),
		LockWait: 100 * time.Millisecond,
		Now:      fixedNow,
		FS:       fsys,
	})
	t.Cleanup(func() { _ = s.Release() })
	return s
}

// sibling is a second store value on the same files, as another process.
func sibling(t testing.TB, s *Store) *Store {
	t.Helper()
	o := Open(Options{Path: s.Path(), LockWait: 100 * time.Millisecond, Now: fixedNow})
	t.Cleanup(func() { _ = o.Release() })
	return o
}

func mustPrepare(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Prepare(t.Context()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
}

// writeRaw puts bytes at the credentials path as a foreign writer would.
func writeRaw(t testing.TB, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // the umask may have narrowed it
		t.Fatal(err)
	}
}

// names lists dir, sorted, without the lock file (which stays on purpose).
func names(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Name() != ".credentials.json.lock" {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

func perm(t testing.TB, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// faultFS wraps the real filesystem and fails the operations fail picks:
// op is one of create, open, allocate, write, sync, fchmod, chmod, mkdir,
// rename, remove.
type faultFS struct {
	FS
	mu   sync.Mutex
	fail func(op, name string) error
	// noSync skips fsync, for the fuzzer: durability is tested elsewhere
	// and fsync would cut its throughput a hundredfold.
	noSync bool
	// noAllocate plays a filesystem without fallocate(2).
	noAllocate bool
}

func newFaultFS() *faultFS { return &faultFS{FS: OSFS{}} }

func (f *faultFS) set(fail func(op, name string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *faultFS) check(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		return nil
	}
	if err := f.fail(op, name); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	op := "open"
	if flag&os.O_CREATE != 0 {
		op = "create"
	}
	if err := f.check(op, name); err != nil {
		return nil, err
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name}, nil
}

func (f *faultFS) MkdirAll(path string, perm fs.FileMode) error {
	if err := f.check("mkdir", path); err != nil {
		return err
	}
	return f.FS.MkdirAll(path, perm)
}

func (f *faultFS) Chmod(name string, mode fs.FileMode) error {
	if err := f.check("chmod", name); err != nil {
		return err
	}
	return f.FS.Chmod(name, mode)
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if err := f.check("rename", oldpath); err != nil {
		return err
	}
	return f.FS.Rename(oldpath, newpath)
}

func (f *faultFS) Remove(name string) error {
	if err := f.check("remove", name); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

type faultFile struct {
	File
	fs   *faultFS
	name string
}

func (f *faultFile) Allocate(size int64) error {
	if err := f.fs.check("allocate", f.name); err != nil {
		return err
	}
	a, ok := f.File.(Allocator)
	if !ok || f.fs.noAllocate {
		return errors.ErrUnsupported
	}
	return a.Allocate(size)
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.check("write", f.name); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.fs.check("sync", f.name); err != nil || f.fs.noSync {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Chmod(mode fs.FileMode) error {
	if err := f.fs.check("fchmod", f.name); err != nil {
		return err
	}
	return f.File.Chmod(mode)
}

func (f *faultFile) Chown(uid, gid int) error {
	if err := f.fs.check("fchown", f.name); err != nil {
		return err
	}
	return f.File.Chown(uid, gid)
}
