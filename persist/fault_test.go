package persist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"enroll/flow"
)

// failOp returns a fault that fails every op of that name with errno.
func failOp(op string, errno syscall.Errno) func(string, string) error {
	return func(o, _ string) error {
		if o == op {
			return errno
		}
		return nil
	}
}

func TestPrepareFails(t *testing.T) {
	for _, tt := range []struct {
		name       string
		fault      func(string, string) error
		noAllocate bool
		errno      syscall.Errno
	}{
		{"full disk", failOp("allocate", syscall.ENOSPC), false, syscall.ENOSPC},
		{"over quota", failOp("allocate", syscall.EDQUOT), false, syscall.EDQUOT},
		{"full disk without fallocate", failOp("write", syscall.ENOSPC), true, syscall.ENOSPC},
		{"sync fails without fallocate", failOp("sync", syscall.EIO), true, syscall.EIO},
		{"read-only", failOp("create", syscall.EROFS), false, syscall.EROFS},
		{"cannot create dir", failOp("mkdir", syscall.EACCES), false, syscall.EACCES},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultFS()
			f.NoAllocate = tt.noAllocate
			s := newStore(t, f)
			f.Set(tt.fault)
			err := s.Prepare(t.Context())
			if !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, tt.errno) {
				t.Fatalf("Prepare = %v; want ErrStoreUnavailable wrapping %v", err, tt.errno)
			}
			if dir := filepath.Dir(s.Path()); tt.name != "cannot create dir" && len(names(t, dir)) != 0 {
				t.Errorf("probe left behind: %q", names(t, dir))
			}
			f.Set(nil)
			mustPrepare(t, s) // the failed Prepare gave the lock back
		})
	}
}

// Prepare reserves the journal's file with fallocate where it can, and
// Journal fills that very file; where fallocate is missing, Prepare writes,
// syncs and removes a block instead, and Journal creates its own file.
func TestReserveWays(t *testing.T) {
	for _, tt := range []struct {
		noAllocate bool
		prepare    []string // what happened to temporary files in Prepare
		journal    []string // and then in Journal
	}{
		{false, []string{"create", "allocate"}, []string{"write", "fchmod", "sync", "close", "rename"}},
		{true, []string{"create", "allocate", "write", "sync", "close", "remove"}, []string{"create", "write", "fchmod", "sync", "close", "rename"}},
	} {
		t.Run(fmt.Sprintf("noAllocate=%v", tt.noAllocate), func(t *testing.T) {
			f := newFaultFS()
			f.NoAllocate = tt.noAllocate
			var ops []string
			f.Set(func(op, name string) error {
				if strings.Contains(filepath.Base(name), ".tmp-") {
					ops = append(ops, op)
				}
				return nil
			})
			s := newStore(t, f)
			mustPrepare(t, s)
			if !slices.Equal(ops, tt.prepare) {
				t.Errorf("Prepare did %q; want %q", ops, tt.prepare)
			}
			ops = nil
			if err := s.Journal(flow.Pending{Server: "https://x.example", Raw: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ops, tt.journal) {
				t.Errorf("Journal did %q; want %q", ops, tt.journal)
			}
			if n := names(t, filepath.Dir(s.Path())); !slices.Equal(n, []string{"credentials.json.pending"}) {
				t.Errorf("directory holds %q; want only the journal", n)
			}
		})
	}
}

// A reservation nobody used (the invitation was declined, the accept
// failed, the run was cancelled) is removed when the lock is given back.
func TestReleaseRemovesTheReservation(t *testing.T) {
	s := newStore(t, newFaultFS())
	mustPrepare(t, s)
	dir := filepath.Dir(s.Path())
	if n := names(t, dir); len(n) != 1 || !strings.HasPrefix(n[0], ".credentials.json.pending.tmp-") {
		t.Fatalf("after Prepare: %q; want the journal's reserved file", n)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if n := names(t, dir); len(n) != 0 {
		t.Errorf("after Release: %q; want nothing", n)
	}
}

// A real path whose parent is a regular file: MkdirAll fails with ENOTDIR,
// which root cannot override (unlike a 0500 directory).
func TestUnderARegularFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := Open(Options{Path: filepath.Join(file, "enroll", "credentials.json")})
	if err := s.Prepare(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Prepare = %v; want ErrStoreUnavailable wrapping ENOTDIR", err)
	}
	if _, err := s.Load(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) {
		t.Errorf("Load = %v; want ErrStoreUnavailable", err)
	}
}

func TestFullDiskAfterPrepare(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	f.Set(failOp("write", syscall.ENOSPC))
	err := s.Journal(flow.Pending{Raw: []byte(`{"clientSecret":"` + testSecret + `"}`)})
	if !errors.Is(err, flow.ErrNotStored) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Journal = %v; want ErrNotStored wrapping ENOSPC", err)
	}
	newer := testCreds()
	newer.ClientSecret = "another-secret"
	err = s.Save(newer)
	if !errors.Is(err, flow.ErrNotStored) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Save = %v; want ErrNotStored wrapping ENOSPC", err)
	}
	if err != nil && (strings.Contains(err.Error(), "another-secret") || strings.Contains(err.Error(), testSecret)) {
		t.Errorf("the error shows a secret: %v", err)
	}
	if got, _ := os.ReadFile(s.Path()); string(got) != wantFile {
		t.Errorf("the old credentials were damaged:\n%s", got)
	}
	if n := names(t, filepath.Dir(s.Path())); !slices.Equal(n, []string{"credentials.json"}) {
		t.Errorf("directory holds %q; want no temp files", n)
	}
}

// A rename that is not yet durable is not a commit: Save fails and keeps
// the journal, so the next run commits the answer again.
func TestSaveDirSyncFails(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	mustPrepare(t, s)
	if err := s.Journal(flow.Pending{Raw: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(s.Path())
	f.Set(func(op, name string) error {
		if op == "sync" && name == dir {
			return syscall.EIO
		}
		return nil
	})
	if err := s.Save(testCreds()); !errors.Is(err, flow.ErrNotStored) || !errors.Is(err, syscall.EIO) {
		t.Errorf("Save = %v; want ErrNotStored wrapping EIO", err)
	}
	if _, err := os.Lstat(s.JournalPath()); err != nil {
		t.Errorf("the journal is gone: %v", err)
	}
}

// Forget reports a removal that failed, and one that happened but was not
// made durable (a crash could bring the file back).
func TestForgetFails(t *testing.T) {
	for _, tt := range []struct {
		op      string
		errno   syscall.Errno
		remains bool
	}{
		{"remove", syscall.EROFS, true},
		{"sync", syscall.EIO, false},
	} {
		f := newFaultFS()
		s := newStore(t, f)
		mustPrepare(t, s)
		_ = s.Save(testCreds())
		_ = s.Release()
		f.Set(failOp(tt.op, tt.errno))
		if err := s.Forget(); !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, tt.errno) {
			t.Errorf("%s fails: Forget = %v; want ErrStoreUnavailable wrapping %v", tt.op, err, tt.errno)
		}
		if _, err := os.Lstat(s.Path()); (err == nil) != tt.remains {
			t.Errorf("%s fails: credentials remain = %v; want %v", tt.op, err == nil, tt.remains)
		}
	}
}

// A run killed during its accept call leaves its empty reservation behind;
// the next Prepare, holding the lock, removes such leftovers and keeps
// anything with content (an answer that never reached its rename).
func TestPrepareSweepsStaleTemporaries(t *testing.T) {
	s := newStore(t, newFaultFS())
	dir := filepath.Dir(s.Path())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		".credentials.json.pending.tmp-old": "",
		".credentials.json.tmp-old":         "",
		".credentials.json.probe-old":       "",
		".credentials.json.pending.tmp-raw": `{"clientSecret":"only copy"}`,
		".other.json.tmp-x":                 "",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustPrepare(t, s)
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	want := []string{".credentials.json.pending.tmp-raw", ".other.json.tmp-x"}
	if n := names(t, dir); !slices.Equal(n, want) {
		t.Errorf("after Prepare and Release: %q; want %q", n, want)
	}
}
