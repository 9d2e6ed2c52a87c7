// Package faultfs is the real filesystem with a fault at any operation, for
// the tests of code that writes through durable.FS (durable itself and the
// credentials store): one fault injector rather than one per package.
//
// The operations, as a fault function sees them, with the path they are on
// (the old path for a rename, the file's path for an open file's):
//
//	open create lstat stat mkdir chmod chown rename remove readdir
//	read write fstat fchmod fchown sync close allocate
//
// It is only imported by tests.
package faultfs

import (
	"errors"
	"io/fs"
	"os"
	"sync"

	"enroll/persist/durable"
)

// FS wraps Inner (the real filesystem when nil). Fail sees every operation
// and returns the errno to fail it with, or nil; every operation is also
// recorded, as "op path", for a test to say what a call did.
type FS struct {
	Inner durable.FS
	// NoSync skips fsync (after the fault check), for fuzzers: durability
	// is tested elsewhere and fsync would cut their throughput a
	// hundredfold.
	NoSync bool
	// NoAllocate plays a filesystem without fallocate(2).
	NoAllocate bool

	mu   sync.Mutex
	fail func(op, name string) error
	ops  []string
}

// Set replaces the fault function; nil fails nothing.
func (f *FS) Set(fail func(op, name string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

// Ops returns the operations recorded since the last Reset, as "op path".
func (f *FS) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

// Reset forgets the recorded operations.
func (f *FS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = nil
}

// On fails op on exactly the path name with errno.
func On(op, name string, errno error) func(string, string) error {
	return Where(op, func(n string) bool { return n == name }, errno)
}

// Where fails op on the paths match accepts with errno.
func Where(op string, match func(string) bool, errno error) func(string, string) error {
	return func(o, n string) error {
		if o == op && match(n) {
			return errno
		}
		return nil
	}
}

// Nth fails only the nth operation that fail would fail (counting from 1),
// for a step that repeats an earlier one: a second look, a second read.
func Nth(n int, fail func(op, name string) error) func(string, string) error {
	var mu sync.Mutex
	seen := 0
	return func(op, name string) error {
		err := fail(op, name)
		if err == nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if seen++; seen == n {
			return err
		}
		return nil
	}
}

func (f *FS) check(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, op+" "+name)
	if f.fail == nil {
		return nil
	}
	if err := f.fail(op, name); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

func (f *FS) inner() durable.FS {
	if f.Inner == nil {
		return durable.OSFS{}
	}
	return f.Inner
}

// OpenFile is "create" when flag has O_CREATE, else "open".
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (durable.File, error) {
	op := "open"
	if flag&os.O_CREATE != 0 {
		op = "create"
	}
	if err := f.check(op, name); err != nil {
		return nil, err
	}
	file, err := f.inner().OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &File{File: file, fs: f, name: name}, nil
}

// Stat is "stat".
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if err := f.check("stat", name); err != nil {
		return nil, err
	}
	return f.inner().Stat(name)
}

// Lstat is "lstat".
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.check("lstat", name); err != nil {
		return nil, err
	}
	return f.inner().Lstat(name)
}

// MkdirAll is "mkdir".
func (f *FS) MkdirAll(path string, perm fs.FileMode) error {
	if err := f.check("mkdir", path); err != nil {
		return err
	}
	return f.inner().MkdirAll(path, perm)
}

// Chmod is "chmod".
func (f *FS) Chmod(name string, mode fs.FileMode) error {
	if err := f.check("chmod", name); err != nil {
		return err
	}
	return f.inner().Chmod(name, mode)
}

// Chown is "chown".
func (f *FS) Chown(name string, uid, gid int) error {
	if err := f.check("chown", name); err != nil {
		return err
	}
	return f.inner().Chown(name, uid, gid)
}

// Rename is "rename", on the old path.
func (f *FS) Rename(oldpath, newpath string) error {
	if err := f.check("rename", oldpath); err != nil {
		return err
	}
	return f.inner().Rename(oldpath, newpath)
}

// Remove is "remove".
func (f *FS) Remove(name string) error {
	if err := f.check("remove", name); err != nil {
		return err
	}
	return f.inner().Remove(name)
}

// ReadDir is "readdir".
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check("readdir", name); err != nil {
		return nil, err
	}
	return f.inner().ReadDir(name)
}

// File is an open file of FS.
type File struct {
	durable.File
	fs   *FS
	name string
}

// Read is "read".
func (f *File) Read(p []byte) (int, error) {
	if err := f.fs.check("read", f.name); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

// Write is "write".
func (f *File) Write(p []byte) (int, error) {
	if err := f.fs.check("write", f.name); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

// Stat is "fstat".
func (f *File) Stat() (fs.FileInfo, error) {
	if err := f.fs.check("fstat", f.name); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

// Chmod is "fchmod".
func (f *File) Chmod(mode fs.FileMode) error {
	if err := f.fs.check("fchmod", f.name); err != nil {
		return err
	}
	return f.File.Chmod(mode)
}

// Chown is "fchown".
func (f *File) Chown(uid, gid int) error {
	if err := f.fs.check("fchown", f.name); err != nil {
		return err
	}
	return f.File.Chown(uid, gid)
}

// Sync is "sync"; with NoSync it stops after the fault check.
func (f *File) Sync() error {
	if err := f.fs.check("sync", f.name); err != nil || f.fs.NoSync {
		return err
	}
	return f.File.Sync()
}

// Close is "close": the file is closed even when the fault says it failed,
// as close(2) does.
func (f *File) Close() error {
	err := f.fs.check("close", f.name)
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// Allocate is "allocate"; a file that cannot reserve space, or NoAllocate,
// answers errors.ErrUnsupported as a filesystem without fallocate does.
func (f *File) Allocate(size int64) error {
	if err := f.fs.check("allocate", f.name); err != nil {
		return err
	}
	a, ok := f.File.(durable.Allocator)
	if !ok || f.fs.NoAllocate {
		return errors.ErrUnsupported
	}
	return a.Allocate(size)
}
