package persist

import (
	"errors"
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
		name  string
		fault func(string, string) error
		errno syscall.Errno
	}{
		{"full disk", failOp("write", syscall.ENOSPC), syscall.ENOSPC},
		{"read-only", failOp("create", syscall.EROFS), syscall.EROFS},
		{"sync fails", failOp("sync", syscall.EIO), syscall.EIO},
		{"cannot create dir", failOp("mkdir", syscall.EACCES), syscall.EACCES},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultFS()
			s := newStore(t, f)
			f.set(tt.fault)
			err := s.Prepare(t.Context())
			if !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, tt.errno) {
				t.Fatalf("Prepare = %v; want ErrStoreUnavailable wrapping %v", err, tt.errno)
			}
			if dir := filepath.Dir(s.Path()); tt.name != "cannot create dir" && len(names(t, dir)) != 0 {
				t.Errorf("probe left behind: %q", names(t, dir))
			}
			f.set(nil)
			mustPrepare(t, s) // the failed Prepare gave the lock back
		})
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
	f.set(failOp("write", syscall.ENOSPC))
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
	f.set(func(op, name string) error {
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

func TestForgetRemoveFails(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	mustPrepare(t, s)
	_ = s.Save(testCreds())
	_ = s.Release()
	f.set(failOp("remove", syscall.EROFS))
	if err := s.Forget(); !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, syscall.EROFS) {
		t.Errorf("Forget = %v; want ErrStoreUnavailable wrapping EROFS", err)
	}
}
