package main

import (
	"bytes"
	"strings"
	"testing"

	"enroll/flow"
	"enroll/persist"
)

// How the wizard's end is reported when it was left while working: before
// anything was sent (a second Ctrl-C while the store is slow to answer) it
// is an interruption, exit 130; once the accept call may have reached the
// service, the outcome is unknown, exit 7.
func TestReportWizardLeftWhileWorking(t *testing.T) {
	const link = "https://idp.example.com/invitation?token=Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODk"
	walk := func(events ...flow.Event) flow.Machine {
		m, _ := flow.Start(flow.Config{Server: "https://idp.example.com", Hostname: "lab-1"})
		for _, ev := range events {
			m, _ = flow.Step(m, ev)
		}
		return m
	}
	toPrepare := []flow.Event{flow.Loaded{}, flow.Next{}, flow.InvitationEntered{Text: link}, flow.NameDefault{}, flow.AcceptChosen{}}
	for _, tc := range []struct {
		name string
		m    flow.Machine
		exit int
		says string
	}{
		{"preparing, interrupted", walk(append(toPrepare, flow.Interrupt{})...), flow.ExitInterrupted, "nothing was sent"},
		{"accepting, interrupted", walk(append(toPrepare, flow.Prepared{}, flow.Interrupt{})...), flow.ExitUnknown, "stopped while accepting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			e := env{stdout: &bytes.Buffer{}, stderr: &stderr}
			st := persist.Open(persist.Options{Path: t.TempDir() + "/credentials.json"})
			err := reportWizard(e, &common{}, tc.m, st)
			if got := flow.Classify(err).Exit; got != tc.exit || !strings.Contains(stderr.String(), tc.says) {
				t.Errorf("state %v: exit %d, said %q; want %d and %q", tc.m.State, got, stderr.String(), tc.exit, tc.says)
			}
		})
	}
}

// An interruption is reported by its summary, without the sentinel's bare
// name repeated under it.
func TestReportInterruptionOnce(t *testing.T) {
	m, _ := flow.Start(flow.Config{Server: "https://idp.example.com", Hostname: "lab-1"})
	for _, ev := range []flow.Event{flow.Loaded{}, flow.Next{}, flow.Interrupt{}} {
		m, _ = flow.Step(m, ev)
	}
	var stderr bytes.Buffer
	st := persist.Open(persist.Options{Path: t.TempDir() + "/credentials.json"})
	err := reportWizard(env{stdout: &bytes.Buffer{}, stderr: &stderr}, &common{}, m, st)
	if got := stderr.String(); flow.Classify(err).Exit != flow.ExitInterrupted || !strings.Contains(got, "Interrupted.") || strings.Contains(got, "  interrupted\n") {
		t.Errorf("exit %d, said %q", flow.Classify(err).Exit, got)
	}
}
