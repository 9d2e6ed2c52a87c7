package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/api/emulator/emulatortest"
	"enroll/flow"
	"enroll/invite"
)

// These tests run `enroll invite` in-process (the same run() path as the
// binary) against an emulator on loopback. In-process, because the hooks
// they need (a clock, waits that do not sleep, a look at each results
// record) cannot cross a process boundary; testdata/script/invite*.txtar
// run the real binary.

const rigAdmin = "admin-token-for-invite-tests"

type inviteRig struct {
	t     *testing.T
	run   *emulator.Running
	dir   string
	vars  map[string]string
	stdin string
	tty   bool

	mu     sync.Mutex
	sleeps []time.Duration // what the run asked to wait, without waiting
	ahead  time.Duration   // how far the waits moved the rig's clock
}

func newInviteRig(t *testing.T) *inviteRig {
	t.Helper()
	run := emulatortest.Start(t, emulator.Options{AdminToken: rigAdmin})
	return &inviteRig{t: t, run: run, dir: t.TempDir(), vars: map[string]string{
		"ENROLL_SERVER": run.URL, "ENROLL_ADMIN_TOKEN": rigAdmin, "ENROLL_ORG": emulator.DefaultOrg,
	}}
}

// inviteHooks are the seams of invite.Options a test sets.
type inviteHooks struct {
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	recorded  func(invite.Record)
	failWrite func(invite.Record) error
}

func (h inviteHooks) apply(o *invite.Options) {
	o.Now, o.Sleep, o.Recorded, o.FailWrite = h.now, h.sleep, h.recorded, h.failWrite
}

// hooks give the run a clock that its waits move forward, so a Retry-After
// is honoured without sleeping. (The --rate limiter keeps real time; the
// tests that do not test it pass --rate 0.)
func (r *inviteRig) hooks() inviteHooks {
	return inviteHooks{
		now: func() time.Time {
			r.mu.Lock()
			defer r.mu.Unlock()
			return time.Now().Add(r.ahead)
		},
		sleep: func(ctx context.Context, d time.Duration) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.sleeps = append(r.sleeps, d)
			r.ahead += d
			return ctx.Err()
		},
	}
}

// invite runs one command line and returns its exit code and output.
func (r *inviteRig) invite(ctx context.Context, h inviteHooks, args ...string) (int, string, string) {
	r.t.Helper()
	var out, errOut bytes.Buffer
	e := env{
		stdin: strings.NewReader(r.stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return r.vars[k] }, uid: 1000, tty: r.tty,
		hostname: func() (string, error) { return "admin-pc", nil },
	}
	code := exitCode(ctx, e, runInvite(ctx, e, args, h.apply))
	r.assertNoTokens(out.String()+errOut.String(), slices.Contains(args, "--show-links"))
	return code, out.String(), errOut.String()
}

// assertNoTokens fails if the output or any file the run left in the
// rig's directory (a results file) holds the administrator's token, or an
// invitation token without --show-links; tests that pass it check their
// links themselves.
func (r *inviteRig) assertNoTokens(output string, showLinks bool) {
	r.t.Helper()
	texts := map[string]string{"the output": output}
	entries, _ := os.ReadDir(r.dir)
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(r.dir, e.Name())); err == nil {
			texts[e.Name()] = string(b)
		}
	}
	for where, text := range texts {
		if strings.Contains(text, rigAdmin) && where != "admin.token" { // the test's own input
			r.t.Errorf("%s holds the administrator's token", where)
		}
		if showLinks {
			continue
		}
		for _, inv := range r.run.Emulator.Outbox() {
			if strings.Contains(text, inv.Token) {
				r.t.Fatalf("%s holds an invitation token without --show-links", where)
			}
		}
	}
}

func (r *inviteRig) file(name, content string) string {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// csv writes a CSV of n rows, user1@example.com …, and returns its path.
func (r *inviteRig) csv(name string, n int) string {
	var b strings.Builder
	b.WriteString("email,groups,valid_for\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "user%d@example.com,%s,14d\n", i, emulator.GroupKiosks)
	}
	return r.file(name, b.String())
}

// assertOutbox checks that the service sent exactly one invitation to
// each of want, and nothing else.
func (r *inviteRig) assertOutbox(want int) {
	r.t.Helper()
	seen := map[string]int{}
	for _, inv := range r.run.Emulator.Outbox() {
		seen[inv.Email]++
	}
	for email, n := range seen {
		if n != 1 {
			r.t.Errorf("%s was sent %d invitations", email, n)
		}
	}
	if len(seen) != want {
		r.t.Errorf("outbox has %d addresses, want %d", len(seen), want)
	}
}

func TestInviteOne(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		vars   map[string]string // added to the rig's
		stdin  string
		fault  *emulator.Fault
		exit   int
		outbox int
		stdout string // a substring
		stderr string
	}{
		{name: "mailed", args: []string{"--group", "grp-kiosks", "--email", "ops@example.com", "--valid-for", "14d"},
			outbox: 1, stdout: "Sent an invitation to ops@example.com"},
		{name: "json hides the link", args: []string{"--group", "grp-lab", "--email", "ops@example.com", "--json"},
			outbox: 1, stdout: `"status": "sent"`},
		{name: "token from a file", args: []string{"--group", "grp-kiosks", "--email", "a@example.com", "--admin-token-file", "admin.token"},
			vars: map[string]string{"ENROLL_ADMIN_TOKEN": ""}, outbox: 1},
		{name: "token from stdin", args: []string{"--group", "grp-kiosks", "--email", "a@example.com", "--admin-token-file", "-"},
			vars: map[string]string{"ENROLL_ADMIN_TOKEN": ""}, stdin: rigAdmin + "\n", outbox: 1},
		{name: "two token sources", args: []string{"--group", "grp-kiosks", "--email", "a@example.com", "--admin-token-file", "admin.token"},
			exit: flow.ExitUsage, stderr: "one way only"},
		{name: "no credentials", args: []string{"--group", "grp-kiosks", "--email", "a@example.com"},
			vars: map[string]string{"ENROLL_ADMIN_TOKEN": ""}, exit: flow.ExitUsage, stderr: "administrator's credentials are needed"},
		{name: "nobody would receive it", args: []string{"--group", "grp-kiosks"}, exit: flow.ExitUsage, stderr: "give --email"},
		{name: "expired before sent", args: []string{"--group", "grp-kiosks", "--email", "a@example.com", "--valid-until", "2001-01-01"},
			exit: flow.ExitUsage, stderr: "has passed"},
		{name: "both validities", args: []string{"--group", "g", "--email", "a@example.com", "--valid-for", "1d", "--valid-until", "2099-01-01"},
			exit: flow.ExitUsage, stderr: "not both"},
		{name: "bulk flag without --from", args: []string{"--group", "g", "--email", "a@example.com", "--rate", "3"},
			exit: flow.ExitUsage, stderr: "--rate is for bulk runs"},
		{name: "unknown group", args: []string{"--group", "grp-nope", "--email", "a@example.com"},
			exit: flow.ExitRefused, stderr: "unknown_group"},
		{name: "wrong admin token", args: []string{"--group", "grp-kiosks", "--email", "a@example.com"},
			vars: map[string]string{"ENROLL_ADMIN_TOKEN": "not-the-admin"}, exit: flow.ExitDevice, stderr: "admin-refused"},
		{name: "server error", args: []string{"--group", "grp-kiosks", "--email", "a@example.com"},
			fault: &emulator.Fault{Status: 500}, exit: flow.ExitUnavailable, stderr: "Nothing was created"},
		{name: "429 honoured", args: []string{"--group", "grp-kiosks", "--email", "a@example.com"},
			fault: &emulator.Fault{Status: 429, RetryAfter: "3"}, outbox: 1},
		{name: "answer lost", args: []string{"--group", "grp-kiosks", "--email", "a@example.com"},
			fault: &emulator.Fault{DropAfterCommit: true}, exit: flow.ExitUnknown, outbox: 1, stderr: "not known whether"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInviteRig(t)
			r.file("admin.token", rigAdmin+"\n")
			for k, v := range tc.vars {
				r.vars[k] = v
			}
			r.stdin = tc.stdin
			if tc.fault != nil {
				r.run.Emulator.FailNext(emulator.OpSend, *tc.fault)
			}
			for i, a := range tc.args {
				if a == "admin.token" {
					tc.args[i] = filepath.Join(r.dir, a)
				}
			}
			code, out, errOut := r.invite(context.Background(), r.hooks(), tc.args...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.exit, out, errOut)
			}
			if !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("want %q on stdout and %q on stderr, got\nstdout:\n%s\nstderr:\n%s", tc.stdout, tc.stderr, out, errOut)
			}
			r.assertOutbox(tc.outbox)
			// The pause is measured from the 429, so a hair under the 3s asked.
			if tc.fault != nil && tc.fault.RetryAfter == "3" && (len(r.sleeps) != 1 || r.sleeps[0] < 2900*time.Millisecond || r.sleeps[0] > 3*time.Second) {
				t.Errorf("waits %v, want the 3s the service asked for", r.sleeps)
			}
		})
	}
}

func TestInviteOneShowLinks(t *testing.T) {
	r := newInviteRig(t)
	until := time.Now().AddDate(1, 0, 0).UTC()
	code, out, errOut := r.invite(context.Background(), r.hooks(), "--group", "grp-kiosks", "--existing-clients-only",
		"--only-client", "client-7", "--valid-until", until.Format(time.DateOnly), "--show-links", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	sent := r.run.Emulator.Outbox()
	if len(sent) != 1 {
		t.Fatalf("outbox %d", len(sent))
	}
	var got struct{ Status, Link, Token, ValidUntil string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	inv := sent[0]
	if got.Link != inv.Link || got.Token != inv.Token || !inv.ExistingClientsOnly || inv.OnlyClientID != "client-7" ||
		!inv.ValidUntil.Equal(time.Date(until.Year(), until.Month(), until.Day(), 23, 59, 59, 0, time.UTC)) {
		t.Errorf("printed %+v for %+v", got, inv)
	}
}
