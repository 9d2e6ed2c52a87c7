package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"enroll/api/emulator"
	"enroll/seal/swtpmtest"
)

// enroll doctor's tpm check against swtpm: a sealed secret is unsealed (in
// memory, never shown) or the check fails with the TPM's own exit code;
// with nothing sealed, ENROLL_SEAL=tpm or auto has the TPM proven. The
// config line names ENROLL_SEAL and ENROLL_TPM. Nothing on disk changes.

func TestDoctorTPM(t *testing.T) {
	// sealed enrolls x with --seal tpm and returns the TPM's variables.
	sealedOn := func(x *fx) (*swtpmtest.TPM, map[string]string) {
		p, vars := x.tpmVars()
		inv := x.svc.invite(emulator.InvitationSpec{})
		x.exit(x.runIn(runOpts{vars: vars, stdin: inv.Link}, "accept", "--token-file", "-", "--seal", "tpm"), 0)
		return p, vars
	}
	sealed := func(x *fx) map[string]string { _, vars := sealedOn(x); return vars }
	noTPM := func(x *fx, seal string) map[string]string {
		return map[string]string{"ENROLL_TPM": "swtpm:" + filepath.Join(x.dir, "none.sock"), "ENROLL_SEAL": seal}
	}
	for _, tc := range []struct {
		name string
		set  func(t *testing.T, x *fx) map[string]string
		exit int
		want map[string]string
	}{
		{"sealed, the TPM unseals", func(t *testing.T, x *fx) map[string]string { return sealed(x) }, 0, map[string]string{
			"config":      "ok seal none (default); tpm swtpm:",
			"tpm":         "ok opened the TPM at swtpm:",
			"credentials": "ok 0600",
			"token":       "ok the service issued an access token"}},
		{"sealed, swtpm stopped", func(t *testing.T, x *fx) map[string]string {
			p, vars := sealedOn(x)
			p.Stop()
			return vars
		}, 4, map[string]string{
			"tpm":         "fail the TPM cannot unseal",
			"credentials": "ok 0600",
			"token":       "skip the sealed secret does not unseal here"}},
		{"sealed on another device", func(t *testing.T, x *fx) map[string]string {
			sealed(x)
			_, other := x.tpmVars()
			return other
		}, 4, map[string]string{"tpm": "fail sealed to another device's TPM", "credentials": "ok does not unseal here"}},
		{"sealed, the file changed since", func(t *testing.T, x *fx) map[string]string {
			vars := sealed(x)
			x.editSealed(x.file(), flipCiphertext)
			return vars
		}, 4, map[string]string{"tpm": "fail sealed credentials changed after sealing", "credentials": "ok "}},
		{"a sealed journal this device can finish", func(t *testing.T, x *fx) map[string]string {
			vars := sealed(x)
			more := x.svc.invite(emulator.InvitationSpec{Groups: []string{emulator.GroupLab}})
			x.killed("commit-create", vars, more.Link, "accept", "--token-file", "-")
			return vars
		}, 7, map[string]string{"tpm": "ok opened the TPM at swtpm:", "journal": "fail an interrupted enrollment is waiting"}},
		{"a sealed journal from another device", func(t *testing.T, x *fx) map[string]string {
			x.shortCreds()
			_, vars := x.tpmVars()
			inv := x.svc.invite(emulator.InvitationSpec{})
			x.killed("commit-create", vars, inv.Link, "accept", "--token-file", "-", "--seal", "tpm")
			_, other := x.tpmVars()
			return other
		}, 4, map[string]string{
			"tpm":     "fail sealed journal cannot be finished here",
			"journal": "fail an interrupted enrollment is waiting in"}},
		{"ENROLL_SEAL=tpm, not enrolled, the TPM works", func(t *testing.T, x *fx) map[string]string {
			_, vars := x.tpmVars()
			vars["ENROLL_SEAL"] = "tpm"
			return vars
		}, 0, map[string]string{"tpm": "ok the TPM at swtpm:", "config": "ok seal tpm (environment)"}},
		{"ENROLL_SEAL=tpm, no TPM", func(t *testing.T, x *fx) map[string]string { return noTPM(x, "tpm") }, 6,
			map[string]string{"tpm": "fail the TPM cannot seal"}},
		{"ENROLL_SEAL=auto, no TPM", func(t *testing.T, x *fx) map[string]string { return noTPM(x, "auto") }, 0,
			map[string]string{"tpm": "warn the TPM cannot seal"}},
		{"ENROLL_SEAL=tpm, a plain file", func(t *testing.T, x *fx) map[string]string {
			x.enroll()
			_, vars := x.tpmVars()
			vars["ENROLL_SEAL"] = "tpm"
			return vars
		}, 0, map[string]string{"tpm": "warn the TPM at swtpm:"}},
		{"not sealed, ENROLL_SEAL unset", func(t *testing.T, x *fx) map[string]string { x.enroll(); return nil }, 0,
			map[string]string{"tpm": "skip nothing is sealed", "config": "ok seal none (default); tpm /dev/tpmrm0 (default)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := newFx(t)
			vars := tc.set(t, x)
			before := snapshotDir(t, filepath.Dir(x.creds))
			rep, r := x.doctor(runOpts{vars: vars}, "--server", x.svc.URL)
			if r.code != tc.exit || rep.OK != (tc.exit == 0) {
				t.Errorf("exit %d, ok %v; want %d", r.code, rep.OK, tc.exit)
			}
			rep.expect(t, tc.want)
			text := x.runIn(runOpts{vars: vars}, "doctor", "--timeout", "5s", "--server", x.svc.URL)
			if text.code != tc.exit || !regexp.MustCompile(`(?m)^(ok|warn|fail|skip) +tpm `).MatchString(text.out) {
				t.Errorf("doctor (text): exit %d\n%s", text.code, text.out)
			}
			if after := snapshotDir(t, filepath.Dir(x.creds)); after != before {
				t.Errorf("doctor changed the directory:\n%s\nwas:\n%s", after, before)
			}
			if t.Failed() {
				t.Logf("%s\n%s", r.out, r.err)
			}
			if os.Getenv("DOCTOR_SHOW") != "" {
				t.Logf("enroll doctor:\n%s", text.out)
			}
			x.finish()
		})
	}
}

// snapshotDir names every file of dir with its mode and content.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		b.WriteString(e.Name() + " " + fi.Mode().String() + " " + string(data) + "\n")
	}
	return b.String()
}
