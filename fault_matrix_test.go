package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// The fault matrix (issue 5): each row names a fault, injects it for real —
// the emulator's failure modes or a front that breaks an answer the
// emulator really committed, a filesystem that fails (env.fs), a process
// killed or signalled at a point it reports, a closed connection, a name
// that does not resolve, an untrusted certificate, a proxy — and asserts
// three things: the exit code or the screen; the message, which names
// what happened and what to do next; and that nothing was lost: the
// credentials file is the old one or the complete new one, the invitation's
// state on the emulator is what the message claims, and nothing printed
// (--verbose included) holds a secret, an invitation token or a terminal
// control (fx.finish, run after every row).
//
// The rows live in fault_*_test.go by area. SECURITY.md lists them, one line
// each, with the result each guarantees; TestSecurityListsTheFaultMatrix
// keeps the two in step.

type faultRow struct {
	fault  string // what goes wrong
	result string // what enroll guarantees then
	test   func(t *testing.T, x *fx)
}

func faultMatrix() []faultRow {
	return slices.Concat(networkRows(), tokenRows(), acceptRows(), answerRows(), storeRows(), crashRows(), signalRows(), sealRows(), sealCopyRows())
}

func TestFaultMatrix(t *testing.T) {
	seen := map[string]bool{}
	for _, row := range faultMatrix() {
		if seen[row.fault] {
			t.Fatalf("two rows named %q", row.fault)
		}
		seen[row.fault] = true
		t.Run(row.fault, func(t *testing.T) {
			t.Parallel()
			x := newFx(t)
			row.test(t, x)
			x.finish()
		})
	}
}

// matrixLine is how SECURITY.md lists a row.
func matrixLine(r faultRow) string { return fmt.Sprintf("- %s → %s", r.fault, r.result) }

// TestSecurityListsTheFaultMatrix fails when a row is added, renamed or
// dropped without SECURITY.md following. FAULT_MATRIX_PRINT=1 prints the
// list to paste.
func TestSecurityListsTheFaultMatrix(t *testing.T) {
	var lines []string
	for _, r := range faultMatrix() {
		lines = append(lines, matrixLine(r))
	}
	if os.Getenv("FAULT_MATRIX_PRINT") != "" {
		fmt.Println(strings.Join(lines, "\n"))
	}
	doc, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if !strings.Contains(string(doc), l+"\n") {
			t.Errorf("SECURITY.md lacks the line\n%s", l)
		}
	}
}
