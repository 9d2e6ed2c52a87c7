// Package emulatortest starts the service emulator for tests, on loopback,
// for the life of one test: the one place every test package gets it from.
package emulatortest

import (
	"testing"

	"enroll/api/emulator"
)

// Start serves an emulator on a free loopback port until the test ends.
func Start(t testing.TB, o emulator.Options) *emulator.Running {
	t.Helper()
	run, err := emulator.Listen("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	return run
}

// Invite creates an invitation; without groups it is for the kiosks group.
func Invite(t testing.TB, e *emulator.Emulator, spec emulator.InvitationSpec) emulator.Invitation {
	t.Helper()
	if spec.Groups == nil {
		spec.Groups = []string{emulator.GroupKiosks}
	}
	inv, err := e.CreateInvitation(spec)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}
