package durable

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/gofrs/flock"
)

// NewLock is an advisory flock(2) on path, opened the way ReadFlags open
// data files: never through a symlink, never hanging on a FIFO planted at
// its path. create makes a missing lock file, 0600.
func NewLock(path string, create bool) *flock.Flock {
	flag := os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	if create {
		flag |= os.O_CREATE
	}
	return flock.New(path, flock.SetFlag(flag), flock.SetPermissions(0o600))
}

// ErrLocked is a log another process holds; ErrNotRegular a path that is
// a directory, a FIFO or a device.
var (
	ErrLocked     = errors.New("in use by another process")
	ErrNotRegular = errors.New("not a regular file")
)

// Log is an append-only file of records, locked against a second writer,
// each record synced before Append returns: what it announces is on disk
// before the caller acts on it.
type Log struct {
	Path string
	mu   sync.Mutex
	f    *os.File
	lock *flock.Flock
}

// OpenLog opens (creating, 0600) and locks the log at path. A path that is
// a symlink, a FIFO or not a regular file is refused.
func OpenLog(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, err
	}
	l := &Log{Path: path, f: f}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		l.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	l.lock = NewLock(path, false)
	if ok, err := l.lock.TryLock(); err != nil || !ok {
		l.lock = nil
		l.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	return l, nil
}

// File is the open log, for reading it back and repairing its end.
func (l *Log) File() *os.File { return l.f }

// ReadAll reads the whole log from where the file offset is (the start,
// right after OpenLog).
func (l *Log) ReadAll() ([]byte, error) { return io.ReadAll(l.f) }

// Append writes one record and syncs it.
func (l *Log) Append(record []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(record); err != nil {
		return err
	}
	return l.f.Sync()
}

// Close unlocks and closes the log.
func (l *Log) Close() error {
	var errs []error
	if l.lock != nil {
		errs = append(errs, l.lock.Unlock())
	}
	if l.f != nil {
		errs = append(errs, l.f.Close())
	}
	return errors.Join(errs...)
}
