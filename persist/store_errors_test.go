package persist

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"enroll/flow"
	"enroll/persist/durable/faultfs"
)

// The store's promise, under faults: an answer or credentials already on
// disk are never lost to a failed step, and a failure is reported, never
// taken for success.

// A journal that cannot be moved aside is not overwritten: the earlier,
// uncommitted answer is the only copy of its secret.
func TestJournalKeepsTheOlderOneWhenItCannotMoveIt(t *testing.T) {
	for name, fail := range map[string]func(jp string) func(string, string) error{
		"the rename fails": func(jp string) func(string, string) error { return faultfs.On("rename", jp, syscall.EIO) },
		"checking the new name fails": func(jp string) func(string, string) error {
			return faultfs.On("lstat", jp+".superseded-20250304T050607Z", syscall.EACCES)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFaultFS()
			s := newStore(t, f)
			mustPrepare(t, s)
			if err := s.Journal(flow.Pending{Raw: []byte("first")}); err != nil {
				t.Fatal(err)
			}
			f.Set(fail(s.JournalPath()))
			err := s.Journal(flow.Pending{Raw: []byte("second")})
			if !errors.Is(err, flow.ErrNotStored) {
				t.Errorf("Journal = %v; want ErrNotStored", err)
			}
			f.Set(nil)
			snap, _ := sibling(t, s).Load(t.Context())
			if snap.Pending == nil || string(snap.Pending.Raw) != "first" {
				t.Errorf("the journal holds %+v; want the first answer, untouched", snap.Pending)
			}
			holds(t, s, "credentials.json.pending")
		})
	}
}

// Save moves an unreadable credentials file aside before replacing it. When
// it cannot look at it or move it, it saves nothing: the file stays as it
// was, for support to read.
func TestSaveKeepsAnUnreadableFileItCannotMoveAside(t *testing.T) {
	const corrupt = `{"version":1,"id":` // cut short
	for name, fail := range map[string]func(path string) func(string, string) error{
		"the rename fails": func(p string) func(string, string) error { return faultfs.On("rename", p, syscall.EIO) },
		"the new name is hidden": func(p string) func(string, string) error {
			return faultfs.On("lstat", p+".corrupt-20250304T050607Z", syscall.EIO)
		},
		"lstat fails": func(p string) func(string, string) error { return faultfs.On("lstat", p, syscall.EIO) },
		"open fails":  func(p string) func(string, string) error { return faultfs.On("open", p, syscall.EIO) },
		"the open file's stat fails": func(p string) func(string, string) error {
			return faultfs.On("fstat", p, syscall.EIO)
		},
		"reading fails": func(p string) func(string, string) error { return faultfs.On("read", p, syscall.EIO) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFaultFS()
			s := newStore(t, f)
			writeRaw(t, s.Path(), []byte(corrupt), 0o600)
			mustPrepare(t, s) // no Load: as when another run held the lock then
			f.Set(fail(s.Path()))
			err := s.Save(testCreds())
			if !errors.Is(err, flow.ErrNotStored) || !errors.Is(err, syscall.EIO) {
				t.Errorf("Save = %v; want ErrNotStored wrapping EIO", err)
			}
			if got, _ := os.ReadFile(s.Path()); string(got) != corrupt {
				t.Errorf("the unreadable file was replaced: %q", got)
			}
		})
	}
}

// A valid file in the way is simply replaced, and an unreadable one is
// kept aside under its own name, byte for byte.
func TestSavePreservesOnlyWhatIsUnreadable(t *testing.T) {
	s := newStore(t, nil)
	writeRaw(t, s.Path(), []byte("garbage"), 0o600)
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(s.Path() + ".corrupt-20250304T050607Z"); string(got) != "garbage" {
		t.Errorf("kept aside: %q", got)
	}
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	holds(t, s, "credentials.json", "credentials.json.corrupt-20250304T050607Z") // the valid one is not moved aside
}

// Creating the temporary file is the first step of every write; when it
// fails nothing is written and the failure is reported.
func TestWritesFailWhenNoTemporaryFileCanBeCreated(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	writeRaw(t, s.Path(), []byte(wantFile), 0o600)
	mustPrepare(t, s)
	dir := filepath.Dir(s.Path())
	f.Set(func(op, name string) error {
		if op == "create" && strings.HasPrefix(filepath.Base(name), ".credentials.json.") {
			return syscall.ENOSPC
		}
		return nil
	})
	newer := testCreds()
	newer.Name = "renamed"
	if err := s.Save(newer); !errors.Is(err, flow.ErrNotStored) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Save = %v; want ErrNotStored wrapping ENOSPC", err)
	}
	if err := s.Journal(flow.Pending{Raw: []byte("x")}); err != nil {
		t.Errorf("Journal into the reservation made by Prepare = %v", err)
	}
	if err := s.Journal(flow.Pending{Raw: []byte("y")}); !errors.Is(err, flow.ErrNotStored) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("second Journal = %v; want ErrNotStored wrapping ENOSPC", err)
	}
	if got, _ := os.ReadFile(s.Path()); string(got) != wantFile {
		t.Errorf("the credentials changed:\n%s", got)
	}
	_ = s.Release()
	f.Set(func(op, name string) error {
		if op == "create" && filepath.Dir(name) == dir && strings.Contains(name, ".pending.tmp-") {
			return syscall.EDQUOT
		}
		return nil
	})
	if err := s.Prepare(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, syscall.EDQUOT) {
		t.Errorf("Prepare = %v; want ErrStoreUnavailable wrapping EDQUOT", err)
	}
}

// Load fails, rather than taking the device for not enrolled, when a file
// is there but cannot be looked at or read; a file that is simply absent,
// or removed between the look and the open, is not there.
func TestLoadReportsWhatItCannotRead(t *testing.T) {
	for _, tt := range []struct {
		op    string
		errno syscall.Errno
		kind  error
	}{
		{"lstat", syscall.EIO, flow.ErrStoreUnavailable},
		{"lstat", syscall.EACCES, flow.ErrUnreadable},
		{"open", syscall.EIO, flow.ErrStoreUnavailable},
		{"open", syscall.EACCES, flow.ErrUnreadable},
		{"fstat", syscall.EIO, flow.ErrStoreUnavailable},
		{"read", syscall.EIO, flow.ErrStoreUnavailable},
		{"open", syscall.ENOENT, nil},
	} {
		for _, journal := range []bool{false, true} {
			f := newFaultFS()
			s := newStore(t, f)
			writeRaw(t, s.Path(), []byte(wantFile), 0o600)
			target := s.Path()
			if journal {
				mustPrepare(t, s)
				if err := s.Journal(flow.Pending{Raw: []byte("x")}); err != nil {
					t.Fatal(err)
				}
				_ = s.Release()
				target = s.JournalPath()
			}
			f.Set(faultfs.On(tt.op, target, tt.errno))
			snap, err := s.Load(t.Context())
			name := filepath.Base(target) + " " + tt.op + " " + tt.errno.Error()
			switch {
			case tt.kind == nil && (err != nil || (journal && snap.Pending != nil) || (!journal && snap.Existing != nil)):
				t.Errorf("%s: Load = %+v, %v; want the file taken for absent", name, snap, err)
			case tt.kind != nil && (!errors.Is(err, tt.kind) || !errors.Is(err, tt.errno)):
				t.Errorf("%s: Load = %v; want %v wrapping %v", name, err, tt.kind, tt.errno)
			}
			if got, _ := os.ReadFile(s.Path()); string(got) != wantFile {
				t.Errorf("%s: the credentials changed", name)
			}
		}
	}
}

// The directory that cannot be looked at: unreadable when permission is
// denied, unavailable otherwise.
func TestLoadReportsADirectoryItCannotCheck(t *testing.T) {
	for errno, kind := range map[syscall.Errno]error{syscall.EACCES: flow.ErrUnreadable, syscall.EIO: flow.ErrStoreUnavailable} {
		f := newFaultFS()
		s := newStore(t, f)
		writeRaw(t, s.Path(), []byte(wantFile), 0o600)
		f.Set(faultfs.On("stat", filepath.Dir(s.Path()), errno))
		if _, err := s.Load(t.Context()); !errors.Is(err, kind) || !errors.Is(err, errno) {
			t.Errorf("%v: Load = %v; want %v", errno, err, kind)
		}
	}
}

// A deadline that has passed is not an interruption: Load says so as it is.
func TestLoadPastItsDeadline(t *testing.T) {
	s := newStore(t, nil)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.Load(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, flow.ErrInterrupted) {
		t.Errorf("Load = %v; want DeadlineExceeded, not an interruption", err)
	}
}

// A repair Load cannot lock is left for later, with the real reason: a
// lock file that cannot be opened is not "another enrollment".
func TestLoadSaysWhyItCouldNotLock(t *testing.T) {
	s := newStore(t, nil)
	writeRaw(t, s.Path(), []byte("garbage"), 0o600)
	lock := filepath.Join(filepath.Dir(s.Path()), ".credentials.json.lock")
	if err := os.Symlink(filepath.Join(t.TempDir(), "elsewhere"), lock); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load(t.Context())
	if err != nil || len(snap.Warnings) != 1 {
		t.Fatalf("Load = %+v, %v", snap, err)
	}
	if w := snap.Warnings[0]; !strings.Contains(w, "could not be locked") || strings.Contains(w, "another enrollment is running") {
		t.Errorf("warning %q; want the lock file's own error", w)
	}
	if got, _ := os.ReadFile(s.Path()); !bytes.Equal(got, []byte("garbage")) {
		t.Errorf("the file was moved without the lock")
	}
}

// A corrupt file is read a second time under the lock before it is moved
// aside; when that read fails, Load says so and moves nothing.
func TestLoadReportsASecondReadThatFails(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	writeRaw(t, s.Path(), []byte("garbage"), 0o600)
	f.Set(faultfs.Nth(2, faultfs.On("open", s.Path(), syscall.EIO)))
	if _, err := s.Load(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, syscall.EIO) {
		t.Errorf("Load = %v; want ErrStoreUnavailable wrapping EIO", err)
	}
	holds(t, s, "credentials.json") // left in place
}

// A corrupt file that another run moved away between the first read and
// the second, under the lock, is simply gone: not reported as empty.
func TestLoadFindsTheCorruptFileGoneOnTheSecondRead(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	writeRaw(t, s.Path(), []byte("garbage"), 0o600)
	read := false // once read, the next look at it finds it gone
	f.Set(func(op, name string) error {
		switch {
		case name != s.Path():
		case op == "read":
			read = true
		case op == "lstat" && read:
			_ = os.Rename(s.Path(), s.Path()+".elsewhere")
		}
		return nil
	})
	snap, err := s.Load(t.Context())
	if err != nil || snap.Existing != nil || len(snap.Warnings) != 0 {
		t.Errorf("Load = %+v, %v; want nothing there and nothing to say", snap, err)
	}
}

// Forget looks again once it holds the lock: an enrollment that journaled
// an answer meanwhile must be finished, not have its credentials deleted.
func TestForgetLooksAgainUnderTheLock(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	_ = s.Release()
	looks := 0
	f.Set(func(op, name string) error {
		if op == "lstat" && name == s.Path() {
			// The first look, before the lock: an enrollment journals
			// an answer before Forget gets the lock.
			if looks++; looks == 1 {
				writeRaw(t, s.JournalPath(), []byte("{}"), 0o600)
			}
		}
		return nil
	})
	if err := s.Forget(); !errors.Is(err, ErrPending) {
		t.Errorf("Forget = %v; want ErrPending", err)
	}
	if _, err := os.Lstat(s.Path()); err != nil {
		t.Errorf("the credentials were deleted: %v", err)
	}
}
