package persist

import (
	"errors"
	"fmt"
	"io/fs"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"enroll/flow"
)

// Sharing with the licensed application (DESIGN §5). By default the file
// is 0600 and enroll's directory 0700: only their owner reads them. With a
// reader group the file is 0640 and the directory 0750, group-owned by it,
// so that a licensed application running as its own user in that group
// reads the credentials and nobody else does. The choice is kept on disk:
// a later write (another invitation, a recovery) finds the file's group
// and mode and keeps them, until ReaderGroupNone ends the sharing.

const (
	privateFile fs.FileMode = 0o600
	privateDir  fs.FileMode = 0o700
	sharedFile  fs.FileMode = 0o640
	sharedDir   fs.FileMode = 0o750
)

// ReaderGroupNone, as Options.ReaderGroup, stops sharing: the next write
// makes the file 0600 and enroll's directory 0700 again.
const ReaderGroupNone = "none"

// noGroup is the gid of a store that shares with nobody.
const noGroup = -1

// lookupGroup resolves a group name, or a number, to its gid.
func lookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil && gid >= 0 {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return noGroup, fmt.Errorf("%w: the reader group %q does not exist on this device", flow.ErrUsage, flow.Sanitize(name))
	}
	return strconv.Atoi(g.Gid)
}

// groupOf is the group owning fi, or noGroup where the platform does not
// tell.
func groupOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Gid)
	}
	return noGroup
}

// shared reports whether fi is shared with a reader group: readable by
// its group, and that group not root's (gid 0 is not a reader group).
func shared(fi fs.FileInfo) bool {
	return fi.Mode().Perm()&0o040 != 0 && groupOf(fi) > 0
}

// decideShare settles whom the files written under this lock are shared
// with: the group asked for, else the one the credentials file (or enroll's
// own directory) is shared with already, else nobody.
func (s *Store) decideShare() error {
	switch s.readerGroup {
	case ReaderGroupNone:
		s.gid = noGroup
		return nil
	case "":
		s.gid = noGroup
		for _, p := range []string{s.path, s.dir()} {
			if fi, err := s.fs.Stat(p); err == nil && shared(fi) && (p == s.path || s.ownDir()) {
				s.gid = groupOf(fi)
				return nil
			}
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

// ownDir reports whether the directory is enroll's own (the default
// layout: /var/lib/enroll, ~/.config/enroll), whose mode enroll sets.
func (s *Store) ownDir() bool { return isOwnDir(s.dir()) }

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
		if s.gid != noGroup && fi.Mode().Perm()&0o011 == 0 {
			return fmt.Sprintf("The reader group cannot reach %s: its directory %s (mode %04o) does not let the group in.", s.path, dir, fi.Mode().Perm()), nil
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

// isOwnDir reports whether dir is enroll's own directory (named enroll, as
// /var/lib/enroll and ~/.config/enroll are): only its mode is enroll's to
// set; a --credentials file elsewhere must not change a home directory.
func isOwnDir(dir string) bool { return filepath.Base(dir) == "enroll" }

// denied reports a permission error.
func denied(err error) bool { return errors.Is(err, fs.ErrPermission) }
