package persist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"enroll/flow"
	"enroll/persist/durable"
)

// Sharing with the licensed application (DESIGN §5). By default the file
// is 0600 and enroll's directory 0700: only their owner reads them. With a
// reader group the file is 0640 and the directory 0750, group-owned by it,
// so that a licensed application running as its own user in that group
// reads the credentials and nobody else does. The choice is kept on disk,
// in the one form enroll writes: a credentials file of mode exactly 0640
// owned by a group other than root's. A later write (another invitation,
// a recovery) keeps it, until ReaderGroupNone ends the sharing. Nothing
// else is ever taken for a choice: a directory that happens to be
// group-readable, or a file of another mode, is tightened instead.

const (
	privateFile fs.FileMode = 0o600
	privateDir  fs.FileMode = 0o700
	sharedFile  fs.FileMode = 0o640
	sharedDir   fs.FileMode = 0o750
)

// ReaderGroupNone, as Options.ReaderGroup, stops sharing: the next write
// makes the file 0600 and enroll's directory 0700 again.
const ReaderGroupNone = "none"

// maxGID bounds a group number: 2^31-2, below the "no change" value and
// the ranges where numbers wrap.
const maxGID = 1<<31 - 2

// lookupGroup resolves a group name, or a number, to its gid. Root's group
// is no reader group: sharing with it would share with nobody new, and
// read as a mistake.
func lookupGroup(name string) (int, error) {
	gid, err := strconv.Atoi(name)
	if err != nil {
		g, lerr := user.LookupGroup(name)
		if lerr != nil {
			return noGroup, fmt.Errorf("%w: the reader group %q does not exist on this device", flow.ErrUsage, flow.Sanitize(name))
		}
		gid, err = strconv.Atoi(g.Gid)
	}
	if err != nil || gid < 1 || gid > maxGID {
		return noGroup, fmt.Errorf("%w: %q cannot be a reader group (root's group 0, or not a group number)", flow.ErrUsage, flow.Sanitize(name))
	}
	return gid, nil
}

// groupOf is the group owning fi, or noGroup where the platform does not
// tell.
func groupOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Gid)
	}
	return noGroup
}

// ownerOf is the user owning fi, or -1.
func ownerOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// sharedFileInfo reports whether fi is a credentials file shared as enroll
// shares it: mode exactly 0640, a group other than root's.
func sharedFileInfo(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Mode().Perm() == sharedFile && groupOf(fi) > 0
}

// fileShared reports the reader group the credentials file is shared with
// on disk, if it is.
func (s *Store) fileShared() (int, bool) {
	fi, err := s.fs.Lstat(s.path)
	if err != nil || !sharedFileInfo(fi) {
		return noGroup, false
	}
	return groupOf(fi), true
}

// decideShare settles whom the files written under this lock are shared
// with: the group asked for, else the one the credentials file is shared
// with already, else nobody.
func (s *Store) decideShare() error {
	switch s.readerGroup {
	case ReaderGroupNone:
		s.gid = noGroup
		return nil
	case "":
		s.gid = noGroup
		if gid, ok := s.fileShared(); ok {
			s.gid = gid
		}
		return nil
	}
	gid, err := lookupGroup(s.readerGroup)
	if err != nil {
		return err
	}
	s.gid = gid
	return nil
}

// proveShare makes sure, before the invitation is spent, that the files
// can be given to the reader group: only root, or a member of the group,
// may. The journal's reserved file is given to it and back.
func (s *Store) proveShare(t *tempFile) error {
	if s.gid == noGroup {
		return nil
	}
	f := (File)(nil)
	if t != nil {
		f = t.f
	} else { // the filesystem reserves nothing: a probe of its own
		probe, name, err := durable.CreateTemp(s.fs, s.dir(), durable.TempPrefix(s.path)+"share-")
		if err != nil {
			return unavailable("creating a file in "+s.dir(), err)
		}
		defer func() { _ = probe.Close(); _ = s.fs.Remove(name) }()
		f = probe
	}
	if err := f.Chown(-1, s.gid); err != nil {
		return fmt.Errorf("%w: the credentials cannot be given to the reader group %d (only root or a member of it may): %w",
			flow.ErrStoreUnavailable, s.gid, err)
	}
	return f.Chown(-1, os.Getegid())
}

// ownDir reports whether the directory is enroll's own (the default
// layout: /var/lib/enroll, ~/.config/enroll), whose mode enroll sets: named
// enroll, a real directory rather than a symbolic link to one, and this
// user's. Any other is only ever reported, so that a link planted under
// that name never leads enroll to change another directory.
func (s *Store) ownDir() bool {
	dir := s.dir()
	if !isOwnDir(dir) {
		return false
	}
	fi, err := s.fs.Lstat(dir)
	return err == nil && fi.IsDir() && ownerOf(fi) == os.Geteuid()
}

// fileMode and dirMode are the modes the store gives what it writes.
func (s *Store) fileMode() fs.FileMode {
	if s.gid != noGroup {
		return sharedFile
	}
	return privateFile
}

func (s *Store) dirMode() fs.FileMode {
	if s.gid != noGroup {
		return sharedDir
	}
	return privateDir
}

// shareDir gives enroll's own directory the mode and group of the sharing
// decided. Another directory is left alone, with a warning when the reader
// group could not reach the file through it.
func (s *Store) shareDir() (string, error) {
	dir := s.dir()
	fi, err := s.fs.Stat(dir)
	if err != nil {
		return "", unavailable("checking the directory "+dir, err)
	}
	if !s.ownDir() {
		if s.gid != noGroup && (groupOf(fi) != s.gid || fi.Mode().Perm()&0o010 == 0) && fi.Mode().Perm()&0o001 == 0 {
			return fmt.Sprintf("The reader group cannot reach %s: its directory %s (mode %04o) is not enroll's own and does not let the group in.", s.path, dir, fi.Mode().Perm()), nil
		}
		return "", nil
	}
	if s.gid != noGroup && groupOf(fi) != s.gid {
		if err := s.fs.Chown(dir, -1, s.gid); err != nil {
			return "", unavailable("giving "+dir+" to the reader group", err)
		}
	}
	if fi.Mode().Perm() != s.dirMode() {
		if err := s.fs.Chmod(dir, s.dirMode()); err != nil {
			return "", unavailable("setting the mode of "+dir, err)
		}
	}
	return "", nil
}

// unreadableErr is the error of a file or directory this user may not
// read: said in those words, with the system's reason.
func unreadableErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is in the message already
	}
	return fmt.Errorf("%w: %s cannot be read by this user (%w)", flow.ErrUnreadable, path, err)
}

// isOwnDir reports whether dir is named as enroll's own directory (as
// /var/lib/enroll and ~/.config/enroll are).
func isOwnDir(dir string) bool { return filepath.Base(dir) == "enroll" }

// denied reports a permission error.
func denied(err error) bool { return errors.Is(err, fs.ErrPermission) }
