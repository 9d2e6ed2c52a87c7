package persist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofrs/flock"

	"enroll/flow"
	"enroll/persist/durable"
)

// The enrollment lock is an advisory flock(2) on a separate, never-removed
// file: locking the credentials file itself would not survive its atomic
// replacement, and removing a lock file races with the next locker. The
// kernel drops the lock when the process dies, so a crash never leaves the
// device locked.
//
// newFlock opens the lock file the way durable.ReadFlags opens data files: no
// symlink following, and no hanging on a FIFO planted at its path.
func (s *Store) newFlock() *flock.Flock { return durable.NewLock(s.lockPath(), true) }

// acquire waits up to LockWait (and no longer than ctx) for the lock.
func (s *Store) acquire(ctx context.Context) (*flock.Flock, error) {
	wctx, cancel := context.WithTimeout(ctx, s.lockWait)
	defer cancel()
	fl := s.newFlock()
	start := time.Now()
	ok, err := fl.TryLockContext(wctx, lockRetry)
	switch {
	case ok:
		return fl, nil
	case errors.Is(ctx.Err(), context.Canceled):
		return nil, fmt.Errorf("%w: waiting for the lock %s: %w", flow.ErrInterrupted, s.lockPath(), ctx.Err())
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("%w: the lock %s is still held; the time limit (--timeout) ran out after %s of waiting: %w",
			flow.ErrBusy, s.lockPath(), time.Since(start).Round(100*time.Millisecond), ctx.Err())
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%w: the lock %s is still held after %s: %w", flow.ErrBusy, s.lockPath(), s.lockWait, err)
	}
	return nil, unavailable("taking the lock "+s.lockPath(), err)
}

// Release gives the lock back; calling it again does nothing.
func (s *Store) Release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		return nil
	}
	s.dropSpare() // nothing was journaled: declined, failed or cancelled
	// What this enrollment wrote under the lock is the state it knows.
	s.seen = s.fingerprint()
	err := s.held.Unlock()
	s.held = nil
	return err
}

// tryLock takes the enrollment lock without waiting, for a repair during
// Load; it is a no-op when Prepare already holds it.
func (s *Store) tryLock() (unlock func(), err error) {
	if s.held != nil {
		return func() {}, nil
	}
	fl := s.newFlock()
	ok, err := fl.TryLock()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("another enrollment is running")
	}
	return func() { _ = fl.Unlock() }, nil
}
