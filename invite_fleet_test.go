package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/api/emulator/emulatortest"
	"enroll/flow"
)

// The fleet recipes under examples/ are run here as written: the commands
// come out of the files, and the real enroll binary (this test binary,
// which testscript.Main put on PATH as "enroll") runs them against an
// emulator on loopback. Only the machine's directories are mapped into a
// temporary root, each one named below, so that a recipe that starts
// using another path fails this test instead of touching the real one.

const (
	unitPath       = "examples/systemd/enroll-first-boot.service"
	licensedApp    = "examples/systemd/licensed-app.service"
	timeoutVerify  = time.Minute
	maxExposure    = 50 // systemd-analyze security --threshold: 5.0 of 10
	readerGroupGID = "54322"
)

// fleetRoot is a device's filesystem in a temporary directory.
type fleetRoot struct {
	t   *testing.T
	dir string
	bin string // the enroll binary
	run *emulator.Running
	// wrap runs before the unit's ExecStart (strace, in TestSystemdUnitSyscalls).
	wrap []string
}

func newFleetRoot(t *testing.T) *fleetRoot {
	t.Helper()
	bin, err := exec.LookPath("enroll")
	if err != nil {
		t.Fatalf("the enroll binary is not on PATH (TestMain puts it there): %v", err)
	}
	run := emulatortest.Start(t, emulator.Options{})
	return &fleetRoot{t: t, dir: t.TempDir(), bin: bin, run: run}
}

// path maps a path a recipe names to where this test keeps it.
func (r *fleetRoot) path(p string) string {
	switch {
	case p == "/usr/local/bin/enroll":
		return r.bin
	case p == "/bin/rm" || p == "/bin/sh":
		return p
	case p == "/boot/enroll-invitation.txt", p == "/etc/default/enroll", strings.HasPrefix(p, "/var/lib/enroll/"):
		return filepath.Join(r.dir, p)
	}
	r.t.Fatalf("the recipe uses %s, which this test does not map into its root", p)
	return ""
}

func (r *fleetRoot) write(p, content string) {
	r.t.Helper()
	full := r.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

func (r *fleetRoot) exists(p string) bool {
	_, err := os.Stat(r.path(p))
	return err == nil
}

// invitation drops an invitation on the "boot partition": its link, or
// its bare token.
func (r *fleetRoot) invitation(expired, bareToken bool) {
	spec := emulator.InvitationSpec{Groups: []string{emulator.GroupKiosks}}
	if expired {
		spec.ValidUntil = time.Now().Add(-time.Hour) // in the past
	}
	inv, err := r.run.Emulator.CreateInvitation(spec)
	if err != nil {
		r.t.Fatal(err)
	}
	text := inv.Link
	if bareToken {
		text = inv.Token
	}
	r.write("/boot/enroll-invitation.txt", text+"\n")
}

// baseEnv is what a service starts with: no ENROLL_ variable of the test's
// process leaks into the recipe, and the home directory is the root's.
func (r *fleetRoot) baseEnv() []string {
	return []string{"HOME=" + r.dir, "PATH=" + os.Getenv("PATH"), "NO_PROXY=127.0.0.1,localhost", "LANG=C.UTF-8",
		"ENROLL_DEFAULTS=" + r.path("/etc/default/enroll")} // the root's, not the machine's
}

func (r *fleetRoot) exec(argv []string, env []string) int {
	r.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env, r.dir
	out, err := cmd.CombinedOutput()
	r.t.Logf("$ %s\n%s", strings.Join(argv, " "), out)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	r.t.Fatalf("%s: %v", argv[0], err)
	return -1
}

func TestSystemdUnitEnrollsOnFirstBoot(t *testing.T) {
	u := readUnit(t, unitPath)
	host, _ := os.Hostname()
	for _, tc := range []struct {
		name     string
		expired  bool
		token    bool  // a bare token, the server in /etc/default/enroll
		fault    int   // the first accept answers this status
		none     bool  // no invitation on the boot partition
		exits    []int // of the first boot
		enrolled bool
	}{
		{name: "service unavailable, then enrolled", fault: 503, exits: []int{5, 0}, enrolled: true},
		{name: "bare token and /etc/default/enroll", token: true, exits: []int{0}, enrolled: true},
		{name: "refused invitation is not retried", expired: true, exits: []int{3}},
		{name: "outcome unknown is not retried", fault: 502, exits: []int{7}},
		{name: "no invitation, nothing to do", none: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFleetRoot(t)
			if !tc.none {
				r.invitation(tc.expired, tc.token)
			}
			if tc.token {
				r.write("/etc/default/enroll", "# settings\nENROLL_SERVER="+r.run.URL+"\n")
			}
			if tc.fault != 0 {
				r.run.Emulator.FailNext(emulator.OpAccept, emulator.Fault{Status: tc.fault})
			}
			if got := r.bootUnit(u); !slices.Equal(got, tc.exits) {
				t.Fatalf("exit codes %v, want %v", got, tc.exits)
			}
			creds := "/var/lib/enroll/credentials.json"
			if r.exists(creds) != tc.enrolled || r.exists("/boot/enroll-invitation.txt") != (!tc.enrolled && !tc.none) {
				t.Fatalf("enrolled %v, invitation kept %v", r.exists(creds), r.exists("/boot/enroll-invitation.txt"))
			}
			if !tc.enrolled {
				return
			}
			if c := r.run.Emulator.Clients(); len(c) != 1 || c[0].Name != flow.DefaultName(host) {
				t.Errorf("clients %+v, want one named after the host, %q", c, flow.DefaultName(host))
			}
			// Every later boot: the credentials exist, the unit is skipped.
			calls := r.run.Emulator.Calls(emulator.OpAccept)
			r.invitation(false, false)
			if got := r.bootUnit(u); got != nil || r.run.Emulator.Calls(emulator.OpAccept) != calls {
				t.Fatalf("ran again once enrolled: %v", got)
			}
		})
	}
}

// systemd-analyze verify checks the units of examples/systemd as systemd
// reads them, in a root holding the units they depend on and the programs
// they run: the first-boot unit, and the licensed application's that gets
// the credentials with LoadCredential=.
func TestSystemdUnitVerifies(t *testing.T) {
	for _, u := range []struct{ unit, program string }{
		{unitPath, "usr/local/bin/enroll"},
		{licensedApp, "usr/bin/python3"},
	} {
		t.Run(filepath.Base(u.unit), func(t *testing.T) { verifyUnit(t, u.unit, u.program) })
	}
}

func verifyUnit(t *testing.T, unitPath, program string) {
	need(t, "systemd-analyze")
	tool, _ := exec.LookPath("systemd-analyze")
	targets, _ := filepath.Glob("/usr/lib/systemd/system/*.target")
	if len(targets) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("no systemd units in /usr/lib/systemd/system to verify against, in CI (.ci/run installs systemd)")
		}
		t.Skip("no systemd units in /usr/lib/systemd/system to verify against")
	}
	root := t.TempDir()
	for dir, files := range map[string][]string{"etc/systemd/system": {unitPath}, "usr/lib/systemd/system": targets} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, dir, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	bin := filepath.Join(root, program)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeoutVerify)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, "verify", "--root="+root, filepath.Base(unitPath)).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdUnitSecurity holds the units' sandboxes to an exposure of at
// most 5.0 as systemd-analyze security rates them (the first-boot unit
// was 9.6 "UNSAFE" without one); each exposure left is explained in a
// comment of the unit.
func TestSystemdUnitSecurity(t *testing.T) {
	need(t, "systemd-analyze")
	for _, u := range []string{unitPath, licensedApp} {
		t.Run(filepath.Base(u), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), timeoutVerify)
			defer cancel()
			out, err := exec.CommandContext(ctx, "systemd-analyze", "security", "--offline=yes",
				"--threshold="+strconv.Itoa(maxExposure), "--no-pager", u).CombinedOutput()
			m := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`).FindSubmatch(out)
			if err != nil || m == nil {
				t.Fatalf("systemd-analyze security --threshold=%d: %v\n%s", maxExposure, err, out)
			}
			t.Logf("exposure %s", m[1])
		})
	}
}

// TestSystemdUnitSyscalls runs the unit's ExecStart under strace on a
// first boot that shares the credentials with a reader group (as root: the
// one use of CAP_CHOWN), and checks what the emulation of bootUnit cannot
// enforce and would break enroll on a device: every system call against
// the unit's SystemCallFilter= lines as systemd-analyze expands them (EPERM
// on a device, SystemCallErrorNumber=), the family of every socket against
// RestrictAddressFamilies=, every path written (created, renamed, removed,
// chmod, chown) against the one writable directory of ProtectSystem=strict,
// StateDirectory=, and every path under /proc against ProcSubset=pid.
func TestSystemdUnitSyscalls(t *testing.T) {
	need(t, "strace", "systemd-analyze")
	u := readUnit(t, unitPath)
	r := newFleetRoot(t)
	trace := filepath.Join(t.TempDir(), "strace.txt")
	r.wrap = []string{"strace", "-f", "-qq", "-o", trace}
	r.invitation(false, false)
	if os.Geteuid() == 0 {
		r.write("/etc/default/enroll", "ENROLL_READER_GROUP="+readerGroupGID+"\n")
	}
	if got := r.bootUnit(u); !slices.Equal(got, []int{0}) {
		t.Fatalf("exit codes %v, want [0]", got)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, line := range u["Service"]["SystemCallFilter"] {
		names, deny := strings.CutPrefix(line, "~")
		for _, n := range syscallSet(t, strings.Fields(names)...) {
			allowed[n] = !deny
		}
	}
	families := strings.Fields(u["Service"]["RestrictAddressFamilies"][0])
	used := map[string]bool{}
	call := regexp.MustCompile(`^\d+ +(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)`)
	socket := regexp.MustCompile(`^\d+ +socket\((AF_\w+)`)
	write := regexp.MustCompile(`^\d+ +(?:(?:mkdirat|unlinkat|renameat2?|fchmodat|fchownat|linkat|symlinkat)\(|openat\(.*O_(?:WRONLY|RDWR|CREAT|TRUNC))`)
	quoted, proc := regexp.MustCompile(`"([^"]*)"`), regexp.MustCompile(`"/proc/([^/"]*)`)
	state := r.path("/var/lib/" + u["Service"]["StateDirectory"][0] + "/")
	for _, line := range strings.Split(string(b), "\n") {
		for _, p := range quoted.FindAllStringSubmatch(line, -1) {
			if write.MatchString(line) && p[1] != state && !strings.HasPrefix(p[1], state+"/") {
				t.Errorf("enroll writes %q, outside StateDirectory= (ProtectSystem=strict): %s", p[1], line)
			}
		}
		if m := proc.FindStringSubmatch(line); m != nil && m[1] != "self" && m[1] != "thread-self" && strings.Trim(m[1], "0123456789") != "" {
			t.Errorf("enroll reads /proc/%s, hidden by ProcSubset=pid: %s", m[1], line)
		}
		if m := call.FindStringSubmatch(line); m != nil && !used[m[1]] {
			used[m[1]] = true
			if !allowed[m[1]] {
				t.Errorf("enroll calls %s, which SystemCallFilter= does not allow", m[1])
			}
		}
		if m := socket.FindStringSubmatch(line); m != nil && !slices.Contains(families, m[1]) {
			t.Errorf("enroll opens an %s socket, which RestrictAddressFamilies= does not allow", m[1])
		}
	}
	if len(used) < 20 || (os.Geteuid() == 0 && !used["fchown"] && !used["fchownat"] && !used["chown"]) {
		t.Fatalf("the trace holds %d system calls, and no chown as root with a reader group: did strace trace enroll?", len(used))
	}
}

// syscallSet expands systemd's system call groups (@system-service) into
// the names they hold, as systemd-analyze syscall-filter lists them.
func syscallSet(t *testing.T, names ...string) []string {
	t.Helper()
	var set []string
	for _, n := range names {
		if !strings.HasPrefix(n, "@") {
			set = append(set, n)
			continue
		}
		out, err := exec.Command("systemd-analyze", "syscall-filter", "--no-pager", n).Output()
		if err != nil {
			t.Fatalf("systemd-analyze syscall-filter %s: %v", n, err)
		}
		for _, l := range strings.Split(string(out), "\n")[1:] {
			if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
				set = append(set, syscallSet(t, l)...)
			}
		}
	}
	return set
}
