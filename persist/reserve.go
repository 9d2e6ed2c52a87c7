package persist

import (
	"errors"
	"path/filepath"
	"strings"

	"enroll/persist/durable"
)

// Before an invitation is spent, Prepare proves that the journal can be
// written (DESIGN §5): otherwise the service would hand over a secret with
// nowhere to keep it. The proof is the journal's own temporary file,
// created now with its space reserved, which Journal later fills and
// renames into place. A probe that was written, synced and removed would
// cost a create, an fsync and an unlink (the unlink alone ≈ 0.4 ms on
// ext4), and would prove only that a block was free a moment ago.

// tempFile is a temporary file beside its destination, not yet renamed.
type tempFile struct {
	f    File
	name string
}

// dropSpare removes the reserved journal file if no journal took it.
// Callers hold s.mu.
func (s *Store) dropSpare() {
	if t := s.spare; t != nil {
		s.spare = nil
		_ = t.f.Close()
		_ = s.fs.Remove(t.name)
	}
}

// reserve creates the journal's temporary file and reserves probeSize bytes
// for it. Where the filesystem cannot reserve (no fallocate), it writes and
// syncs a block instead and removes the file again: space is then proven
// but not held, and Journal creates its file afresh.
func (s *Store) reserve() (*tempFile, error) {
	dir, jp := s.dir(), s.JournalPath()
	s.sweep()
	f, name, err := durable.CreateTemp(s.fs, dir, durable.TempPrefix(jp))
	if err != nil {
		return nil, unavailable("creating a file in "+dir, err)
	}
	t := &tempFile{f: f, name: name}
	err = errors.ErrUnsupported
	if a, ok := f.(Allocator); ok {
		err = a.Allocate(probeSize)
	}
	if err == nil {
		return t, nil
	}
	if errors.Is(err, errors.ErrUnsupported) {
		if _, err = f.Write(make([]byte, probeSize)); err == nil {
			err = f.Sync()
		}
	}
	cerr := f.Close()
	rerr := s.fs.Remove(name)
	if err = errors.Join(err, cerr, rerr); err != nil {
		return nil, unavailable("reserving space in "+dir, err)
	}
	return nil, nil
}

// sweep removes the empty temporary files of runs that were killed before
// they could remove their own (a reservation lives for the whole accept
// call). Only a run holding the lock makes them, so under the lock every
// one found is stale. A non-empty one is kept: it may hold an answer that
// never reached its rename, and that is evidence, like a corrupt file.
func (s *Store) sweep() {
	entries, err := s.fs.ReadDir(s.dir())
	if err != nil {
		return // not worth failing an enrollment over; Prepare proves the rest
	}
	base := filepath.Base(s.path)
	prefixes := []string{durable.TempPrefix(s.path), durable.TempPrefix(s.JournalPath()), "." + base + ".probe-"}
	for _, e := range entries {
		if !e.Type().IsRegular() || !hasAnyPrefix(e.Name(), prefixes) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Size() == 0 {
			_ = s.fs.Remove(filepath.Join(s.dir(), e.Name()))
		}
	}
}

func hasAnyPrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
