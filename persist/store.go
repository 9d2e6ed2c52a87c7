// Package persist is the credentials store of DESIGN §5: one versioned JSON
// file, written atomically and durably with mode 0600 in a 0700 directory;
// an advisory lock so that one enrollment runs at a time; and a journal that
// keeps the service's raw answer until it is committed.
//
// Files, for a store at <dir>/credentials.json:
//
//	credentials.json                 the credentials (public format)
//	credentials.json.pending         an answer received but not committed
//	credentials.json.corrupt-<time>  an unreadable file, moved aside, never deleted
//	credentials.json.pending.*-<time> an older or unreadable journal, likewise kept
//	.credentials.json.lock           the advisory lock (left in place on purpose)
package persist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"enroll/flow"
	"enroll/persist/durable"
)

// ErrPending is returned by Forget when an interrupted enrollment's answer
// is still journaled: forgetting then would strand a client the service
// already created. Running enroll again finishes it.
var ErrPending = flow.ErrPending

const (
	defaultLockWait = 10 * time.Second
	lockRetry       = 50 * time.Millisecond
	// probeSize is one filesystem block, which holds a journal: enough for
	// a full disk to refuse it, as it would refuse the journal.
	probeSize = 4096
)

// Options configure a Store. Only Path is required.
type Options struct {
	Path     string           // the credentials file; see DefaultPath
	LockWait time.Duration    // how long Prepare waits for another enrollment; 10s when zero
	Now      func() time.Time // clock for enrolledAt and moved-aside names; time.Now when nil
	FS       FS               // filesystem, for fault injection; OSFS when nil
	// ReaderGroup shares the credentials with a group (see share.go): its
	// name or number; "" keeps the sharing found on disk; ReaderGroupNone
	// ends it.
	ReaderGroup string
	// ReadOnly makes the store change nothing on disk, ever: Load reports
	// what it would otherwise repair (modes, unusable files) as warnings.
	// status, token and doctor open it so; Prepare then refuses.
	ReadOnly bool
	// Sealer unseals a sealed file, and seals writes when Seal asks it
	// to or the file on disk is sealed already; nil knows no TPM.
	Sealer Sealer
	Seal   SealMode
}

// Store is the credentials store; it satisfies flow.Store. Its methods may
// be called from different goroutines (Release from a signal handler, say).
type Store struct {
	path     string
	lockWait time.Duration
	now      func() time.Time
	fs       FS

	readerGroup string
	readOnly    bool
	gid         int // the reader group of what is written under the lock, or noGroup

	sealer   Sealer
	sealMode SealMode
	// sealedOnDisk: the file (or journal) Load found, or the last Save
	// wrote, is sealed. sealing: Prepare readied the key, so Journal and
	// Save seal.
	sealedOnDisk, sealing bool

	mu   sync.Mutex
	held *flock.Flock // the enrollment lock, from Prepare until Release
	// spare is the journal's temporary file, reserved by Prepare and
	// taken by the first Journal; nil where the filesystem cannot reserve.
	spare *tempFile
	// seen fingerprints the files as the last Load found them, so that
	// Prepare notices another enrollment that finished while this one
	// waited for the lock, instead of spending an invitation on a stale
	// picture of the device.
	seen string
}

var _ flow.Store = (*Store)(nil)

// Open returns a store for opts.Path. It touches nothing on disk: problems
// surface from Load and Prepare, where they can be classified.
func Open(opts Options) *Store {
	s := &Store{lockWait: opts.LockWait, now: opts.Now, fs: opts.FS, readerGroup: opts.ReaderGroup, readOnly: opts.ReadOnly, gid: noGroup, sealer: opts.Sealer, sealMode: opts.Seal}
	if opts.Path != "" {
		s.path = filepath.Clean(opts.Path)
	}
	if s.lockWait <= 0 {
		s.lockWait = defaultLockWait
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.fs == nil {
		s.fs = OSFS{}
	}
	return s
}

// Path is the credentials file.
func (s *Store) Path() string { return s.path }

// JournalPath is where an uncommitted answer is kept.
func (s *Store) JournalPath() string { return s.path + ".pending" }

// Present reports whether the credentials file and the journal exist,
// without reading either: a quick look, for questions to ask first.
func (s *Store) Present() (credentials, journal bool) {
	_, errC := s.fs.Stat(s.path)
	_, errJ := s.fs.Stat(s.JournalPath())
	return errC == nil, errJ == nil
}

func (s *Store) dir() string { return filepath.Dir(s.path) }

func (s *Store) lockPath() string {
	return filepath.Join(s.dir(), "."+filepath.Base(s.path)+".lock")
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", flow.ErrStoreUnavailable, what, err)
}

func notStored(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", flow.ErrNotStored, what, err)
}

var errNoPath = fmt.Errorf("%w: no credentials path is set (use --credentials)", flow.ErrStoreUnavailable)

// Prepare takes the enrollment lock and proves the store writable, before
// the invitation is spent (exit 6 rather than 7). The lock is held until
// Release.
func (s *Store) Prepare(ctx context.Context) error {
	if s.path == "" {
		return errNoPath
	}
	if s.readOnly {
		return errors.New("persist: Prepare on a read-only store")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil {
		return errors.New("persist: Prepare called again before Release")
	}
	dir := s.dir()
	if err := s.fs.MkdirAll(dir, 0o700); err != nil {
		return unavailable("creating the directory "+dir, err)
	}
	if _, err := s.tightenDir(dir); err != nil {
		return err
	}
	fl, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	if err := s.checkTargets(); err != nil {
		_ = fl.Unlock()
		return err
	}
	if s.seen != "" && s.fingerprint() != s.seen {
		_ = fl.Unlock()
		return fmt.Errorf("%w: another enrollment changed %s while this one waited; run enroll again to start from the new state", flow.ErrBusy, s.path)
	}
	if err := s.decideShare(); err != nil {
		_ = fl.Unlock()
		return err
	}
	if _, err := s.shareDir(); err != nil {
		_ = fl.Unlock()
		return err
	}
	// The TPM is proven before the invitation is spent, like the disk.
	if err := s.readySealer(ctx); err != nil {
		_ = fl.Unlock()
		return err
	}
	spare, err := s.reserve()
	if err != nil {
		_ = fl.Unlock()
		return err
	}
	if err := s.proveShare(spare); err != nil {
		if spare != nil {
			_ = spare.f.Close()
			_ = s.fs.Remove(spare.name)
		}
		_ = fl.Unlock()
		return err
	}
	s.held, s.spare = fl, spare
	return nil
}

// checkTargets refuses, before accepting, a credentials or journal path that
// Save or Journal could not replace (a directory, a FIFO, a symlink).
func (s *Store) checkTargets() error {
	for _, p := range []string{s.path, s.JournalPath()} {
		fi, err := s.fs.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return unavailable("checking "+p, err)
		case !fi.Mode().IsRegular():
			return notRegular(p, fi.Mode())
		}
	}
	return nil
}

// Journal keeps an accept answer on disk before it is parsed, so that a
// crash or a failed save cannot lose the only copy of a new client secret.
func (s *Store) Journal(p flow.Pending) error {
	jp := s.JournalPath()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		return fmt.Errorf("%w: journal %s: the store was not prepared", flow.ErrNotStored, jp)
	}
	data, err := encodeJournal(p, s.now(), s.writeSealer())
	if err != nil {
		return notStored("encoding the journal", err)
	}
	if len(data) > maxJournalSize {
		return fmt.Errorf("%w: the answer is too large to journal (%d bytes)", flow.ErrNotStored, len(data))
	}
	// An older journal is an answer that was never committed: keep it
	// beside the new one rather than overwrite the only copy.
	if _, err := s.fs.Lstat(jp); err == nil {
		if _, err := durable.MoveAside(s.fs, jp, "superseded", s.now()); err != nil {
			return notStored("moving the previous journal aside", err)
		}
	}
	// The journal holds the service's raw answer: it stays 0600, shared
	// with nobody; the licensed application reads the credentials file.
	if t := s.spare; t != nil {
		s.spare = nil
		err = durable.Fill(s.fs, t.f, t.name, jp, data, privateFile, noGroup)
	} else {
		err = durable.WriteFile(s.fs, jp, data, privateFile, noGroup)
	}
	if err != nil {
		return notStored("writing the journal", err)
	}
	return nil
}

// SetAside moves a journal whose answer cannot be used out of the way, so
// that it no longer blocks every later run, and returns where it went. It is
// kept, never deleted: it is the evidence support will ask for.
func (s *Store) SetAside() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		return "", fmt.Errorf("%w: setting the journal aside: the store was not prepared", flow.ErrNotStored)
	}
	return durable.MoveAside(s.fs, s.JournalPath(), "unreadable", s.now())
}

// Save commits the credentials atomically and durably, then removes the
// journal. A corrupt file in the way is moved aside first, never replaced.
func (s *Store) Save(c flow.Credentials) error {
	if f := missing(c.ID, c.ClientID, c.ClientSecret); f != "" {
		return fmt.Errorf("%w: the credentials have no %s", flow.ErrNotStored, f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		return fmt.Errorf("%w: save %s: the store was not prepared", flow.ErrNotStored, s.path)
	}
	data, err := encodeCredentials(c, s.now(), s.writeSealer())
	if err != nil {
		return notStored("encoding the credentials", err)
	}
	if err := s.preserveCorrupt(); err != nil {
		return notStored("keeping the unreadable file "+s.path, err)
	}
	if err := durable.WriteFile(s.fs, s.path, data, s.fileMode(), s.gid); err != nil {
		return notStored("writing "+s.path, err)
	}
	s.sealedOnDisk = s.sealing
	// The credentials are committed. Should removing the journal fail, the
	// next run finds it and commits the same answer again, which is
	// harmless; reporting "not stored" now would be false. For the same
	// reason the removal is not synced: a journal that a crash brings back
	// only repeats a commit, and the sync would cost as much as a write.
	_ = s.fs.Remove(s.JournalPath())
	s.dropSpare() // unused in a recovery: the journal was on disk already
	return nil
}

// preserveCorrupt moves an unreadable, non-empty credentials file aside
// before Save replaces it, in case Load could not (the lock was busy then).
func (s *Store) preserveCorrupt() error {
	data, ok, err := s.readRegular(s.path, maxCredentialsSize, nil)
	if err != nil || !ok {
		return err
	}
	var c *storedCreds
	if reason, _ := verdict(data, credentialsKind(&c)); reason == "" {
		return nil
	}
	_, err = durable.MoveAside(s.fs, s.path, "corrupt", s.now())
	return err
}

// Forget deletes the credentials file (only on this device: the service
// still knows the client). It refuses while a journal is pending.
func (s *Store) Forget() error {
	if s.path == "" {
		return errNoPath
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkForget(); err != nil {
		return err
	}
	if s.held == nil {
		fl, err := s.acquire(context.Background())
		if err != nil {
			return err
		}
		defer func() { _ = fl.Unlock() }()
	}
	// Checked again under the lock: an enrollment may have run meanwhile.
	if err := s.checkForget(); err != nil {
		return err
	}
	if err := s.fs.Remove(s.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s does not exist", flow.ErrNotEnrolled, s.path)
		}
		return unavailable("removing "+s.path, err)
	}
	if err := durable.SyncDir(s.fs, s.dir()); err != nil {
		return unavailable("syncing "+s.dir(), err)
	}
	return nil
}

func (s *Store) checkForget() error {
	// The journal first: with or without a file, it blocks forgetting,
	// and "not enrolled" would hide what blocks the next accept.
	if _, err := s.fs.Lstat(s.JournalPath()); err == nil {
		jp := s.JournalPath()
		return fmt.Errorf("%w: %s holds an answer that was never committed: run enroll accept to finish it, then forget; "+
			"if it cannot be finished here (sealed to another device's TPM), move it aside first, as root: mv -n %s %s",
			ErrPending, jp, shellArg(jp), shellArg(jp+".foreign"))
	}
	fi, err := s.fs.Lstat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s does not exist", flow.ErrNotEnrolled, s.path)
	case err != nil:
		return unavailable("checking "+s.path, err)
	case !fi.Mode().IsRegular():
		return notRegular(s.path, fi.Mode())
	}
	return nil
}

// fingerprint names the state of the credentials file and the journal:
// absent, or size and modification time. An atomic replace changes both.
func (s *Store) fingerprint() string {
	var b strings.Builder
	for _, p := range []string{s.path, s.JournalPath()} {
		fi, err := s.fs.Lstat(p)
		if err != nil {
			b.WriteString("absent;")
			continue
		}
		fmt.Fprintf(&b, "%d@%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}
