package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"enroll/api"
	"enroll/api/emulator"
	"enroll/api/emulator/emulatortest"
	"enroll/flow"
	"enroll/persist"
)

// These tests run the real api client, the real store and the real flow
// against the emulator over loopback HTTP, in a temporary directory; they
// cover what the end-to-end scripts cannot reach from outside the process:
// a disk that fills up at a chosen moment, and two enrollments at once.

func startEmulator(t *testing.T) *emulator.Running {
	t.Helper()
	return emulatortest.Start(t, emulator.Options{})
}

func newInvitation(t *testing.T, run *emulator.Running) emulator.Invitation {
	t.Helper()
	return emulatortest.Invite(t, run.Emulator, emulator.InvitationSpec{})
}

// failingFS is the real filesystem, except that renames onto the named
// files fail as on a full disk: the probe before accepting succeeds, the
// writes after it do not.
type failingFS struct {
	persist.OSFS
	fail map[string]bool // base names whose commit fails
}

func (f failingFS) Rename(oldpath, newpath string) error {
	if f.fail[filepath.Base(newpath)] {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.ENOSPC}
	}
	return f.OSFS.Rename(oldpath, newpath)
}

// testEnv is an env over buffers; the credentials live in dir.
func testEnv(dir string, fs persist.FS, stdin string) (env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	vars := map[string]string{"ENROLL_CREDENTIALS": filepath.Join(dir, "enroll", "credentials.json")}
	return env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv:   func(k string) string { return vars[k] },
		uid:      1000,
		hostname: func() (string, error) { return "lab-1", nil },
		fs:       fs,
	}, &out, &errOut
}

func TestDiskFullAfterAcceptRecoversFromJournal(t *testing.T) {
	run := startEmulator(t)
	inv := newInvitation(t, run)
	dir := t.TempDir()

	e, out, errOut := testEnv(dir, failingFS{fail: map[string]bool{"credentials.json": true}}, inv.Link)
	code := run1(e, "accept", "--token-file", "-", "--json")
	if code != flow.ExitUnknown {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, flow.ExitUnknown, errOut)
	}
	if !strings.Contains(errOut.String(), "credentials.json.pending") || !strings.Contains(errOut.String(), "run enroll again") {
		t.Errorf("stderr lacks the recovery path:\n%s", errOut)
	}
	assertNoSecrets(t, run, out.String()+errOut.String())
	if _, err := os.Stat(filepath.Join(dir, "enroll", "credentials.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a credentials file exists after a failed commit: %v", err)
	}

	// The disk has room again: the next run completes from the journal,
	// without an invitation and without calling the service.
	calls := run.Emulator.Calls(emulator.OpAccept)
	e, out, errOut = testEnv(dir, nil, "")
	if code := run1(e, "accept", "--json"); code != flow.ExitOK {
		t.Fatalf("recovery exit %d; stderr:\n%s", code, errOut)
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || !res.Recovered || res.Status != "enrolled" {
		t.Fatalf("recovery output %s (%v)", out, err)
	}
	if run.Emulator.Calls(emulator.OpAccept) != calls {
		t.Error("recovery called accept again")
	}
	assertStoredIsIssued(t, run, filepath.Join(dir, "enroll", "credentials.json"))
	if _, err := os.Stat(filepath.Join(dir, "enroll", "credentials.json.pending")); !errors.Is(err, os.ErrNotExist) {
		t.Error("journal left behind after recovery")
	}
}

func TestNothingWritableAfterAcceptShowsCredentialsOnce(t *testing.T) {
	run := startEmulator(t)
	inv := newInvitation(t, run)
	fs := failingFS{fail: map[string]bool{"credentials.json": true, "credentials.json.pending": true}}
	e, out, errOut := testEnv(t.TempDir(), fs, inv.Link)
	if code := run1(e, "accept", "--token-file", "-", "--json"); code != flow.ExitUnknown {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	clients := run.Emulator.Clients()
	if len(clients) != 1 {
		t.Fatalf("clients %d", len(clients))
	}
	secret := clients[0].ClientSecret
	if strings.Count(errOut.String(), secret) != 1 {
		t.Errorf("the secret must be shown exactly once on stderr:\n%s", errOut)
	}
	if strings.Contains(out.String(), secret) {
		t.Error("--json output holds the secret")
	}
}

func TestStoreNotWritableLeavesInvitationOpen(t *testing.T) {
	run := startEmulator(t)
	inv := newInvitation(t, run)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "enroll"), []byte("a file, not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _, errOut := testEnv(dir, nil, inv.Link)
	if code := run1(e, "accept", "--token-file", "-"); code != flow.ExitStore {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if st, _ := run.Emulator.Invitation(inv.Token); st.State != emulator.StateOpen || run.Emulator.Calls(emulator.OpAccept) != 0 {
		t.Fatalf("invitation %s, accept calls %d", st.State, run.Emulator.Calls(emulator.OpAccept))
	}
}

// loadBarrier holds every run after its Load until all have loaded, so the
// two enrollments below really are concurrent.
type loadBarrier struct {
	flow.Store
	wg *sync.WaitGroup
}

func (b loadBarrier) Load(ctx context.Context) (flow.Snapshot, error) {
	snap, err := b.Store.Load(ctx)
	b.wg.Done()
	b.wg.Wait()
	return snap, err
}

func TestTwoEnrollmentsAtOnceAcceptOnce(t *testing.T) {
	run := startEmulator(t)
	inv := newInvitation(t, run)
	path := filepath.Join(t.TempDir(), "enroll", "credentials.json")
	hc, err := api.NewHTTPClient(api.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i := range errs {
		done.Add(1)
		go func() {
			defer done.Done()
			st := loadBarrier{Store: persist.Open(persist.Options{Path: path}), wg: &wg}
			d := flow.Driver{Service: api.New(api.Options{HTTP: hc}), Store: st}
			_, errs[i] = flow.Run(context.Background(), d, flow.Config{}, flow.Script{Invitation: inv.Link, TrustLinkServer: true}, nil)
		}()
	}
	done.Wait()
	ok, busy := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, flow.ErrBusy):
			busy++
		default:
			t.Errorf("unexpected outcome: %v", err)
		}
	}
	if ok != 1 || busy != 1 {
		t.Errorf("outcomes: %d done, %d busy; want one of each", ok, busy)
	}
	if n := run.Emulator.Calls(emulator.OpAccept); n != 1 {
		t.Errorf("accept calls = %d, want exactly 1", n)
	}
	assertStoredIsIssued(t, run, path)
}

func run1(e env, args ...string) int {
	return run(context.Background(), args, e)
}

func assertNoSecrets(t *testing.T, run *emulator.Running, text string) {
	t.Helper()
	for _, c := range run.Emulator.Clients() {
		if strings.Contains(text, c.ClientSecret) {
			t.Error("output holds a client secret")
		}
	}
	for _, inv := range run.Emulator.Outbox() {
		if strings.Contains(text, inv.Token) {
			t.Error("output holds an invitation token")
		}
	}
}

func assertStoredIsIssued(t *testing.T, run *emulator.Running, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ ClientID, ClientSecret string }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Emulator.Clients() {
		if c.ClientID == f.ClientID && c.ClientSecret == f.ClientSecret {
			return
		}
	}
	t.Fatal("the stored credentials are not the ones the service issued")
}

func TestHostileNameRefusedBeforeAnythingIsSent(t *testing.T) {
	run := startEmulator(t)
	inv := newInvitation(t, run)
	for _, name := range []string{"x\x1b[2Jy", "a\u202eb", "zero\u200bwidth", strings.Repeat("n", 65), "   "} {
		e, out, errOut := testEnv(t.TempDir(), nil, inv.Link)
		if code := run1(e, "accept", "--token-file", "-", "--name", name); code != flow.ExitUsage {
			t.Errorf("name %q: exit %d; stderr:\n%s", name, code, errOut)
		}
		if strings.ContainsRune(out.String()+errOut.String(), 0x1b) {
			t.Errorf("name %q: an escape byte reached the output", name)
		}
	}
	if n := run.Emulator.Calls(emulator.OpAccept); n != 0 {
		t.Errorf("accept calls = %d, want 0", n)
	}
}

// A journal left by a failed commit is completed first; the invitation the
// command was given is then used only if it is another one.
func TestPendingJournalThenAnotherCommand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		same     bool // give the invitation the journal is for
		accepts  int  // accept calls after the first run
		declined bool
	}{
		{name: "accept the same invitation again", args: []string{"accept"}, same: true, accepts: 1},
		{name: "accept another invitation", args: []string{"accept"}, accepts: 2},
		{name: "decline another invitation", args: []string{"decline"}, accepts: 1, declined: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := startEmulator(t)
			first, second := newInvitation(t, run), newInvitation(t, run)
			dir := t.TempDir()
			e, _, errOut := testEnv(dir, failingFS{fail: map[string]bool{"credentials.json": true}}, first.Link)
			if code := run1(e, "accept", "--token-file", "-"); code != flow.ExitUnknown {
				t.Fatalf("first run exit %d:\n%s", code, errOut)
			}
			link := second.Link
			if tc.same {
				link = first.Link
			}
			e, out, errOut := testEnv(dir, nil, link)
			if code := run1(e, append(tc.args, "--token-file", "-", "--json")...); code != flow.ExitOK {
				t.Fatalf("second run exit %d:\n%s%s", code, out, errOut)
			}
			var res result
			if err := json.Unmarshal(out.Bytes(), &res); err != nil || !res.Recovered {
				t.Fatalf("output %s (%v)", out, err)
			}
			if n := run.Emulator.Calls(emulator.OpAccept); n != tc.accepts {
				t.Errorf("accept calls %d, want %d", n, tc.accepts)
			}
			st, _ := run.Emulator.Invitation(second.Token)
			if tc.declined != (st.State == emulator.StateDeclined) {
				t.Errorf("second invitation is %s", st.State)
			}
			assertStoredIsIssued(t, run, filepath.Join(dir, "enroll", "credentials.json"))
		})
	}
}
