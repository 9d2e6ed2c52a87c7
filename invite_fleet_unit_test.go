package main

import (
	"bufio"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// What systemd does with examples/systemd/enroll-first-boot.service, for
// the directives it uses, so that invite_fleet_test.go can run the unit's
// commands as written. systemd-analyze verify (TestSystemdUnitVerifies)
// checks the file as systemd itself reads it.

// unit is a systemd unit file: section → key → values, in order.
type unit map[string]map[string][]string

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, section := unit{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasSuffix(line, "\\"):
			t.Fatalf("%s: continued lines are not emulated", path)
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: cannot read %q", path, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// known are the directives bootUnit emulates; any other fails the test,
// so that the emulation grows with the unit instead of ignoring it.
var known = map[string][]string{
	"Unit": {"Description", "Wants", "After", "ConditionPathExists", "StartLimitIntervalSec"},
	"Service": append([]string{"Type", "Environment", "EnvironmentFile", "ExecStart", "ExecStartPost", "Restart", "RestartSec",
		"RestartPreventExitStatus", "TimeoutStartSec", "StateDirectory", "StateDirectoryMode"}, sandbox...),
	"Install": {"WantedBy"},
}

// sandbox are the directives that only take something away from the
// service, which bootUnit cannot do without systemd: it runs the commands
// without them. systemd-analyze security rates them
// (TestSystemdUnitSecurity), and TestSystemdUnitSyscalls checks the
// system calls and socket families enroll uses against the unit's filters.
var sandbox = []string{"ProtectSystem", "PrivateTmp", "ProtectHome", "PrivateDevices", "PrivateMounts", "ProtectKernelTunables",
	"ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname", "ProtectProc",
	"ProcSubset", "NoNewPrivileges", "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute", "RestrictRealtime",
	"RestrictNamespaces", "SystemCallArchitectures", "SystemCallFilter", "SystemCallErrorNumber", "CapabilityBoundingSet",
	"RestrictAddressFamilies", "UMask"}

// bootUnit does what systemd does with the unit on one boot: check its
// conditions, run ExecStart with its environment, ExecStartPost after
// success, and restart on failure unless the exit code prevents it. It
// returns the exit codes of the runs (none: skipped by a condition).
func (r *fleetRoot) bootUnit(u unit) []int {
	r.t.Helper()
	for section, keys := range u {
		for k := range keys {
			if !slices.Contains(known[section], k) {
				r.t.Fatalf("[%s] %s is not emulated by this test; teach bootUnit what it means", section, k)
			}
		}
	}
	svc := u["Service"]
	if svc["Type"][0] != "oneshot" || svc["Restart"][0] != "on-failure" {
		r.t.Fatalf("the emulation expects Type=oneshot and Restart=on-failure")
	}
	for _, c := range u["Unit"]["ConditionPathExists"] {
		p, negate := strings.CutPrefix(c, "!")
		if r.exists(p) == negate {
			return nil
		}
	}
	// StateDirectory=enroll: systemd creates /var/lib/enroll with
	// StateDirectoryMode before ExecStart.
	for _, d := range svc["StateDirectory"] {
		mode, err := strconv.ParseUint(svc["StateDirectoryMode"][0], 8, 32)
		dir := r.path("/var/lib/" + d + "/")
		if err != nil || os.MkdirAll(dir, os.FileMode(mode)) != nil || os.Chmod(dir, os.FileMode(mode)) != nil {
			r.t.Fatalf("StateDirectory=%s: %v", d, err)
		}
	}
	env := r.baseEnv()
	for _, v := range svc["Environment"] {
		for _, kv := range strings.Fields(v) {
			k, val, _ := strings.Cut(kv, "=")
			if strings.HasPrefix(val, "/") {
				val = r.path(val)
			}
			env = append(env, k+"="+val)
		}
	}
	for _, v := range svc["EnvironmentFile"] {
		p, optional := strings.CutPrefix(v, "-")
		b, err := os.ReadFile(r.path(p))
		if err != nil && !(optional && errors.Is(err, os.ErrNotExist)) {
			r.t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
				env = append(env, line)
			}
		}
	}
	prevent := strings.Fields(svc["RestartPreventExitStatus"][0])
	var exits []int
	for range 5 { // restarts, bounded
		code := r.exec(append(slices.Clone(r.wrap), r.argv(svc["ExecStart"][0])...), env)
		exits = append(exits, code)
		if code == 0 {
			for _, post := range svc["ExecStartPost"] {
				// "-" ignores a failure; "+" runs it outside the sandbox,
				// as the emulation runs everything.
				cmd := strings.TrimLeft(post, "-+")
				ignore := strings.Contains(post[:len(post)-len(cmd)], "-")
				if c := r.exec(r.argv(cmd), env); c != 0 && !ignore {
					r.t.Fatalf("ExecStartPost failed: %d", c)
				}
			}
			return exits
		}
		if slices.Contains(prevent, strconv.Itoa(code)) {
			return exits
		}
	}
	return exits
}

// argv splits a command line the way systemd does for the simple lines a
// recipe should have; quoting, variables and specifiers are refused rather
// than half emulated.
func (r *fleetRoot) argv(line string) []string {
	if strings.ContainsAny(line, `"'$%\;|&<>`+"`") {
		r.t.Fatalf("command %q needs more than the emulated syntax", line)
	}
	args := strings.Fields(line)
	for i, a := range args {
		if strings.HasPrefix(a, "/") {
			args[i] = r.path(a)
		}
	}
	return args
}
