package persist

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"enroll/flow"
	"enroll/persist/durable/faultfs"
)

// testTime is a fixed clock: moved-aside names and enrolledAt are then
// predictable.
var testTime = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func fixedNow() time.Time { return testTime }

const testSecret = "s3cr3t-DO-NOT-PRINT"

func testCreds() flow.Credentials {
	return flow.Credentials{
		Server:       "https://licensing.example.com",
		ID:           "dc-1",
		ClientID:     "client-1",
		ClientSecret: testSecret,
		Name:         "kiosk 7",
		EnrolledAt:   time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// newStore returns a store on a fresh temp dir; the path's directory does
// not exist yet.
func newStore(t testing.TB, fsys FS) *Store {
	t.Helper()
	s := Open(Options{
		Path:     filepath.Join(t.TempDir(), "enroll", "credentials.json"),
		LockWait: 100 * time.Millisecond,
		Now:      fixedNow,
		FS:       fsys,
	})
	t.Cleanup(func() { _ = s.Release() })
	return s
}

// sibling is a second store value on the same files, as another process.
func sibling(t testing.TB, s *Store) *Store {
	t.Helper()
	o := Open(Options{Path: s.Path(), LockWait: 100 * time.Millisecond, Now: fixedNow})
	t.Cleanup(func() { _ = o.Release() })
	return o
}

func mustPrepare(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Prepare(t.Context()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
}

// writeRaw puts bytes at the credentials path as a foreign writer would.
func writeRaw(t testing.TB, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // the umask may have narrowed it
		t.Fatal(err)
	}
}

// names lists dir, sorted, without the lock file (which stays on purpose).
func names(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Name() != ".credentials.json.lock" {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// holds checks that s's directory holds exactly want, sorted (the lock
// file aside).
func holds(t testing.TB, s *Store, want ...string) {
	t.Helper()
	if n := names(t, filepath.Dir(s.Path())); !slices.Equal(n, want) {
		t.Errorf("directory holds %q; want %q", n, want)
	}
}

func perm(t testing.TB, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// faultFS is the real filesystem with a fault at any operation (faultfs
// lists them), shared with durable's tests.
type faultFS = faultfs.FS

func newFaultFS() *faultFS { return &faultfs.FS{} }
