// Package durable is how enroll changes files that must survive a crash or
// a power cut: the one atomic replace (temporary file, fsync, rename,
// directory fsync), the synced append, the lock that never follows a
// planted symlink, moving a file aside without overwriting, and the XDG
// base-directory rule. The credentials store, enroll invite's results file
// and the desktop's handler files all use it.
package durable

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// FS is the part of the filesystem these functions use. It exists so that
// tests can inject faults such as a full disk; OSFS is the real one. Locks
// are the exception: they always use the real filesystem, because a lock
// only means something there.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	MkdirAll(path string, perm fs.FileMode) error
	Chmod(name string, mode fs.FileMode) error
	Chown(name string, uid, gid int) error
	Rename(oldpath, newpath string) error
	Remove(name string) error
	ReadDir(name string) ([]fs.DirEntry, error)
}

// File is an open file as FS returns it; *os.File satisfies it.
type File interface {
	io.ReadWriteCloser
	Stat() (fs.FileInfo, error)
	Chmod(mode fs.FileMode) error
	Chown(uid, gid int) error
	Sync() error
}

// Allocator is a File that can reserve space without writing it, so that
// later writes up to that size cannot fail for want of space. It is
// optional: callers write and sync a block instead where a File is not an
// Allocator or the filesystem does not support it.
type Allocator interface {
	Allocate(size int64) error
}

// OSFS is the real filesystem.
type OSFS struct{}

// OpenFile opens a file with os.OpenFile.
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not f: a nil *os.File in an interface is not nil
	}
	return osFile{f}, nil
}

// osFile is a real file that can also reserve space.
type osFile struct{ *os.File }

// Allocate reserves size bytes from the start of the file without changing
// its size, or returns errors.ErrUnsupported where the filesystem cannot.
func (f osFile) Allocate(size int64) error { return allocate(f.File, size) }

// Stat calls os.Stat.
func (OSFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// Lstat calls os.Lstat.
func (OSFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// MkdirAll calls os.MkdirAll.
func (OSFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// Chmod calls os.Chmod.
func (OSFS) Chmod(name string, mode fs.FileMode) error { return os.Chmod(name, mode) }

// Chown calls os.Chown.
func (OSFS) Chown(name string, uid, gid int) error { return os.Chown(name, uid, gid) }

// Rename calls os.Rename.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove calls os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// ReadDir calls os.ReadDir.
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// ReadFlags open a file that is only read. O_NOFOLLOW refuses a symlink
// even if one is swapped in after Lstat; O_NONBLOCK keeps a FIFO from
// hanging us.
const ReadFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// Exists reports whether anything, a dangling symlink included, is at path.
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Describe names a file type, for a message about a refused target.
func Describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file"
}
