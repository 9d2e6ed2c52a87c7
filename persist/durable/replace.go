package durable

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// NoGroup leaves a file's group as created.
const NoGroup = -1

// TempPrefix names the temporary files of path: hidden, and recognisably
// its own.
func TempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp-"
}

// CreateTemp creates a new 0600 file in dir. It is our own rather than
// os.CreateTemp so that it goes through FS and cannot follow a planted
// symlink.
func CreateTemp(fsys FS, dir, prefix string) (File, string, error) {
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

// WriteFile replaces path with data so that a crash leaves the old or the
// new file, never a torn one: a temporary file in the same directory,
// written, synced, renamed over path, and the directory synced (DESIGN §5).
// renameio does not sync the directory and cannot take an FS, hence this
// small version of it. gid NoGroup leaves the group as created.
func WriteFile(fsys FS, path string, data []byte, mode fs.FileMode, gid int) error {
	f, tmp, err := CreateTemp(fsys, filepath.Dir(path), TempPrefix(path))
	if err != nil {
		return err
	}
	return Fill(fsys, f, tmp, path, data, mode, gid)
}

// Fill writes data to f, the new and empty temporary file tmp (space may
// be reserved in it already), gives it mode and the group gid, syncs it and
// renames it to path, durably. It closes f, and removes tmp unless renamed.
func Fill(fsys FS, f File, tmp, path string, data []byte, mode fs.FileMode, gid int) (err error) {
	closed, renamed := false, false
	defer func() {
		if !closed {
			_ = f.Close()
		}
		if !renamed {
			_ = fsys.Remove(tmp) // it may hold a secret: never leave it
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	// The group first, then the mode: the file is never readable by a
	// group it is not meant for. The mode is explicit, because the create
	// mode is filtered by the umask and the result must be exactly it.
	if gid != NoGroup {
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
	return SyncDir(fsys, filepath.Dir(path))
}

// SyncDir makes a rename or removal in dir durable.
func SyncDir(fsys FS, dir string) error {
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

// MoveAside renames path to path.<kind>-<UTC time>, adding -2, -3, … so
// that an earlier file of that name is never overwritten. Callers hold a
// lock, so the check-then-rename cannot race with another enroll.
func MoveAside(fsys FS, path, kind string, now time.Time) (string, error) {
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
		return name, SyncDir(fsys, filepath.Dir(path))
	}
	return "", &fs.PathError{Op: "moveaside", Path: base, Err: fs.ErrExist}
}
