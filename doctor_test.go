package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/persist"
)

// enroll doctor against the emulator, healthy and with each fault in
// place: the check that names it fails (or warns), says what to do, and
// the exit code is the fault's; nothing printed holds a secret.

type doctorReport struct {
	OK     bool
	Checks []struct{ Name, Status, Detail, Hint string }
}

func (x *fx) doctor(o runOpts, args ...string) (doctorReport, res) {
	x.t.Helper()
	r := x.runIn(o, append([]string{"doctor", "--json", "--timeout", "5s"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		x.t.Fatalf("doctor --json: %v\n%s\n%s", err, r.out, r.err)
	}
	return rep, r
}

// status is the verdict of the named check.
func (rep doctorReport) status(name string) (string, string) {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status, c.Detail + " → " + c.Hint
		}
	}
	return "", ""
}

func (rep doctorReport) expect(t *testing.T, want map[string]string) {
	t.Helper()
	var order []string
	for _, c := range rep.Checks {
		order = append(order, c.Name)
	}
	if got := strings.Join(order, " "); got != "config proxy dns tcp tls clock discovery token credentials tpm journal" {
		t.Errorf("checks in order: %s", got)
	}
	for name, w := range want {
		status, detail := rep.status(name)
		wantStatus, pattern, _ := strings.Cut(w, " ")
		if status != wantStatus || !strings.Contains(detail, pattern) {
			t.Errorf("%s: %s %q; want %s %q", name, status, detail, wantStatus, pattern)
		}
	}
}

func TestDoctor(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(t *testing.T, x *fx) ([]string, runOpts)
		exit int
		want map[string]string
	}{
		{"healthy", func(t *testing.T, x *fx) ([]string, runOpts) { x.enroll(); return nil, runOpts{} }, 0, map[string]string{
			"config": "ok credentials", "proxy": "ok none", "dns": "ok 127.0.0.1 is an address", "tcp": "ok connected", "tls": "skip plain http",
			"clock": "ok within", "discovery": "ok token endpoint", "token": "ok the service issued an access token", "credentials": "ok 0600",
			"journal": "ok no interrupted enrollment"}},
		{"healthy over TLS with a private CA", func(t *testing.T, x *fx) ([]string, runOpts) {
			x.svc = newService(t, svcOpts{tls: true})
			ca := writeCert(t, x.svc.srv.Certificate().Raw)
			inv := x.svc.invite(emulator.InvitationSpec{})
			x.exit(x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--ca-file", ca), 0)
			return []string{"--ca-file", ca}, runOpts{}
		}, 0, map[string]string{"tls": "ok verified", "config": "ok ca-file", "token": "ok"}},
		{"not enrolled, no server", func(t *testing.T, x *fx) ([]string, runOpts) { return nil, runOpts{} }, 0, map[string]string{
			"dns": "skip no server is configured", "token": "skip this device is not enrolled", "credentials": "warn not enrolled"}},
		{"a wrong clock (the server's Date a day ahead)", func(t *testing.T, x *fx) ([]string, runOpts) {
			x.enroll()
			x.svc.mu.Lock()
			x.svc.dateOffset = 24 * time.Hour
			x.svc.mu.Unlock()
			return nil, runOpts{}
		}, 5, map[string]string{"clock": "fail this device's clock is wrong", "discovery": "ok"}},
		{"an untrusted CA", func(t *testing.T, x *fx) ([]string, runOpts) {
			x.svc = newService(t, svcOpts{tls: true})
			return []string{"--server", x.svc.URL}, runOpts{}
		}, 5, map[string]string{"tls": "fail unknown authority", "clock": "ok within", "discovery": "skip"}},
		{"a certificate not valid yet, the clock right", func(t *testing.T, x *fx) ([]string, runOpts) {
			c := futureCert(t)
			x.svc = newService(t, svcOpts{tls: true, cert: &c.tls})
			return []string{"--server", x.svc.URL, "--ca-file", writeCert(t, c.der)}, runOpts{}
		}, 5, map[string]string{"tls": "fail the certificate itself is outside its validity period", "clock": "ok within"}},
		{"a port nothing listens on", func(t *testing.T, x *fx) ([]string, runOpts) {
			return []string{"--server", "http://" + closedAddr(t)}, runOpts{}
		}, 5, map[string]string{"tcp": "fail cannot connect", "discovery": "skip the service could not be reached"}},
		{"a server that accepts and never answers", func(t *testing.T, x *fx) ([]string, runOpts) {
			return []string{"--server", "http://" + tarpit(t), "--timeout", "1s"}, runOpts{}
		}, 5, map[string]string{"tcp": "ok connected", "discovery": "fail ", "token": "skip"}},
		{"a credentials file every user can read", func(t *testing.T, x *fx) ([]string, runOpts) {
			x.enroll()
			if err := os.Chmod(x.creds, 0o644); err != nil {
				t.Fatal(err)
			}
			x.fileMode = 0o644 // doctor changes nothing
			return nil, runOpts{}
		}, 6, map[string]string{"credentials": "fail "}},
		{"a reader group the directory keeps out", func(t *testing.T, x *fx) ([]string, runOpts) {
			x.enroll()
			if os.Geteuid() != 0 {
				t.Skip("needs root to give the file to a group")
			}
			if err := os.Chown(x.creds, -1, 54322); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(x.creds, 0o640); err != nil {
				t.Fatal(err)
			}
			x.fileMode = 0o640
			return nil, runOpts{}
		}, 4, map[string]string{"credentials": "fail "}},
		{"an unreadable credentials file", func(t *testing.T, x *fx) ([]string, runOpts) {
			x.enroll()
			return nil, runOpts{fs: deniedFS{x.creds}}
		}, 4, map[string]string{"credentials": "fail cannot be read by this user", "token": "skip the credentials cannot be read"}},
		{"a pending journal", func(t *testing.T, x *fx) ([]string, runOpts) {
			inv := x.svc.invite(emulator.InvitationSpec{})
			r := x.runIn(runOpts{stdin: inv.Link, fs: fullAfterJournal()}, "accept", "--token-file", "-")
			x.exit(r, 7)
			return []string{"--server", x.svc.URL}, runOpts{}
		}, 7, map[string]string{"journal": "fail an interrupted enrollment is waiting", "credentials": "warn not enrolled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := newFx(t)
			args, o := tc.set(t, x)
			rep, r := x.doctor(o, args...)
			if r.code != tc.exit || rep.OK != (tc.exit == 0) {
				t.Errorf("exit %d, ok %v; want %d", r.code, rep.OK, tc.exit)
			}
			rep.expect(t, tc.want)
			if t.Failed() {
				t.Logf("%s\n%s", r.out, r.err)
			}
			text := x.runIn(o, append([]string{"doctor", "--timeout", "5s"}, args...)...)
			if os.Getenv("DOCTOR_SHOW") != "" {
				t.Logf("enroll doctor:\n%s", text.out)
			}
			if text.code != tc.exit || !strings.Contains(text.out, "journal") {
				t.Errorf("doctor (text): exit %d\n%s", text.code, text.out)
			}
			x.finish()
		})
	}
}

// deniedFS plays a user who may not read the credentials file.
type deniedFS struct{ path string }

func (d deniedFS) OpenFile(name string, flag int, perm fs.FileMode) (persist.File, error) {
	if name == d.path {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	return persist.OSFS{}.OpenFile(name, flag, perm)
}
func (deniedFS) Stat(n string) (fs.FileInfo, error)      { return persist.OSFS{}.Stat(n) }
func (deniedFS) Lstat(n string) (fs.FileInfo, error)     { return persist.OSFS{}.Lstat(n) }
func (deniedFS) MkdirAll(p string, m fs.FileMode) error  { return errors.New("read-only") }
func (deniedFS) Chmod(n string, m fs.FileMode) error     { return errors.New("read-only") }
func (deniedFS) Chown(n string, u, g int) error          { return errors.New("read-only") }
func (deniedFS) Rename(a, b string) error                { return errors.New("read-only") }
func (deniedFS) Remove(n string) error                   { return errors.New("read-only") }
func (deniedFS) ReadDir(n string) ([]fs.DirEntry, error) { return persist.OSFS{}.ReadDir(n) }

// fullAfterJournal is a disk that takes the journal and then nothing: the
// answer waits in the journal.
func fullAfterJournal() persist.FS {
	return diskFS{fail: func(op, base string) error {
		if op == "write" && strings.HasPrefix(base, ".credentials.json.tmp-") {
			return syscall.ENOSPC
		}
		return nil
	}}
}

// tarpit is a loopback address that accepts connections and never says a
// word: every wait on it must end by --timeout.
func tarpit(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
