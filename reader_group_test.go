package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"enroll/api/emulator"
)

// Sharing with the licensed application (issue 12): enroll accept, run as
// root with --reader-group, makes the file 0640 and its directory 0750,
// group-owned; then a user in that group (the licensed application, as its
// own user) gets an access token with `enroll token`, `enroll status
// --verify` and the Python reader, a user outside it is told it cannot
// read the credentials, and none of these runs changes a mode, an owner
// or a name. A later accept without the flag keeps the sharing. The users
// are bare numbers: no account is created on the machine.

const (
	appUID, appGID = 54321, 54321 // the licensed application
	readersGID     = 54322        // the reader group
	strangerUID    = 54323        // someone else on the device
)

func TestReaderGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root, which this test needs to run processes as other users")
		}
		t.Skip("needs root, to run processes as other users")
	}
	x := newFx(t)
	// The other users must reach the binary and the files: the test's
	// directories are 0700 by default.
	exe := copyExecutable(t, x.dir)
	for d := x.dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gid := itoa(readersGID)
	inv := x.svc.invite(emulator.InvitationSpec{})
	x.exit(x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--reader-group", gid), 0, `Enrolled`)
	checkShared(t, x.creds, readersGID)
	before := stats(t, x.creds, filepath.Dir(x.creds))

	run := func(uid, gid uint32, groups []uint32, argv ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Args[0] = filepath.Base(argv[0])
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/", "ENROLL_CREDENTIALS=" + x.creds, "ENROLL_DEFAULTS=/nonexistent", "LANG=C.UTF-8"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: groups}}
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		x.record(out.String(), errOut.String())
		return code, out.String(), errOut.String()
	}
	enroll := func(args ...string) []string { return append([]string{exe}, args...) }
	client := x.svc.emu.Clients()[0]
	isToken := func(s string) bool {
		c, ok := x.svc.emu.ClientOfToken(strings.TrimSpace(s))
		return ok && c.ClientID == client.ClientID
	}

	if code, out, errOut := run(appUID, appGID, []uint32{readersGID}, enroll("token")...); code != 0 || !isToken(out) {
		t.Errorf("enroll token in the group: exit %d, %q\n%s", code, out, errOut)
	}
	if code, out, errOut := run(appUID, appGID, []uint32{readersGID}, enroll("status", "--verify")...); code != 0 || !strings.Contains(out, "verified") {
		t.Errorf("enroll status --verify in the group: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(appUID, appGID, []uint32{readersGID}, python3(), "examples/readers/token.py"); code != 0 || !isToken(out) {
		t.Errorf("the Python reader in the group: exit %d, %q\n%s", code, out, errOut)
	}
	for _, args := range [][]string{{"token"}, {"status"}} {
		code, _, errOut := run(strangerUID, strangerUID, nil, enroll(args...)...)
		if code != 4 || !strings.Contains(errOut, "This user cannot read this device's stored credentials") || !strings.Contains(errOut, "cannot be read by this user (permission denied)") {
			t.Errorf("enroll %s outside the group: exit %d\n%s", args[0], code, errOut)
		}
	}
	// root's read-only runs keep the chosen 0640 too.
	x.exit(x.run("status", "--verify"), 0, `verified`)
	x.exit(x.run("token"), 0)
	if after := stats(t, x.creds, filepath.Dir(x.creds)); after != before {
		t.Errorf("a read-only run changed the files:\n%s\nwas:\n%s", after, before)
	}
	// An interrupted enrollment's journal is root's alone (0600): members
	// cannot read it, and still get tokens with the stored credentials.
	journal := x.creds + ".pending"
	if err := os.WriteFile(journal, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(appUID, appGID, []uint32{readersGID}, enroll("token")...); code != 0 || !isToken(out) {
		t.Errorf("enroll token in the group, a journal pending: exit %d, %q\n%s", code, out, errOut)
	}
	if code, out, errOut := run(appUID, appGID, []uint32{readersGID}, python3(), "examples/readers/token.py"); code != 0 || !isToken(out) {
		t.Errorf("the Python reader in the group, a journal pending: exit %d, %q\n%s", code, out, errOut)
	}
	if err := os.Remove(journal); err != nil {
		t.Fatal(err)
	}
	// Another invitation, without the flag: the sharing is kept.
	inv2 := x.svc.invite(emulator.InvitationSpec{})
	x.exit(x.runIn(runOpts{stdin: inv2.Link}, "accept", "--token-file", "-"), 0, `already a device client`)
	checkShared(t, x.creds, readersGID)
	// none stops it.
	inv3 := x.svc.invite(emulator.InvitationSpec{})
	x.exit(x.runIn(runOpts{stdin: inv3.Link}, "accept", "--token-file", "-", "--reader-group", "none"), 0, `already a device client`)
	x.mode(x.creds, 0o600)
	x.mode(filepath.Dir(x.creds), 0o700)
	x.finish()
}

func checkShared(t *testing.T, file string, gid int) {
	t.Helper()
	for path, mode := range map[string]fs.FileMode{file: 0o640, filepath.Dir(file): 0o750} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != mode || int(st.Gid) != gid || st.Uid != 0 {
			t.Errorf("%s: mode %04o, owner %d:%d; want %04o root:%d", path, fi.Mode().Perm(), st.Uid, st.Gid, mode, gid)
		}
	}
}

// stats describes files by mode, owner, inode and modification time.
func stats(t *testing.T, paths ...string) string {
	t.Helper()
	var b strings.Builder
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		b.WriteString(p + " " + fi.Mode().String() + " " + itoa(int(st.Uid)) + ":" + itoa(int(st.Gid)) + " " + itoa(int(st.Ino)) + " " + fi.ModTime().Format(time.RFC3339Nano) + "\n")
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// copyExecutable copies the test binary where every user can run it.
func copyExecutable(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "bin", "enroll")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
