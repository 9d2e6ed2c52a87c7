package persist

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// FS is the part of the filesystem the store uses. It exists so that tests
// (here and in the CLI) can inject faults such as a full disk; OSFS is the
// real one and the default. The advisory lock is the exception: it always
// uses the real filesystem, because a lock only means something there.
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

// File is an open file as the store uses it; *os.File satisfies it.
type File interface {
	io.ReadWriteCloser
	Stat() (fs.FileInfo, error)
	Chmod(mode fs.FileMode) error
	Chown(uid, gid int) error
	Sync() error
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

// osFile is a real file that can also reserve space (see Allocator).
type osFile struct{ *os.File }

// Allocate reserves size bytes from the start of the file without changing
// its size, or returns errors.ErrUnsupported where the filesystem cannot.
func (f osFile) Allocate(size int64) error { return allocate(f.File, size) }

// Allocator is a File that can reserve space without writing it, so that
// later writes up to that size cannot fail for want of space. It is
// optional: Prepare writes and syncs a block instead where a File is not
// an Allocator or the filesystem does not support it.
type Allocator interface {
	Allocate(size int64) error
}

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

// Flags for opening a file we only read. O_NOFOLLOW refuses a symlink even if
// one is swapped in after Lstat; O_NONBLOCK keeps a FIFO from hanging us.
const readFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// createTemp creates a new 0600 file next to its destination. It is our own
// rather than os.CreateTemp so that it goes through FS and cannot follow a
// planted symlink.
func createTemp(fsys FS, dir, prefix string) (File, string, error) {
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, prefix+"*"), Err: fs.ErrExist}
}

// writeAtomic replaces path with data so that a crash leaves the old or the
// new file, never a torn one: temp file in the same directory, write, fsync,
// rename, fsync the directory (DESIGN §5). renameio does not fsync the
// directory and bypasses FS, hence this small version of it.
func writeAtomic(fsys FS, path string, data []byte, mode fs.FileMode, gid int) error {
	f, tmp, err := createTemp(fsys, filepath.Dir(path), tempPrefix(path))
	if err != nil {
		return err
	}
	return fill(fsys, f, tmp, path, data, mode, gid)
}

// fill writes data to f, the new and empty temporary file tmp, gives it
// mode and the group gid (noGroup: left as created), syncs it and renames
// it to path, durably. It closes f, and removes tmp unless renamed.
func fill(fsys FS, f File, tmp, path string, data []byte, mode fs.FileMode, gid int) (err error) {
	closed, renamed := false, false
	defer func() {
		if !closed {
			_ = f.Close()
		}
		if !renamed {
			_ = fsys.Remove(tmp) // the temp file holds a secret: never leave it
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	// The group first, then the mode: the file is never readable by a
	// group it is not meant for. The mode is explicit, because the create
	// mode is filtered by the umask and the result must be exactly it.
	if gid != noGroup {
		if err := f.Chown(-1, gid); err != nil {
			return err
		}
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return err
	}
	renamed = true
	return syncDir(fsys, filepath.Dir(path))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(fsys FS, dir string) error {
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some filesystems (certain FUSE and network ones) cannot sync a
	// directory at all; failing every save there would help nobody.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// moveAside renames path to path.<kind>-<UTC time>, adding -2, -3, … so that
// an earlier file of that name is never overwritten. Callers hold the lock,
// so the check-then-rename cannot race with another enroll.
func moveAside(fsys FS, path, kind string, now time.Time) (string, error) {
	base := path + "." + kind + "-" + now.UTC().Format("20060102T150405Z")
	for i := 1; i <= 1000; i++ {
		name := base
		if i > 1 {
			name += "-" + strconv.Itoa(i)
		}
		if _, err := fsys.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
			if err != nil {
				return "", err
			}
			continue
		}
		if err := fsys.Rename(path, name); err != nil {
			return "", err
		}
		return name, syncDir(fsys, filepath.Dir(path))
	}
	return "", &fs.PathError{Op: "moveaside", Path: base, Err: fs.ErrExist}
}

// describe names a file type for a message about a refused target.
func describe(m fs.FileMode) string {
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
