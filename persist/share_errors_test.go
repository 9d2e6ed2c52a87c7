package persist

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"enroll/flow"
	"enroll/persist/durable/faultfs"
)

// aGroup is a reader group this user may give files to: any as root, else
// the user's own.
func aGroup() string {
	if os.Geteuid() == 0 {
		return "54390"
	}
	return strconv.Itoa(os.Getegid())
}

// Each step by which Prepare proves the files can be shared as asked stops
// it when it fails, before the invitation is spent: the lock is given back
// and no temporary file is left.
func TestPrepareStopsAtEachSharingStep(t *testing.T) {
	for _, tt := range []struct {
		name       string
		group      string
		noAllocate bool
		rootOnly   bool // the directory must belong to another group first
		fault      func(dir string) func(string, string) error
		kind       error
		errno      error
	}{
		{name: "the group does not exist", group: "no-such-group-xyz", kind: flow.ErrUsage},
		{name: "the directory cannot be looked at again", group: "",
			fault: func(dir string) func(string, string) error {
				return faultfs.Nth(2, faultfs.On("stat", dir, syscall.EIO)) // the first is tightenDir's
			}, kind: flow.ErrStoreUnavailable, errno: syscall.EIO},
		{name: "the directory cannot be given to the group", group: aGroup(), rootOnly: true,
			fault: func(dir string) func(string, string) error { return faultfs.On("chown", dir, syscall.EPERM) },
			kind:  flow.ErrStoreUnavailable, errno: syscall.EPERM},
		{name: "the directory cannot be opened to the group", group: aGroup(),
			fault: func(dir string) func(string, string) error { return faultfs.On("chmod", dir, syscall.EROFS) },
			kind:  flow.ErrStoreUnavailable, errno: syscall.EROFS},
		{name: "no file can be made to prove the group", group: aGroup(), noAllocate: true,
			fault: func(dir string) func(string, string) error {
				return faultfs.Where("create", func(n string) bool { return strings.Contains(n, ".tmp-share-") }, syscall.EDQUOT)
			}, kind: flow.ErrStoreUnavailable, errno: syscall.EDQUOT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rootOnly && os.Geteuid() != 0 {
				t.Skip("needs root to give the directory to another group")
			}
			f := newFaultFS()
			f.NoAllocate = tt.noAllocate
			s := Open(Options{Path: filepath.Join(t.TempDir(), "enroll", "credentials.json"), ReaderGroup: tt.group, FS: f, Now: fixedNow})
			t.Cleanup(func() { _ = s.Release() })
			dir := filepath.Dir(s.Path())
			if tt.fault != nil {
				f.Set(tt.fault(dir))
			}
			err := s.Prepare(t.Context())
			if !errors.Is(err, tt.kind) || (tt.errno != nil && !errors.Is(err, tt.errno)) {
				t.Fatalf("Prepare = %v; want %v wrapping %v", err, tt.kind, tt.errno)
			}
			mustPrepare(t, sibling(t, s)) // the lock was given back
			if n := names(t, dir); len(n) != 1 || !strings.HasPrefix(n[0], ".credentials.json.pending.tmp-") {
				t.Errorf("left behind: %q; want only the sibling's reservation", n)
			}
		})
	}
}

// A reader group is named or numbered; a name is looked up.
func TestReaderGroupByName(t *testing.T) {
	var g *user.Group
	for gid := 1; gid < 1000 && g == nil; gid++ {
		g, _ = user.LookupGroupId(strconv.Itoa(gid))
	}
	if g == nil {
		t.Skip("no group below 1000 on this system")
	}
	want, _ := strconv.Atoi(g.Gid)
	for _, name := range []string{g.Name, g.Gid} {
		if gid, err := lookupGroup(name); err != nil || gid != want {
			t.Errorf("lookupGroup(%q) = %d, %v; want %d", name, gid, err, want)
		}
	}
}

// Sharing gives the files to a group and nothing else: the journal (in the
// file Prepare reserved and gave to the group and back) and the
// credentials keep this user as their owner.
func TestSharingKeepsTheOwner(t *testing.T) {
	s := Open(Options{Path: filepath.Join(t.TempDir(), "enroll", "credentials.json"), ReaderGroup: aGroup(), Now: fixedNow})
	t.Cleanup(func() { _ = s.Release() })
	mustPrepare(t, s)
	if err := s.Journal(flow.Pending{Server: testCreds().Server, Raw: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	owner := func(p string) int {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return ownerOf(fi)
	}
	if uid := owner(s.JournalPath()); uid != os.Geteuid() {
		t.Errorf("the journal belongs to uid %d, not %d", uid, os.Geteuid())
	}
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	if uid := owner(s.Path()); uid != os.Geteuid() {
		t.Errorf("the credentials belong to uid %d, not %d", uid, os.Geteuid())
	}
}

// Only a file of mode exactly 0640, owned by a group other than root's, is
// taken for a choice to share; any other is private, and stays or becomes
// 0600 when written again.
func TestOnlyTheSharedFormIsAChoice(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name string
		mode os.FileMode
		gid  int
	}{
		{"0600 of another group", 0o600, 100},
		{"0640 of root's group", 0o640, 0},
	} {
		path := filepath.Join(t.TempDir(), "enroll", "credentials.json")
		writeRaw(t, path, []byte(wantFile), tc.mode)
		if err := os.Chown(path, -1, tc.gid); err != nil {
			t.Fatal(err)
		}
		if err := saveWith(t, path, ""); err != nil {
			t.Fatal(err)
		}
		if mode, _ := statOf(t, path); mode != 0o600 {
			t.Errorf("%s: written %04o, want 0600", tc.name, mode)
		}
	}
}

// A store that shares with nobody never asks to change its directory's
// group: where chown is refused (a root-squashed NFS mount), it works.
func TestNoSharingNeedsNoChown(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	f.Set(func(op, _ string) error {
		if op == "chown" || op == "fchown" {
			return syscall.EPERM
		}
		return nil
	})
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Errorf("Save = %v", err)
	}
}

// The largest group number is a reader group; root's and one past the
// largest are not.
func TestReaderGroupNumbers(t *testing.T) {
	for name, ok := range map[string]bool{"1": true, strconv.Itoa(maxGID): true, strconv.Itoa(maxGID + 1): false, "0": false} {
		if _, err := lookupGroup(name); (err == nil) != ok {
			t.Errorf("lookupGroup(%s) = %v; want accepted %v", name, err, ok)
		}
	}
}

// Load leaves enroll's directory open to the reader group (0750) only when
// it belongs to the group the credentials are shared with; open to any
// other group, it is closed.
func TestLoadKeepsTheDirectoryOfTheSharing(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		dirGID   int
		wantMode os.FileMode
	}{
		{54390, 0o750},
		{0, 0o700},
	} {
		path := filepath.Join(t.TempDir(), "enroll", "credentials.json")
		if err := saveWith(t, path, "54390"); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Dir(path), -1, tc.dirGID); err != nil {
			t.Fatal(err)
		}
		snap, err := Open(Options{Path: path}).Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tightened := tc.wantMode == 0o700 // and said so
		if mode, _ := statOf(t, filepath.Dir(path)); mode != tc.wantMode || (len(snap.Warnings) > 0) != tightened {
			t.Errorf("directory of group %d: %04o, warnings %q; want %04o", tc.dirGID, mode, snap.Warnings, tc.wantMode)
		}
	}
}
