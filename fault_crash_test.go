package main

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/persist"
)

// Rows about enrollments that overlap or die: two at once, and a process
// killed (SIGKILL, which nothing can catch) at a point of the commit it
// reports itself, so the kill lands exactly there.

func crashRows() []faultRow {
	// killedAt runs accept in a separate process, kills it at point and
	// checks that it died there.
	killedAt := func(x *fx, point string, inv emulator.Invitation) {
		c := x.start(childOpts{gate: point + ":hang", stdin: inv.Link}, "accept", "--token-file", "-", "--verbose")
		c.waitMark("gate " + point)
		if err := c.cmd.Process.Kill(); err != nil {
			x.t.Fatal(err)
		}
		if r := c.wait(); r.code != -1 {
			x.t.Fatalf("exit %d; it was not killed", r.code)
		}
		x.state(inv, emulator.StateAccepted)
		x.leftovers = true // the dead process's temporary file, if it had one
	}
	// completes runs enroll again, with no invitation, and checks that it
	// finishes from the journal without calling the service.
	completes := func(x *fx) {
		calls := x.svc.emu.Calls(emulator.OpAccept)
		r := x.run("accept", "--json")
		x.exit(r, 0, `"recovered": true`, `"status": "enrolled"`)
		x.calls(emulator.OpAccept, calls)
		x.absent(x.creds + ".pending")
	}
	return []faultRow{
		{"two enrollments at once with the same invitation", "exactly one accept call: one run enrolls (exit 0), the other exits 6 \"another enrollment is running\"; the file is the complete new one",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				aProbing, bPreparing := make(chan struct{}), make(chan struct{})
				// A stops in its probe (creating the journal's reserved
				// file), holding the lock, until B has loaded the store and
				// begins to prepare (and so waits for the lock).
				var once sync.Once
				aFS := diskFS{fail: func(op, base string) error {
					if op == "create" && strings.HasPrefix(base, ".credentials.json.pending.tmp-") {
						once.Do(func() {
							close(aProbing)
							select {
							case <-bPreparing:
							case <-time.After(hangGuard):
							}
						})
					}
					return nil
				}}
				bFS := mkdirHook{f: func() { close(bPreparing) }}
				results := make(chan res, 1)
				go func() { results <- x.runIn(runOpts{fs: aFS, stdin: inv.Link}, "accept", "--token-file", "-") }()
				select {
				case <-aProbing:
				case <-time.After(hangGuard):
					t.Fatal("the first run never reached its probe")
				}
				b := x.runIn(runOpts{fs: &bFS, stdin: inv.Link}, "accept", "--token-file", "-")
				a := <-results
				x.exit(a, 0, `Enrolled`)
				x.exit(b, 6, `Another enrollment is running on this device`, `another enrollment changed .* while this one waited; run enroll again`)
				x.calls(emulator.OpAccept, 1)
				x.state(inv, emulator.StateAccepted)
				x.credsIssued()
			}},
		{"process killed after the answer was journaled, before the commit began", "no credentials file, the journal intact; the next run completes it without calling the service (exit 0, recovered)",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				killedAt(x, "commit-create", inv)
				x.noCreds()
				x.exists(x.creds + ".pending")
				completes(x)
				x.credsIssued()
			}},
		{"process killed with the new file written and synced, before its rename", "no credentials file (the temporary one is 0600); the next run completes from the journal",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				killedAt(x, "commit", inv)
				x.noCreds()
				for _, tmp := range x.glob(".credentials.json.tmp-*") {
					x.mode(tmp, 0o600)
				}
				completes(x)
				x.credsIssued()
			}},
		{"an enrolled device's process killed during its commit", "the old file intact byte for byte; the next run completes (same secret, new groups)",
			func(t *testing.T, x *fx) {
				old := x.enroll()
				inv := x.svc.invite(emulator.InvitationSpec{Groups: []string{emulator.GroupLab}})
				killedAt(x, "commit", inv)
				x.credsEqual(old)
				completes(x)
				x.credsIssued()
				if !bytes.Equal(secretOf(x.file()), secretOf(old)) {
					t.Error("the secret changed")
				}
				if c := x.svc.emu.Clients(); len(c) != 1 || len(c[0].Groups) != 2 {
					t.Errorf("clients %+v", c)
				}
			}},
		{"process killed after the answer arrived, before the journal was synced", "the one window no client can close: no credentials file and nothing half-read; the next run starts clean and the spent invitation is reported used (exit 3)",
			func(t *testing.T, x *fx) {
				inv := x.svc.invite(emulator.InvitationSpec{})
				killedAt(x, "journal", inv)
				x.noCreds()
				x.absent(x.creds + ".pending")
				x.exit(x.run("status"), 4, `not enrolled`)
				x.exit(x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-"), 3, `already been used`, `new invitation`)
				// What the dead process had: a 0600 temporary journal, in
				// the 0700 directory, for support to recover by hand.
				for _, tmp := range x.glob(".credentials.json.pending.tmp-*") {
					x.mode(tmp, 0o600)
				}
				x.mode(filepath.Dir(x.creds), 0o700)
			}},
	}
}

// mkdirHook runs f at the first MkdirAll: the start of Prepare, after Load.
type mkdirHook struct {
	persist.OSFS
	f    func()
	done bool
}

func (m *mkdirHook) MkdirAll(path string, perm fs.FileMode) error {
	if !m.done {
		m.done = true
		m.f()
	}
	return m.OSFS.MkdirAll(path, perm)
}
