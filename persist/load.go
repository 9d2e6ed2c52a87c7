package persist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"enroll/flow"
	"enroll/persist/durable"
)

// fileKind describes one of the two files Load reads.
type fileKind struct {
	label       string // for warnings: "The <label> <path> …"
	consequence string // what being unreadable means to the user
	limit       int64
	blankOK     bool                // an empty file means "nothing here" rather than corrupt
	check       func([]byte) string // "" when the bytes are usable, else why not
}

func credentialsKind(dst **storedCreds) fileKind {
	return fileKind{
		label:       "credentials file",
		consequence: "this device is treated as not enrolled",
		limit:       maxCredentialsSize,
		blankOK:     true,
		check: func(b []byte) (reason string) {
			*dst, reason = decodeCredentials(b)
			return reason
		},
	}
}

// journalKind has no blank case: atomic writes never leave an empty
// journal, so an empty one is moved aside like any other unusable one.
func journalKind(dst **storedJournal) fileKind {
	return fileKind{
		label:       "journal of an interrupted enrollment",
		consequence: "that enrollment cannot be finished from it",
		limit:       maxJournalSize,
		check: func(b []byte) (reason string) {
			*dst, reason = decodeJournal(b)
			return reason
		},
	}
}

// Load reports what is on disk. It repairs what it safely can and says so in
// Snapshot.Warnings: modes wider than 0700/0600 (0750/0640 for a reader
// group) are tightened, unreadable files are moved aside (never deleted)
// and treated as absent. A read-only store repairs nothing and only warns.
// It errs when the store itself is unusable (wrapping
// flow.ErrStoreUnavailable), or when this user may not read it
// (flow.ErrUnreadable).
func (s *Store) Load(ctx context.Context) (flow.Snapshot, error) {
	var snap flow.Snapshot
	if err := ctx.Err(); err != nil {
		if errors.Is(err, context.Canceled) {
			return snap, fmt.Errorf("%w: %w", flow.ErrInterrupted, err)
		}
		return snap, err
	}
	if s.path == "" {
		return snap, errNoPath
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.dir()
	switch _, err := s.fs.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		s.seen = s.fingerprint()
		return snap, nil // never enrolled here; Prepare creates it
	case denied(err):
		return snap, unreadableErr(dir, err)
	}
	w, err := s.tightenDir(dir)
	if err != nil {
		return snap, err
	}
	if w != "" {
		snap.Warnings = append(snap.Warnings, w)
	}

	var creds *storedCreds
	ok, err := s.loadFile(s.path, credentialsKind(&creds), &snap.Warnings)
	if err != nil {
		return snap, err
	}
	s.sealedOnDisk = ok && creds.prot != nil
	if ok {
		// A secret that does not unseal (another device's TPM, no TPM)
		// fails the run and leaves the file alone: it is not corrupt.
		if err := s.unsealCredentials(ctx, creds); err != nil {
			return snap, err
		}
		snap.Existing = &creds.Credentials
	}
	var pending *storedJournal
	ok, err = s.loadFile(s.JournalPath(), journalKind(&pending), &snap.Warnings)
	if err != nil && s.readOnly {
		// The journal is root's (0600 even when the credentials are
		// shared): a reader of the credentials is told it is there, and
		// goes on with the credentials.
		snap.Warnings = append(snap.Warnings, fmt.Sprintf(
			"An interrupted enrollment's journal is in the way (%v); enroll accept, run as the credentials' owner, finishes or clears it.", err))
		err, ok = nil, false
		if _, lerr := s.fs.Lstat(s.JournalPath()); lerr == nil {
			snap.Pending = &flow.Pending{} // known to be there, not readable here
		}
	}
	if err != nil {
		return snap, err
	}
	if ok && pending.prot != nil {
		s.sealedOnDisk = true // a sealed answer is committed sealed
		// A reader (status, token) only needs to know a journal is there.
		if !s.readOnly {
			if err := s.unsealJournal(ctx, &pending.Pending, pending.prot); err != nil {
				return snap, err
			}
		}
	}
	if ok {
		snap.Pending = &pending.Pending
	}
	s.seen = s.fingerprint()
	return snap, nil
}

// tightenDir makes enroll's own directory 0700 and returns a warning when
// it changed it. Only a directory named "enroll" (the default layout:
// /var/lib/enroll, ~/.config/enroll) is ours to change: a --credentials file
// in a home directory must not make that home 0700, so other directories
// are only reported, the file itself being 0600. A sticky directory (such as
// /tmp) keeps others from replacing our files; a world-writable one without
// the sticky bit does not, and is refused.
func (s *Store) tightenDir(dir string) (string, error) {
	fi, err := s.fs.Stat(dir)
	if err != nil {
		return "", unavailable("checking the directory "+dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%w: %s is %s, not a directory", flow.ErrStoreUnavailable, dir, durable.Describe(fi.Mode()))
	}
	perm := fi.Mode().Perm()
	allowed := privateDir
	if gid, ok := s.fileShared(); ok && groupOf(fi) == gid {
		allowed = sharedDir // the way to a file shared with a reader group
	}
	switch {
	case perm&^allowed == 0:
		return "", nil
	case fi.Mode()&fs.ModeSticky != 0:
		return fmt.Sprintf("The directory %s is shared with other users (mode %04o, sticky); its mode was left unchanged.", dir, perm), nil
	case s.ownDir():
		// ours: tighten below
	case perm&0o002 != 0:
		return "", fmt.Errorf("%w: the directory %s is writable by every user (mode %04o), so others could replace the credentials file; use a directory only you can write", flow.ErrStoreUnavailable, dir, perm)
	default:
		return fmt.Sprintf("The directory %s is open to other users (mode %04o); it is not enroll's own directory, so its mode was left unchanged (the credentials file is %04o).", dir, perm, s.fileMode()), nil
	}
	if s.readOnly {
		return fmt.Sprintf("The directory %s is open to other users (mode %04o); run enroll accept as its owner, or chmod %04o it, to close it.", dir, perm, allowed), nil
	}
	if err := s.fs.Chmod(dir, allowed); err != nil {
		return "", unavailable("restricting the mode of "+dir, err)
	}
	return fmt.Sprintf("The directory %s was open to other users (mode %04o); its mode was set to %04o.", dir, perm, allowed), nil
}

// readRegular reads at most limit+1 bytes of path, refusing anything but a
// regular file. ok is false when the file does not exist. A file open to
// others is made 0600 (0640 when shared with a reader group) through the
// open handle, so the chmod cannot land on a file swapped in meanwhile; a
// read-only store only warns.
func (s *Store) readRegular(path string, limit int64, warnings *[]string) (data []byte, ok bool, err error) {
	fi, err := s.fs.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case denied(err):
		return nil, false, unreadableErr(path, err)
	case err != nil:
		return nil, false, unavailable("checking "+path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, notRegular(path, fi.Mode())
	}
	f, err := s.fs.OpenFile(path, durable.ReadFlags, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil // removed since the Lstat
	case denied(err):
		return nil, false, unreadableErr(path, err)
	case err != nil:
		// ELOOP here means a symlink was swapped in after the Lstat.
		return nil, false, unavailable("opening "+path, err)
	}
	defer func() { _ = f.Close() }()
	if fi, err = f.Stat(); err != nil {
		return nil, false, unavailable("checking "+path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, notRegular(path, fi.Mode())
	}
	allowed := privateFile
	if sharedFileInfo(fi) {
		allowed = sharedFile // shared with a reader group, as enroll shares it
	}
	switch perm := fi.Mode().Perm(); {
	case perm&^allowed == 0:
	case s.readOnly:
		if warnings != nil {
			*warnings = append(*warnings, fmt.Sprintf(
				"The file %s is open to other users or executable (mode %04o); run enroll accept as its owner, or chmod %04o it, to close it.", path, perm, allowed))
		}
	default:
		if err := f.Chmod(allowed); err != nil {
			return nil, false, unavailable("restricting the mode of "+path, err)
		}
		if warnings != nil {
			*warnings = append(*warnings, fmt.Sprintf(
				"The file %s was open to other users or executable (mode %04o); its mode was set to %04o.", path, perm, allowed))
		}
	}
	data, err = io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, false, unavailable("reading "+path, err)
	}
	return data, true, nil
}

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("%w: %s is %s, not a regular file", flow.ErrStoreUnavailable, path, durable.Describe(m))
}

func isBlank(data []byte) bool { return len(bytes.TrimSpace(data)) == 0 }

// verdict says why data is unusable ("" when usable); blank marks an empty
// file that k treats as absent rather than corrupt.
func verdict(data []byte, k fileKind) (reason string, blank bool) {
	switch {
	case int64(len(data)) > k.limit:
		return fmt.Sprintf("it is larger than %d KiB", k.limit>>10), false
	case isBlank(data) && k.blankOK:
		return "", true
	case isBlank(data):
		return "it is empty", false
	}
	return k.check(data), false
}

// loadFile reads one file and reports whether it is usable (k.check has
// then decoded it). An unusable file is moved aside under the lock, after a
// second read, so that a file another enroll has just committed is never
// mistaken for the corrupt one it replaced.
func (s *Store) loadFile(path string, k fileKind, warnings *[]string) (bool, error) {
	warn := func(format string, a ...any) { *warnings = append(*warnings, fmt.Sprintf(format, a...)) }
	data, ok, err := s.readRegular(path, k.limit, warnings)
	if err != nil || !ok {
		return false, err
	}
	reason, blank := verdict(data, k)
	if reason == "" && !blank {
		return true, nil
	}
	if blank {
		warn("The %s %s is empty; %s.", k.label, path, k.consequence)
		return false, nil
	}
	if s.readOnly {
		warn("The %s %s cannot be used (%s); %s (enroll accept moves it aside).", k.label, path, reason, k.consequence)
		return false, nil
	}
	unlock, err := s.tryLock()
	if err != nil {
		warn("The %s %s cannot be used (%s); it was left in place because it could not be locked (%v), and %s.",
			k.label, path, reason, err, k.consequence)
		return false, nil
	}
	defer unlock()
	if data, ok, err = s.readRegular(path, k.limit, nil); err != nil || !ok {
		return false, err
	}
	if reason, blank = verdict(data, k); reason == "" && !blank {
		return true, nil
	} else if blank {
		warn("The %s %s is empty; %s.", k.label, path, k.consequence)
		return false, nil
	}
	aside, err := durable.MoveAside(s.fs, path, "corrupt", s.now())
	if aside == "" { // a failed directory sync after the rename still moved it
		warn("The %s %s cannot be used (%s); moving it aside failed (%v), so it was left in place, and %s.",
			k.label, path, reason, err, k.consequence)
		return false, nil
	}
	warn("The %s %s cannot be used (%s); it was moved to %s, and %s.", k.label, path, reason, aside, k.consequence)
	return false, nil
}
