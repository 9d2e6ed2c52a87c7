package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"enroll/api/emulator"
	"enroll/flow"
	"enroll/invite"
)

// jsonRows reads a bulk run's stdout: one object per row, then the summary.
func jsonRows(t *testing.T, out string) ([]invite.Row, invite.Summary) {
	t.Helper()
	var rows []invite.Row
	var sum struct{ Summary *invite.Summary }
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, `{"summary"`) {
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var o invite.Row
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		rows = append(rows, o)
	}
	if sum.Summary == nil {
		t.Fatalf("no summary line in:\n%s", out)
	}
	return rows, *sum.Summary
}

func TestInviteBulkSendsEachRowOnce(t *testing.T) {
	r := newInviteRig(t)
	csv := r.csv("devices.csv", 300)
	code, out, errOut := r.invite(context.Background(), r.hooks(), "--from", csv, "--concurrency", "8", "--rate", "0")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	r.assertOutbox(300)
	rows, sum := jsonRows(t, out)
	if len(rows) != 300 || sum.Sent != 300 || sum.Exit != 0 {
		t.Errorf("%d rows, summary %+v", len(rows), sum)
	}
	fi, err := os.Stat(csv + ".results.jsonl")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("results file: %v %v", fi, err)
	}

	// A rerun finds everything sent and sends nothing.
	calls := r.run.Emulator.Calls(emulator.OpSend)
	code, out, _ = r.invite(context.Background(), r.hooks(), "--from", csv, "--concurrency", "8", "--rate", "0")
	if _, sum := jsonRows(t, out); code != 0 || sum.AlreadySent != 300 || r.run.Emulator.Calls(emulator.OpSend) != calls {
		t.Errorf("rerun: exit %d, summary %+v, %d more sends", code, sum, r.run.Emulator.Calls(emulator.OpSend)-calls)
	}
}

// An interrupt (Ctrl-C, SIGTERM) after 120 rows: the sends in flight finish
// and are recorded, nothing new starts, and the rerun sends the rest, so
// the outbox ends with exactly one invitation per row.
func TestInviteBulkInterruptedThenResumed(t *testing.T) {
	r := newInviteRig(t)
	csv := r.csv("devices.csv", 300)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sent atomic.Int32
	h := r.hooks()
	h.recorded = func(rec invite.Record) {
		if rec.State == invite.Sent && sent.Add(1) == 120 {
			cancel()
		}
	}
	code, out, errOut := r.invite(ctx, h, "--from", csv, "--concurrency", "4", "--rate", "0")
	if code != flow.ExitInterrupted {
		t.Fatalf("exit %d, want 130:\n%s", code, errOut)
	}
	rows, sum := jsonRows(t, out)
	first := len(r.run.Emulator.Outbox())
	if len(rows) != 300 || sum.Sent != first || sum.NotSent != 300-first || first < 120 || first > 124 {
		t.Fatalf("%d rows; summary %+v; outbox %d", len(rows), sum, first)
	}
	code, out, errOut = r.invite(context.Background(), r.hooks(), "--from", csv, "--concurrency", "4", "--rate", "0")
	if _, sum := jsonRows(t, out); code != 0 || sum.AlreadySent != first || sum.Sent != 300-first {
		t.Fatalf("rerun: exit %d, summary %+v\n%s", code, sum, errOut)
	}
	r.assertOutbox(300)
}

// A send whose answer never came may have created the invitation: the
// rerun leaves it alone (exit 7) until told --resend-unknown.
func TestInviteBulkUnknownOutcomeNotResent(t *testing.T) {
	r := newInviteRig(t)
	csv := r.csv("devices.csv", 5)
	r.run.Emulator.FailNext(emulator.OpSend, emulator.Fault{DropAfterCommit: true})
	args := []string{"--from", csv, "--concurrency", "1", "--rate", "0"}
	code, out, _ := r.invite(context.Background(), r.hooks(), args...)
	if _, sum := jsonRows(t, out); code != flow.ExitUnknown || sum.Unknown != 1 || sum.Sent != 4 {
		t.Fatalf("exit %d, summary %+v", code, sum)
	}
	r.assertOutbox(5) // the lost answer's invitation exists
	calls := r.run.Emulator.Calls(emulator.OpSend)
	code, out, errOut := r.invite(context.Background(), r.hooks(), args...)
	if _, sum := jsonRows(t, out); code != flow.ExitUnknown || sum.Unknown != 1 || r.run.Emulator.Calls(emulator.OpSend) != calls {
		t.Fatalf("rerun: exit %d, summary %+v", code, sum)
	}
	if !strings.Contains(errOut, "--resend-unknown") {
		t.Errorf("no way out shown:\n%s", errOut)
	}
	if code, _, _ := r.invite(context.Background(), r.hooks(), append(args, "--resend-unknown")...); code != 0 {
		t.Fatalf("--resend-unknown: exit %d", code)
	}
	if n := len(r.run.Emulator.Outbox()); n != 6 {
		t.Errorf("outbox %d: --resend-unknown sends the unknown row again, knowingly", n)
	}
}

// A crash between "sending" and "sent" (power cut, SIGKILL) leaves a
// "sending" record, perhaps a torn line after it: the rerun repairs the
// file and calls that row unknown instead of sending it twice.
func TestInviteBulkCrashMidSend(t *testing.T) {
	r := newInviteRig(t)
	csv := r.csv("devices.csv", 3)
	if code, _, errOut := r.invite(context.Background(), r.hooks(), "--from", csv, "--concurrency", "1", "--rate", "0"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := csv + ".results.jsonl"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(string(b)), "\n")
	// Drop the last row's "sent" record and cut a record in half instead.
	torn := strings.Join(lines[:len(lines)-1], "") + `{"key":"row:abc#1","line":4,"st`
	if err := os.WriteFile(path, []byte(torn), 0o600); err != nil {
		t.Fatal(err)
	}
	calls := r.run.Emulator.Calls(emulator.OpSend)
	code, out, errOut := r.invite(context.Background(), r.hooks(), "--from", csv)
	rows, sum := jsonRows(t, out)
	if code != flow.ExitUnknown || sum.AlreadySent != 2 || sum.Unknown != 1 || r.run.Emulator.Calls(emulator.OpSend) != calls {
		t.Fatalf("exit %d, summary %+v, rows %+v\n%s", code, sum, rows, errOut)
	}
	if !strings.Contains(errOut, "partly written line") {
		t.Errorf("the repair is not mentioned:\n%s", errOut)
	}
	r.assertOutbox(3)
}

func TestInviteBulkBadRowsSendNothing(t *testing.T) {
	r := newInviteRig(t)
	csv := r.file("bad.csv", strings.Join([]string{
		"email,groups,valid_for,valid_until,ref",
		"ok@example.com,grp-kiosks,,,a",
		"not-an-address,grp-kiosks,,,b",    // line 3
		"c@example.com,,,,c",               // 4: no group
		"d@example.com,grp-kiosks,soon,,d", // 5
		"e@example.com,grp-kiosks,,2001-01-01,e",
		"f@example.com,grp-kiosks,1d,2099-01-01,f",
		"g@example.com,grp-kiosks,,,a",   // 8: ref again
		"h@example.com,grp-kiosks",       // 9: short
		"\"i@example.com,grp-kiosks,,,i", // 10: open quote to the end
		"",
	}, "\n"))
	code, _, errOut := r.invite(context.Background(), r.hooks(), "--from", csv)
	if code != flow.ExitUsage {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	for _, want := range []string{"line 3: e-mail", "line 4: no group", "line 5: valid_for", "line 6: valid_until 2001-01-01 has passed",
		"line 7: give valid_for or valid_until, not both", "line 8: the same ref as line 2", "line 9: 2 fields", "line 10:", "nothing was sent"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := r.run.Emulator.Calls(emulator.OpSend); n != 0 {
		t.Errorf("%d sends", n)
	}
	if _, err := os.Stat(csv + ".results.jsonl"); !os.IsNotExist(err) {
		t.Errorf("a results file was created for a run that sent nothing: %v", err)
	}
}

// Faults of the service, one table: what each does to a run of 10 rows
// sent one at a time, and that the rerun completes it without duplicates.
func TestInviteBulkServiceFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults []emulator.Fault
		down   bool
		exit   int
		sent   int   // by the first run
		waits  []int // seconds the run asked to wait
		rerun  int   // exit code of the rerun
		outbox int   // after the rerun, if not 10
	}{
		{name: "429 within bound", faults: []emulator.Fault{{Status: 429, RetryAfter: "2"}}, sent: 10, waits: []int{2}},
		{name: "429 without Retry-After backs off", faults: []emulator.Fault{{Status: 429}, {Status: 429}}, sent: 10, waits: []int{1, 2}},
		{name: "429 beyond bound stops the run", faults: []emulator.Fault{{}, {}, {Status: 429, RetryAfter: "3600"}},
			exit: flow.ExitUnavailable, sent: 2},
		{name: "503 with Retry-After", faults: []emulator.Fault{{Status: 503, RetryAfter: "1"}}, sent: 10, waits: []int{1}},
		{name: "500 fails one row", faults: []emulator.Fault{{Status: 500, Body: `{"code":"db","message":"down"}`}}, exit: flow.ExitUnavailable, sent: 9},
		{name: "service down stops after 8", down: true, exit: flow.ExitUnavailable},
		{name: "502 may have created it", faults: []emulator.Fault{{Status: 502}}, exit: flow.ExitUnknown, sent: 9, rerun: flow.ExitUnknown, outbox: 9},
		{name: "403 stops the run", faults: []emulator.Fault{{}, {Status: 403}}, exit: flow.ExitDevice, sent: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInviteRig(t)
			csv := r.csv("devices.csv", 10)
			for _, f := range tc.faults {
				r.run.Emulator.FailNext(emulator.OpSend, f)
			}
			r.run.Emulator.SetDown(tc.down)
			args := []string{"--from", csv, "--concurrency", "1", "--rate", "0"}
			code, out, errOut := r.invite(context.Background(), r.hooks(), args...)
			_, sum := jsonRows(t, out)
			if code != tc.exit || sum.Sent != tc.sent || sum.Rows != 10 {
				t.Fatalf("exit %d (want %d), summary %+v\n%s", code, tc.exit, sum, errOut)
			}
			if tc.down && r.run.Emulator.Calls(emulator.OpSend) != invite.StopAfterUnavailable {
				t.Errorf("%d sends to a service that is down", r.run.Emulator.Calls(emulator.OpSend))
			}
			var waits []int
			for _, d := range r.sleeps {
				waits = append(waits, int(d.Round(1e9)/1e9))
			}
			if !slices.Equal(waits, tc.waits) {
				t.Errorf("waited %v s, want %v s", waits, tc.waits)
			}
			r.run.Emulator.SetDown(false)
			code, _, errOut = r.invite(context.Background(), r.hooks(), args...)
			if code != tc.rerun {
				t.Fatalf("rerun: exit %d, want %d\n%s", code, tc.rerun, errOut)
			}
			r.assertOutbox(cmp.Or(tc.outbox, 10))
		})
	}
}

// The results file is the run's memory: when it cannot be written the run
// stops (exit 6). A row whose "sending" could not be written was not sent;
// one whose "sent" could not be written is unknown to the next run, never
// sent twice silently.
func TestInviteBulkResultsFileFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		state   string // the record of row 3 that cannot be written
		outbox  int    // after the first run
		unknown int    // rows the rerun reports unknown
	}{
		{name: "before sending", state: invite.Sending, outbox: 2},
		{name: "after sending", state: invite.Sent, outbox: 3, unknown: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInviteRig(t)
			csv := r.csv("devices.csv", 5)
			h := r.hooks()
			h.failWrite = func(rec invite.Record) error {
				if rec.Line == 4 && rec.State == tc.state {
					return errors.New("no space left on device")
				}
				return nil
			}
			args := []string{"--from", csv, "--concurrency", "1", "--rate", "0"}
			code, out, errOut := r.invite(context.Background(), h, args...)
			if _, sum := jsonRows(t, out); code != flow.ExitStore || len(r.run.Emulator.Outbox()) != tc.outbox || sum.NotSent != 2 {
				t.Fatalf("exit %d, outbox %d, summary %+v\n%s", code, len(r.run.Emulator.Outbox()), sum, errOut)
			}
			if !strings.Contains(errOut, "no space left on device") {
				t.Errorf("stderr does not say why:\n%s", errOut)
			}
			code, out, _ = r.invite(context.Background(), r.hooks(), args...)
			want := flow.ExitOK
			if tc.unknown > 0 {
				want = flow.ExitUnknown
			}
			if _, sum := jsonRows(t, out); code != want || sum.Unknown != tc.unknown {
				t.Fatalf("rerun: exit %d, summary %+v", code, sum)
			}
			r.assertOutbox(5)
		})
	}
}
