package persist

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"enroll/flow"
)

// wantFile is the public format, byte for byte: licensed applications parse
// it, so a change here is a change of interface.
const wantFile = `{
  "version": 1,
  "server": "https://licensing.example.com",
  "id": "dc-1",
  "clientId": "client-1",
  "clientSecret": "s3cr3t-DO-NOT-PRINT",
  "name": "kiosk 7",
  "enrolledAt": "2025-01-02T03:04:05Z"
}
`

func TestSaveFormatAndModes(t *testing.T) {
	s := newStore(t, nil)
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != wantFile {
		t.Errorf("file =\n%s\nwant\n%s", got, wantFile)
	}
	if m := perm(t, s.Path()); m != 0o600 {
		t.Errorf("file mode %04o, want 0600", m)
	}
	if m := perm(t, filepath.Dir(s.Path())); m != 0o700 {
		t.Errorf("dir mode %04o, want 0700", m)
	}
	snap, err := sibling(t, s).Load(t.Context())
	if err != nil || snap.Existing == nil || *snap.Existing != testCreds() || len(snap.Warnings) != 0 {
		t.Errorf("Load = %+v, %v; want the saved credentials and no warnings", snap, err)
	}
}

func TestSaveDefaultsEnrolledAt(t *testing.T) {
	s := newStore(t, nil)
	mustPrepare(t, s)
	c := testCreds()
	c.EnrolledAt = time.Time{}
	if err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load(t.Context())
	if err != nil || snap.Existing == nil || !snap.Existing.EnrolledAt.Equal(testTime) {
		t.Fatalf("Load = %+v, %v; want enrolledAt %v", snap.Existing, err, testTime)
	}
}

func TestSaveReplacesAtomically(t *testing.T) {
	s := newStore(t, nil)
	old := testCreds()
	old.Name = string(bytes.Repeat([]byte("long old name "), 50))
	mustPrepare(t, s)
	if err := s.Save(old); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(s.Path())
	if string(got) != wantFile {
		t.Errorf("after replace the file is\n%s", got)
	}
	if n := names(t, filepath.Dir(s.Path())); !slices.Equal(n, []string{"credentials.json"}) {
		t.Errorf("directory holds %q; want only credentials.json (no temp or probe files)", n)
	}
}

func TestSaveValidates(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*flow.Credentials)
		field string
	}{
		{"no id", func(c *flow.Credentials) { c.ID = "" }, "id"},
		{"no clientId", func(c *flow.Credentials) { c.ClientID = " " }, "clientId"},
		{"no secret", func(c *flow.Credentials) { c.ClientSecret = "" }, "clientSecret"},
		// What would not read back as given is not written: JSON cannot
		// carry invalid UTF-8, and Load refuses a file over 64 KiB.
		{"a secret of invalid UTF-8", func(c *flow.Credentials) { c.ClientSecret = "s3cr\xffet" }, "would not read back as they are: a value is not valid UTF-8"},
		{"a name of invalid UTF-8", func(c *flow.Credentials) { c.Name = "lab\xc3" }, "would not read back"},
		{"a name of 100 KiB", func(c *flow.Credentials) { c.Name = strings.Repeat("n", 100<<10) }, "more than a credentials file may hold"},
		{"no server", func(c *flow.Credentials) { c.Server = "" }, "would not read back as they are: it has no server"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			mustPrepare(t, s)
			c := testCreds()
			tt.edit(&c)
			err := s.Save(c)
			if !errors.Is(err, flow.ErrNotStored) || !bytes.Contains([]byte(err.Error()), []byte(tt.field)) {
				t.Fatalf("Save = %v; want ErrNotStored naming %s", err, tt.field)
			}
			if _, err := os.Lstat(s.Path()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was written: %v", err)
			}
		})
	}
}

func TestLifecycleMisuse(t *testing.T) {
	s := newStore(t, nil)
	if err := s.Save(testCreds()); !errors.Is(err, flow.ErrNotStored) {
		t.Errorf("Save before Prepare = %v; want ErrNotStored", err)
	}
	if err := s.Journal(flow.Pending{Raw: []byte("x")}); !errors.Is(err, flow.ErrNotStored) {
		t.Errorf("Journal before Prepare = %v; want ErrNotStored", err)
	}
	mustPrepare(t, s)
	if err := s.Prepare(t.Context()); err == nil {
		t.Error("second Prepare without Release succeeded")
	}
	for range 2 {
		if err := s.Release(); err != nil {
			t.Errorf("Release: %v", err)
		}
	}
	mustPrepare(t, s) // the lock really was given back
	if err := Open(Options{}).Prepare(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) {
		t.Errorf("Prepare without a path = %v; want ErrStoreUnavailable", err)
	}
}

func TestConcurrentPrepare(t *testing.T) {
	a := newStore(t, nil)
	b := sibling(t, a)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() { errs[i] = s.Prepare(t.Context()) })
	}
	wg.Wait() // the winner holds the lock until both returned: no timing luck
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, flow.ErrBusy):
			t.Errorf("Prepare %d = %v; want nil or ErrBusy", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d Prepare calls succeeded (%v); want exactly 1", won, errs)
	}
	_ = a.Release()
	_ = b.Release()
	mustPrepare(t, b)
}

func TestJournalCrashAndRecovery(t *testing.T) {
	a := newStore(t, nil)
	mustPrepare(t, a)
	existing := testCreds()
	p := flow.Pending{
		Server:     "https://licensing.example.com",
		Name:       "kiosk 7",
		Raw:        []byte("{\"clientSecret\":\"x\"}\x00\xff not even UTF-8"),
		ReceivedAt: time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC),
		Existing:   &existing,
	}
	if err := a.Journal(p); err != nil {
		t.Fatalf("Journal: %v", err)
	}
	if m := perm(t, a.JournalPath()); m != 0o600 {
		t.Errorf("journal mode %04o, want 0600", m)
	}
	// "Crash": a new process finds the journal; a did not Release.
	b := sibling(t, a)
	snap, err := b.Load(t.Context())
	if err != nil || snap.Pending == nil {
		t.Fatalf("Load = %+v, %v; want the pending answer", snap, err)
	}
	got := *snap.Pending
	if !bytes.Equal(got.Raw, p.Raw) || got.Server != p.Server || got.Name != p.Name ||
		!got.ReceivedAt.Equal(p.ReceivedAt) || got.Existing == nil || *got.Existing != existing {
		t.Errorf("Pending = %+v; want %+v", got, p)
	}
	_ = a.Release() // what the kernel does when a process dies
	mustPrepare(t, b)
	if err := b.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	if n := names(t, filepath.Dir(b.Path())); !slices.Equal(n, []string{"credentials.json"}) {
		t.Errorf("after Save the directory holds %q; want the journal gone", n)
	}
}

func TestJournalKeepsAnOlderOne(t *testing.T) {
	s := newStore(t, nil)
	mustPrepare(t, s)
	for _, raw := range []string{"first", "second"} {
		if err := s.Journal(flow.Pending{Raw: []byte(raw)}); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(s.JournalPath() + ".superseded-20250304T050607Z")
	if err != nil || !bytes.Contains(old, []byte(`"Zmlyc3Q="`)) { // base64("first")
		t.Errorf("the older journal was not kept aside: %q, %v", old, err)
	}
	snap, _ := sibling(t, s).Load(t.Context())
	if snap.Pending == nil || string(snap.Pending.Raw) != "second" {
		t.Errorf("Pending = %+v; want the second answer", snap.Pending)
	}
}

func TestForget(t *testing.T) {
	for _, tt := range []struct {
		name    string
		setup   func(t *testing.T, s *Store)
		want    error
		remains bool
	}{
		{"enrolled", func(t *testing.T, s *Store) {
			mustPrepare(t, s)
			_ = s.Save(testCreds())
			_ = s.Release()
		}, nil, false},
		{"while prepared", func(t *testing.T, s *Store) {
			mustPrepare(t, s)
			_ = s.Save(testCreds())
		}, nil, false},
		{"not enrolled", func(*testing.T, *Store) {}, flow.ErrNotEnrolled, false},
		{"pending journal", func(t *testing.T, s *Store) {
			mustPrepare(t, s)
			_ = s.Save(testCreds())
			_ = s.Journal(flow.Pending{Raw: []byte("{}")})
			_ = s.Release()
		}, ErrPending, true},
		{"not a file", func(t *testing.T, s *Store) {
			_ = os.MkdirAll(s.Path(), 0o700)
		}, flow.ErrStoreUnavailable, true},
		{"busy", func(t *testing.T, s *Store) {
			mustPrepare(t, s)
			_ = s.Save(testCreds())
			_ = s.Release()
			mustPrepare(t, sibling(t, s)) // another process is enrolling
		}, flow.ErrBusy, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			tt.setup(t, s)
			err := s.Forget()
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Forget = %v; want %v", err, tt.want)
			}
			if _, err := os.Lstat(s.Path()); (err == nil) != tt.remains {
				t.Errorf("credentials remain = %v; want %v", err == nil, tt.remains)
			}
		})
	}
}

func TestPrepareRefusesBadTargets(t *testing.T) {
	for _, target := range []string{"credentials.json", "credentials.json.pending"} {
		t.Run(target, func(t *testing.T) {
			s := newStore(t, nil)
			bad := filepath.Join(filepath.Dir(s.Path()), target)
			if err := os.MkdirAll(bad, 0o700); err != nil {
				t.Fatal(err)
			}
			err := s.Prepare(t.Context())
			if !errors.Is(err, flow.ErrStoreUnavailable) || !bytes.Contains([]byte(err.Error()), []byte(bad)) {
				t.Fatalf("Prepare = %v; want ErrStoreUnavailable naming %s", err, bad)
			}
			unlock, err := sibling(t, s).tryLock()
			if err != nil {
				t.Fatalf("the failed Prepare kept the lock: %v", err)
			}
			unlock()
		})
	}
}

// The lock file is opened as the data files are: a symbolic link planted
// at its path is refused (and its target never created), and a FIFO there
// does not hang the run.
func TestPrepareRefusesPlantedLockFile(t *testing.T) {
	for _, plant := range []string{"symlink", "fifo"} {
		t.Run(plant, func(t *testing.T) {
			s := newStore(t, nil)
			dir := filepath.Dir(s.Path())
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			lock := filepath.Join(dir, ".credentials.json.lock")
			target := filepath.Join(t.TempDir(), "elsewhere")
			switch plant {
			case "symlink":
				if err := os.Symlink(target, lock); err != nil {
					t.Fatal(err)
				}
			case "fifo":
				if err := syscall.Mkfifo(lock, 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			}
			done := make(chan error, 1)
			go func() { done <- s.Prepare(t.Context()) }()
			select {
			case err := <-done:
				if plant == "symlink" && !errors.Is(err, flow.ErrStoreUnavailable) {
					t.Errorf("Prepare = %v; want ErrStoreUnavailable", err)
				}
				if err == nil {
					_ = s.Release()
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Prepare hangs on a planted lock file") // a guard, not a timing assertion
			}
			if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the link's target was touched: %v", err)
			}
		})
	}
}

func TestPrepareInterrupted(t *testing.T) {
	s := newStore(t, nil)
	mustPrepare(t, sibling(t, s)) // someone else holds the lock
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Prepare(ctx); !errors.Is(err, flow.ErrInterrupted) {
		t.Errorf("Prepare = %v; want ErrInterrupted", err)
	}
}

// A run that loaded the store, then waited for the lock while another
// enrollment committed, must not go on with what it loaded.
func TestPrepareNoticesChangeWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "enroll", "credentials.json")
	first, second := Open(Options{Path: path}), Open(Options{Path: path})
	if _, err := second.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := first.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := first.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	err := second.Prepare(t.Context())
	if !errors.Is(err, flow.ErrBusy) {
		t.Fatalf("Prepare after another commit = %v, want ErrBusy", err)
	}
	// The first store may prepare again: what changed, it changed itself.
	if err := first.Prepare(t.Context()); err != nil {
		t.Fatalf("Prepare again by the same store: %v", err)
	}
	_ = first.Release()
	// A fresh Load starts from the new state.
	if _, err := second.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := second.Prepare(t.Context()); err != nil {
		t.Fatalf("Prepare after a new Load: %v", err)
	}
	_ = second.Release()
}
