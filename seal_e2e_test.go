package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"enroll/api/emulator"
	"enroll/persist/schematest"
)

// Sealing end to end (issue 18): the real binary, a separate process for
// each command, against the emulator and a swtpm of the test's own. The
// fault matrix's sealing rows (fault_seal_test.go) cover what goes wrong.

func TestSealedEnrollmentEndToEnd(t *testing.T) {
	x := newFx(t)
	_, vars := x.tpmVars()
	bin := func(stdin string, args ...string) res {
		t.Helper()
		return x.start(childOpts{vars: vars, stdin: stdin}, args...).wait()
	}
	inv := x.svc.invite(emulator.InvitationSpec{})
	r := bin(inv.Link, "accept", "--token-file", "-", "--seal", "tpm", "--json")
	x.exit(r, 0, `"status": "enrolled"`, `"protection": "tpm"`)
	x.sealedIssued(vars)
	validateSchema(t, x.file())
	client := x.svc.emu.Clients()[0]

	r = bin("", "token")
	if c, ok := x.svc.emu.ClientOfToken(strings.TrimSpace(r.out)); r.code != 0 || !ok || c.ClientID != client.ClientID {
		t.Errorf("enroll token: exit %d, %q\n%s", r.code, r.out, r.err)
	}
	x.exit(bin("", "status"), 0, `secret +stored, sealed to this device's TPM, not shown`)
	x.exit(bin("", "status", "--verify", "--json"), 0, `"verified": true`, `"protection": "tpm"`)
	x.exit(bin("", "doctor"), 0, `ok +credentials .*the secret sealed to this device's TPM`)

	// Another invitation, without --seal: the file stays sealed, with the
	// same secret, and the device is in both groups.
	inv2 := x.svc.invite(emulator.InvitationSpec{Groups: []string{emulator.GroupLab}})
	x.exit(bin(inv2.Link, "accept", "--token-file", "-"), 0, `sealed to this device's TPM`)
	x.sealedIssued(vars)
	if c := x.svc.emu.Clients(); len(c) != 1 || len(c[0].Groups) != 2 {
		t.Errorf("clients %+v", c)
	}
	x.finish()
}

// TestSealWithoutTPMEndToEnd: the real binary, --seal tpm, and no TPM it
// can use: none at the default /dev/tpmrm0 (where this machine has none),
// no socket where ENROLL_TPM points (swtpm absent), swtpm stopped. Each is
// exit 6 before accepting, from accept and from the line-by-line wizard:
// no accept call, the invitation still open, nothing on disk. Once swtpm
// runs, the same invitation enrolls, sealed.
func TestSealWithoutTPMEndToEnd(t *testing.T) {
	x := newFx(t)
	p, running := x.tpmVars()
	p.Stop()
	cases := map[string]map[string]string{
		"swtpm absent":  {"ENROLL_TPM": "swtpm:" + filepath.Join(x.dir, "absent.sock")},
		"swtpm stopped": running,
	}
	if _, err := os.Stat("/dev/tpmrm0"); err != nil {
		cases["no /dev/tpmrm0"] = nil
	}
	inv := x.svc.invite(emulator.InvitationSpec{})
	for name, vars := range cases {
		for _, args := range [][]string{{"accept", "--token-file", "-", "--seal", "tpm"}, {"--plain", "--seal", "tpm", "--server", x.svc.URL}} {
			stdin := inv.Link
			if args[0] == "--plain" {
				stdin += "\n\na\n" // the link, the name as offered, a(ccept)
			}
			r := x.start(childOpts{vars: vars, stdin: stdin}, args...).wait()
			if r.code != 6 || !strings.Contains(r.all(), "TPM cannot seal") {
				t.Errorf("%s, enroll %s: exit %d\n%s", name, args[0], r.code, r.all())
			}
			x.record1(r)
		}
	}
	x.calls(emulator.OpAccept, 0)
	x.state(inv, emulator.StateOpen)
	if entries, _ := os.ReadDir(filepath.Dir(x.creds)); len(entries) > 1 { // the lock file at most
		t.Errorf("left on disk: %v", entries)
	}
	p.Restart()
	r := x.start(childOpts{vars: running, stdin: inv.Link + "\n\na\n"}, "--plain", "--seal", "tpm", "--server", x.svc.URL).wait()
	x.exit(r, 0, `sealed to this device's TPM`)
	x.sealedIssued(running)
	x.finish()
}

func TestSealAuto(t *testing.T) {
	for _, withTPM := range []bool{true, false} {
		x := newFx(t)
		vars := map[string]string{"ENROLL_TPM": "swtpm:" + filepath.Join(x.dir, "none.sock"), "ENROLL_SEAL": "auto"}
		want := `"protection": "none"`
		if withTPM {
			_, v := x.tpmVars()
			vars["ENROLL_TPM"], want = v["ENROLL_TPM"], `"protection": "tpm"`
		}
		inv := x.svc.invite(emulator.InvitationSpec{})
		x.exit(x.runIn(runOpts{vars: vars, stdin: inv.Link}, "accept", "--token-file", "-", "--json"), 0, want)
		if !withTPM {
			x.credsIssued()
		}
		x.finish()
	}
}

func TestSealSettings(t *testing.T) {
	x := newFx(t)
	for _, tc := range []struct {
		vars map[string]string
		args []string
		code int
		want string
	}{
		{map[string]string{"ENROLL_SEAL": "yes"}, nil, 2, `ENROLL_SEAL="yes" is not none, tpm or auto`},
		{nil, []string{"--seal", "maybe"}, 2, `"maybe" is not none, tpm or auto`},
		{map[string]string{"ENROLL_TPM": "tpmrm0"}, []string{"--seal", "tpm"}, 2, `ENROLL_TPM: the TPM setting "tpmrm0" is neither a device path`},
	} {
		inv := x.svc.invite(emulator.InvitationSpec{})
		r := x.runIn(runOpts{vars: tc.vars, stdin: inv.Link}, append([]string{"accept", "--token-file", "-"}, tc.args...)...)
		x.exit(r, tc.code, tc.want)
		x.state(inv, emulator.StateOpen)
	}
	// enroll seal on a device that is not enrolled.
	x.exit(x.run("seal"), 4, `This device is not enrolled`)
	x.finish()
}

// validateSchema checks a credentials file against the published schema.
func validateSchema(t *testing.T, data []byte) {
	t.Helper()
	if err := schematest.Validate(schematest.Compile(t), data); err != nil {
		t.Errorf("the file does not match the schema: %v\n%s", err, data)
	}
}
