package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"enroll/api/emulator"
	"enroll/persist"
)

// Rows about the credentials store: its directory and file, and a disk
// that is read-only or full before or after the invitation is spent
// (env.fs, the store's filesystem, is where those faults are injected).

func storeRows() []faultRow {
	open := emulator.StateOpen
	// notUsed asserts a failure before the invitation was spent.
	notUsed := func(x *fx, inv emulator.Invitation, r res, patterns ...string) {
		x.exit(r, 6, append([]string{`cannot be written, so the invitation was not used`, `Fix the directory`}, patterns...)...)
		x.calls(emulator.OpAccept, 0)
		x.state(inv, open)
	}
	accept := func(x *fx, o runOpts) (emulator.Invitation, res) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		o.stdin = inv.Link
		return inv, x.runIn(o, "accept", "--token-file", "-")
	}
	mkdir := func(x *fx, dir string, mode fs.FileMode) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			x.t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			x.t.Fatal(err)
		}
	}
	write := func(x *fx, data string) {
		mkdir(x, filepath.Dir(x.creds), 0o700)
		if err := os.WriteFile(x.creds, []byte(data), 0o600); err != nil {
			x.t.Fatal(err)
		}
	}
	return []faultRow{
		{"credentials directory missing", "created 0700 (file 0600); exit 0, the complete file",
			func(t *testing.T, x *fx) {
				x.creds = filepath.Join(x.dir, "var", "lib", "enroll", "credentials.json")
				inv, r := accept(x, runOpts{})
				x.exit(r, 0, `Enrolled`)
				x.mode(filepath.Dir(x.creds), 0o700)
				x.credsIssued()
				x.state(inv, emulator.StateAccepted)
			}},
		{"enroll's own directory open to others (0755)", "tightened to 0700 with a warning; exit 0",
			func(t *testing.T, x *fx) {
				mkdir(x, filepath.Dir(x.creds), 0o755)
				_, r := accept(x, runOpts{})
				x.exit(r, 0, `warning: The directory .*enroll was open to other users \(mode 0755\); its mode was set to 0700`)
				x.mode(filepath.Dir(x.creds), 0o700)
				x.credsIssued()
			}},
		{"another directory open to others (--credentials ~/creds.json)", "its mode left alone, with a warning; the file 0600; exit 0",
			func(t *testing.T, x *fx) {
				x.creds = filepath.Join(x.dir, "home", "credentials.json")
				mkdir(x, filepath.Dir(x.creds), 0o755)
				_, r := accept(x, runOpts{})
				x.exit(r, 0, `not enroll's own directory, so its mode was left unchanged`)
				x.mode(filepath.Dir(x.creds), 0o755)
				x.credsIssued()
			}},
		{"a directory every user may write (0777, no sticky bit)", "exit 6 before accepting: \"others could replace the credentials file\"; invitation unused",
			func(t *testing.T, x *fx) {
				x.creds = filepath.Join(x.dir, "shared", "credentials.json")
				mkdir(x, filepath.Dir(x.creds), 0o777)
				inv, r := accept(x, runOpts{})
				notUsed(x, inv, r, `writable by every user`)
				x.noCreds()
			}},
		{"credentials file 0644", "status warns and changes nothing; the next accept tightens it to 0600, its content unchanged",
			func(t *testing.T, x *fx) {
				old := x.enroll()
				if err := os.Chmod(x.creds, 0o644); err != nil {
					t.Fatal(err)
				}
				x.exit(x.run("status"), 0, `mode 0644\); run enroll accept as its owner, or chmod 0600 it`, `This device is a device client`)
				x.mode(x.creds, 0o644)
				x.credsEqual(old)
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.exit(x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-"), 0, `mode 0644\); its mode was set to 0600`)
				x.mode(x.creds, 0o600)
			}},
		{"credentials path is a directory", "exit 6 \"is a directory, not a regular file\" before accepting; invitation unused",
			func(t *testing.T, x *fx) {
				mkdir(x, x.creds, 0o700)
				inv, r := accept(x, runOpts{})
				notUsed(x, inv, r, `credentials\.json is a directory, not a regular file`)
			}},
		{"credentials path is a FIFO", "exit 6 \"a named pipe\" at once (never opened, never blocks); invitation unused",
			func(t *testing.T, x *fx) {
				mkdir(x, filepath.Dir(x.creds), 0o700)
				if err := syscall.Mkfifo(x.creds, 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
				inv, r := accept(x, runOpts{})
				notUsed(x, inv, r, `a named pipe \(FIFO\)`)
			}},
		{"credentials path is a symbolic link", "exit 6 \"a symbolic link\"; the link's target untouched; invitation unused",
			func(t *testing.T, x *fx) {
				mkdir(x, filepath.Dir(x.creds), 0o700)
				target := filepath.Join(x.dir, "elsewhere.json")
				if err := os.Symlink(target, x.creds); err != nil {
					t.Fatal(err)
				}
				inv, r := accept(x, runOpts{})
				notUsed(x, inv, r, `a symbolic link`)
				x.absent(target)
			}},
		{"read-only filesystem before accepting", "exit 6 (the probe fails), invitation unused, no file",
			func(t *testing.T, x *fx) {
				mkdir(x, filepath.Dir(x.creds), 0o700)
				inv, r := accept(x, runOpts{fs: diskFS{fail: func(op, base string) error {
					if op == "create" || op == "chmod" || op == "mkdir" {
						return syscall.EROFS
					}
					return nil
				}}})
				notUsed(x, inv, r, `read-only file system`)
				x.noCreds()
			}},
		{"full filesystem before accepting", "exit 6 (the probe's block cannot be reserved), invitation unused, no file",
			func(t *testing.T, x *fx) {
				inv, r := accept(x, runOpts{fs: diskFS{fail: func(op, base string) error {
					if op == "write" || op == "allocate" {
						return syscall.ENOSPC
					}
					return nil
				}}})
				notUsed(x, inv, r, `no space left on device`)
				x.noCreds()
			}},
		{"full filesystem after accepting (the journal fits, the file does not)", "exit 7 naming credentials.json.pending and \"run enroll again\"; status points to it, forget leaves it; the next run completes from the journal without calling the service",
			func(t *testing.T, x *fx) {
				inv, r := accept(x, runOpts{fs: diskFS{fail: func(op, base string) error {
					if op == "write" && strings.HasPrefix(base, ".credentials.json.tmp-") {
						return syscall.ENOSPC
					}
					return nil
				}}})
				x.exit(r, 7, `credentials could not be stored`, `kept in .*credentials\.json\.pending\.`, `run enroll again: it completes the enrollment from the journal`, `no space left`)
				x.state(inv, emulator.StateAccepted)
				x.noCreds()
				x.exists(x.creds + ".pending")
				x.exit(x.run("status"), 4, `an interrupted enrollment is waiting in .*credentials\.json\.pending; run .enroll accept. to complete it`)
				// forget refuses: the journal, not a missing file, is what
				// stands in the way.
				x.exit(x.run("forget"), 7, `never committed: run enroll accept to finish it, then forget`)
				x.exists(x.creds + ".pending")
				// Still full: the recovery fails, and says nothing of having
				// completed anything.
				still := x.runIn(runOpts{fs: diskFS{fail: func(op, base string) error {
					if op == "write" && strings.HasPrefix(base, ".credentials.json.tmp-") {
						return syscall.ENOSPC
					}
					return nil
				}}}, "accept")
				x.exit(still, 7, `credentials could not be stored`)
				x.lacks(still, `first completed`, `Completed an enrollment`)
				x.exists(x.creds + ".pending")
				done := x.run("accept", "--json")
				x.exit(done, 0, `"recovered": true`, `"status": "enrolled"`)
				x.calls(emulator.OpAccept, 1)
				x.credsIssued()
				x.absent(x.creds + ".pending")
			}},
		{"filesystem turns read-only after accepting (neither journal nor file)", "exit 7; the new credentials shown once on stderr, with what to do — never on stdout or in --json",
			func(t *testing.T, x *fx) {
				// Prepare only creates (and reserves) the journal's file:
				// from the accept on, nothing can be written or created.
				inv, r := accept(x, runOpts{vars: map[string]string{"ENROLL_JSON": "true"}, fs: diskFS{fail: func(op, base string) error {
					if op == "write" || (op == "create" && !strings.HasPrefix(base, ".credentials.json.pending.tmp-")) {
						return syscall.EROFS
					}
					return nil
				}}})
				x.exit(r, 7, `COULD NOT BE STORED\. They are shown once`, `copy it now`, `"kind": "not-stored"`)
				x.state(inv, emulator.StateAccepted)
				x.noCreds()
				secret := x.svc.emu.Clients()[0].ClientSecret
				x.shownOnce = secret
				if strings.Contains(r.out, secret) || !strings.Contains(r.err, "clientSecret  "+secret) {
					t.Error("the secret must be on stderr, once, and not in the JSON")
				}
			}},
		{"empty credentials file", "a warning, treated as not enrolled; exit 0 with the complete file",
			func(t *testing.T, x *fx) {
				write(x, "")
				_, r := accept(x, runOpts{})
				x.exit(r, 0, `is empty; this device is treated as not enrolled`, `Enrolled`)
				x.credsIssued()
			}},
		{"corrupt credentials file", "moved aside to credentials.json.corrupt-<time> byte for byte, with a warning; exit 0 with the complete file",
			func(t *testing.T, x *fx) {
				write(x, `{"version":1,"clientId":"abc","clientSecret":"half-a-secret-9f8e`)
				x.also("half-a-secret-9f8e")
				_, r := accept(x, runOpts{})
				x.exit(r, 0, `cannot be used \(it is not valid JSON of the expected shape\); it was moved to .*credentials\.json\.corrupt-\d{8}T\d{6}Z`, `Enrolled`)
				aside := x.glob("credentials.json.corrupt-*")
				if len(aside) != 1 {
					t.Fatalf("moved aside: %q", aside)
				}
				if b, _ := os.ReadFile(aside[0]); string(b) != `{"version":1,"clientId":"abc","clientSecret":"half-a-secret-9f8e` {
					t.Errorf("moved-aside bytes differ: %q", b)
				}
				x.credsIssued()
			}},
	}
}

// diskFS is the real filesystem with the operations fail picks failing, as
// on a read-only or full disk: op is create (an open that creates),
// allocate, write, chmod, mkdir or rename; base is the file's base name.
type diskFS struct {
	persist.OSFS
	fail func(op, base string) error
}

func (d diskFS) OpenFile(name string, flag int, perm fs.FileMode) (persist.File, error) {
	if flag&os.O_CREATE != 0 {
		if err := d.fail("create", filepath.Base(name)); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	f, err := d.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return diskFile{File: f, d: d, name: name}, nil
}

func (d diskFS) MkdirAll(path string, perm fs.FileMode) error {
	if _, err := os.Stat(path); err != nil {
		if err := d.fail("mkdir", filepath.Base(path)); err != nil {
			return &fs.PathError{Op: "mkdir", Path: path, Err: err}
		}
	}
	return d.OSFS.MkdirAll(path, perm)
}

func (d diskFS) Chmod(name string, mode fs.FileMode) error {
	if err := d.fail("chmod", filepath.Base(name)); err != nil {
		return &fs.PathError{Op: "chmod", Path: name, Err: err}
	}
	return d.OSFS.Chmod(name, mode)
}

func (d diskFS) Rename(oldpath, newpath string) error {
	if err := d.fail("rename", filepath.Base(newpath)); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return d.OSFS.Rename(oldpath, newpath)
}

type diskFile struct {
	persist.File
	d    diskFS
	name string
}

// Allocate is fallocate(2), which a full disk refuses as it refuses writes.
func (f diskFile) Allocate(size int64) error {
	if err := f.d.fail("allocate", filepath.Base(f.name)); err != nil {
		return &fs.PathError{Op: "fallocate", Path: f.name, Err: err}
	}
	if a, ok := f.File.(persist.Allocator); ok {
		return a.Allocate(size)
	}
	return errors.ErrUnsupported
}

func (f diskFile) Write(p []byte) (int, error) {
	if err := f.d.fail("write", filepath.Base(f.name)); err != nil {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	return f.File.Write(p)
}
