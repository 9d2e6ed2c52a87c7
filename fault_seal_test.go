package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"enroll/api/emulator"
	"enroll/seal/swtpmtest"
)

// Rows about sealing the secret to the TPM (issue 18), each against its
// own swtpm: a TPM that is missing or stopped before accepting, a sealed
// file on another device, and a process killed at each commit point of a
// sealing accept and of `enroll seal`. Where swtpm cannot run they skip,
// except in CI.

// tpmVars starts a swtpm for x's device and returns the environment that
// names it.
func (x *fx) tpmVars() (*swtpmtest.TPM, map[string]string) {
	x.t.Helper()
	p := swtpmtest.Start(x.t)
	return p, map[string]string{"ENROLL_TPM": p.Setting()}
}

// secretPieces are the 12-character runs of a secret written as it is, in
// base64 (standard and URL alphabets) and in hex (either case): a part of
// the secret in a file (a dozen bytes, fewer encoded, at any offset)
// holds one of them. Base64 is taken at each of its three alignments, its
// last, padding-dependent characters left out. Twelve characters of a
// random 43-character secret do not turn up in a file's other content by
// chance.
func secretPieces(secret string) []string {
	const n = 12
	var forms []string
	b := []byte(secret)
	for off := 0; off < 3 && off < len(b); off++ {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			e := enc.EncodeToString(b[off:])
			forms = append(forms, e[:max(0, len(e)-4)])
		}
	}
	forms = append(forms, secret, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)))
	var pieces []string
	for _, f := range forms {
		for i := 0; i+n <= len(f); i++ {
			pieces = append(pieces, f[i:i+n])
		}
	}
	return pieces
}

// noSecretOnDisk fails when any file under the credentials directory (the
// file, journals, files set aside, temporary files, the lock) holds a
// client secret the service issued, or a piece of one (secretPieces),
// raw, in base64 (standard or URL, any alignment) or in hex.
func (x *fx) noSecretOnDisk() {
	x.t.Helper()
	var secrets []string
	for _, c := range x.svc.emu.Clients() {
		secrets = append(secrets, c.ClientSecret)
	}
	if len(secrets) == 0 {
		x.t.Fatal("noSecretOnDisk: the service issued no client, so there is nothing to look for")
	}
	found, files, err := secretsUnder(filepath.Dir(x.creds), secrets)
	if err != nil || files == 0 {
		x.t.Errorf("noSecretOnDisk: %d files read under %s: %v", files, filepath.Dir(x.creds), err)
	}
	for _, f := range found {
		x.t.Errorf("%s holds a client secret or a piece of one", f)
	}
}

// secretsUnder names the files under dir that hold a piece of a secret,
// and counts the files it read.
func secretsUnder(dir string, secrets []string) (found []string, files int, err error) {
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			for _, p := range secretPieces(s) {
				if bytes.Contains(b, []byte(p)) {
					found = append(found, filepath.Base(path))
					return nil
				}
			}
		}
		return nil
	})
	return found, files, err
}

// TestNoSecretOnDiskFinds is the check's own test: a plain credentials
// file, and files holding only a piece of the secret in each form, are
// found.
func TestNoSecretOnDiskFinds(t *testing.T) {
	x := newFx(t)
	x.enroll()
	secret := x.svc.emu.Clients()[0].ClientSecret
	if found, _, err := secretsUnder(filepath.Dir(x.creds), []string{secret}); err != nil || len(found) != 1 {
		t.Errorf("the plain file: found %v, %v", found, err)
	}
	piece := []byte(secret[5:25])
	for name, content := range map[string]string{
		"raw":       string(piece),
		"base64":    "xx" + base64.StdEncoding.EncodeToString(append([]byte("a"), piece...)) + "yy",
		"base64url": base64.RawURLEncoding.EncodeToString(append([]byte("ab"), piece...)),
		"hex":       strings.ToUpper(hex.EncodeToString(piece)),
		"none":      "not a secret",
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		found, files, err := secretsUnder(dir, []string{secret})
		if err != nil || files != 1 || (len(found) == 1) != (name != "none") {
			t.Errorf("%s: found %v in %d files, %v", name, found, files, err)
		}
	}
	x.finish()
}

// sealedIssued asserts the file is version 2, names the client the
// service issued, and holds no secret; a token through the TPM proves
// the sealed secret is the issued one.
func (x *fx) sealedIssued(vars map[string]string) {
	x.t.Helper()
	var f struct {
		Version      int
		ClientID     string
		ClientSecret *string
		Protection   *struct{ Kind string }
	}
	if err := json.Unmarshal(x.file(), &f); err != nil {
		x.t.Fatalf("credentials file: %v", err)
	}
	if f.Version != 2 || f.ClientSecret != nil || f.Protection == nil || f.Protection.Kind != "tpm2" {
		x.t.Errorf("not a sealed file:\n%s", x.file())
	}
	x.noSecretOnDisk()
	x.tokenWorks(vars, f.ClientID)
}

// tokenWorks runs enroll token and checks the service issued the token
// to clientID.
func (x *fx) tokenWorks(vars map[string]string, clientID string) {
	x.t.Helper()
	r := x.runIn(runOpts{vars: vars}, "token")
	c, ok := x.svc.emu.ClientOfToken(strings.TrimSpace(r.out))
	if r.code != 0 || !ok || c.ClientID != clientID {
		x.t.Errorf("enroll token: exit %d, %q\n%s", r.code, r.out, r.err)
	}
}

// killed runs enroll ARGS as a separate process, kills it at point and
// checks that it died there.
func (x *fx) killed(point string, vars map[string]string, stdin string, args ...string) {
	x.t.Helper()
	c := x.start(childOpts{gate: point + ":hang", vars: vars, stdin: stdin}, args...)
	c.waitMark("gate " + point)
	if err := c.cmd.Process.Kill(); err != nil {
		x.t.Fatal(err)
	}
	if r := c.wait(); r.code != -1 {
		x.t.Fatalf("exit %d; it was not killed", r.code)
	}
	x.leftovers = true // the dead process's temporary file, if it had one
}

func sealRows() []faultRow {
	// notSealing: accept --seal tpm that must stop before accepting.
	notSealing := func(t *testing.T, x *fx, vars map[string]string) emulator.Invitation {
		inv := x.svc.invite(emulator.InvitationSpec{})
		r := x.runIn(runOpts{vars: vars, stdin: inv.Link}, "accept", "--token-file", "-", "--seal", "tpm")
		x.exit(r, 6, `This device's TPM cannot seal the credentials, so the invitation was not used`, `ENROLL_TPM`)
		x.calls(emulator.OpAccept, 0)
		x.state(inv, emulator.StateOpen)
		x.noCreds()
		return inv
	}
	// sealKilledAt kills enroll seal of a plain file at point, and checks the
	// plain file survived whole and still works.
	sealKilledAt := func(t *testing.T, x *fx, point string) {
		_, vars := x.tpmVars()
		old := x.enroll()
		x.killed(point, vars, "", "seal")
		x.credsEqual(old)
		x.tokenWorks(vars, x.svc.emu.Clients()[0].ClientID)
		x.exit(x.runIn(runOpts{vars: vars}, "seal"), 0, `Sealed: the client secret is now sealed to this device's TPM`)
		x.sealedIssued(vars)
	}
	return []faultRow{
		{"--seal tpm with no TPM where ENROLL_TPM points", "exit 6 before accepting, \"TPM cannot seal\"; accept never sent, invitation open, no file",
			func(t *testing.T, x *fx) {
				swtpmtest.Need(t)
				_ = notSealing(t, x, map[string]string{"ENROLL_TPM": "swtpm:" + filepath.Join(x.dir, "no-tpm.sock")})
			}},
		{"--seal tpm with swtpm stopped (its socket refuses)", "exit 6 before accepting; invitation open, no file; once swtpm runs again the same invitation enrolls, sealed",
			func(t *testing.T, x *fx) {
				p, vars := x.tpmVars()
				p.Stop()
				inv := notSealing(t, x, vars)
				p.Restart()
				x.exit(x.runIn(runOpts{vars: vars, stdin: inv.Link}, "accept", "--token-file", "-", "--seal", "tpm"), 0, `sealed to this device's TPM`)
				x.sealedIssued(vars)
			}},
		{"a sealed credentials file copied to another device (another swtpm)", "token, status and accept exit 4 \"sealed to another device's TPM; enroll this device with its own invitation\"; the copy unchanged, never moved aside; the invitation unused",
			func(t *testing.T, x *fx) {
				_, vars := x.tpmVars()
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.exit(x.runIn(runOpts{vars: vars, stdin: inv.Link}, "accept", "--token-file", "-", "--seal", "tpm"), 0)
				copied := x.file()
				_, other := x.tpmVars() // the same file, another device's TPM
				const msg = `sealed to another device's TPM; enroll this device with its own invitation`
				x.exit(x.runIn(runOpts{vars: other}, "token"), 4, msg)
				x.exit(x.runIn(runOpts{vars: other}, "status", "--json"), 4, msg, `"kind": "sealed-elsewhere"`)
				second := x.svc.invite(emulator.InvitationSpec{})
				x.exit(x.runIn(runOpts{vars: other, stdin: second.Link}, "accept", "--token-file", "-"), 4, msg, "enroll forget")
				x.lacks(x.runIn(runOpts{vars: other}, "token"), `(?i)decrypt|cipher|message authentication`)
				x.state(second, emulator.StateOpen)
				x.credsEqual(copied)
				if g := x.glob("credentials.json.*"); len(g) != 0 {
					t.Errorf("files set aside: %v", g)
				}
			}},
		{"accept --seal tpm killed after the sealed answer was journaled, before the commit", "no credentials file; the journal holds no byte of the secret; with swtpm stopped the next run exits 4 and keeps it; once swtpm runs, a run with --seal none completes it, sealed, without calling the service",
			func(t *testing.T, x *fx) {
				p, vars := x.tpmVars()
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.killed("commit-create", vars, inv.Link, "accept", "--token-file", "-", "--seal", "tpm")
				x.state(inv, emulator.StateAccepted)
				x.noCreds()
				x.exists(x.creds + ".pending")
				x.noSecretOnDisk()
				p.Stop()
				x.exit(x.runIn(runOpts{vars: vars}, "accept"), 4, `sealed to its TPM, and the TPM cannot be used`)
				x.exists(x.creds + ".pending")
				p.Restart()
				r := x.runIn(runOpts{vars: vars}, "accept", "--json", "--seal", "none")
				x.exit(r, 0, `"recovered": true`, `"protection": "tpm"`)
				x.calls(emulator.OpAccept, 1)
				x.absent(x.creds + ".pending")
				x.sealedIssued(vars)
			}},
		{"enroll seal killed before the sealed file was created", "the plain file intact byte for byte; enroll token works; enroll seal then seals it",
			func(t *testing.T, x *fx) { sealKilledAt(t, x, "commit-create") }},
		{"enroll seal killed with the sealed file written and synced, before its rename", "the plain file intact byte for byte (the temporary file, 0600, holds only the sealed form); enroll token works; enroll seal then seals it",
			func(t *testing.T, x *fx) { sealKilledAt(t, x, "commit") }},
		{"enroll seal killed after the rename, before the directory sync", "the sealed file, complete: enroll token unseals it; enroll seal says it is sealed already",
			func(t *testing.T, x *fx) {
				_, vars := x.tpmVars()
				x.enroll()
				x.killed("renamed", vars, "", "seal")
				x.sealedIssued(vars)
				x.exit(x.runIn(runOpts{vars: vars}, "seal"), 0, `sealed to this device's TPM already; nothing changed`)
			}},
		{"enroll seal with swtpm stopped", "exit 6, \"TPM cannot seal\", before anything is written; the plain file intact byte for byte",
			func(t *testing.T, x *fx) {
				p, vars := x.tpmVars()
				old := x.enroll()
				p.Stop()
				x.exit(x.runIn(runOpts{vars: vars}, "seal"), 6, `TPM cannot seal`, `still unsealed|cannot seal`)
				x.credsEqual(old)
			}},
	}
}
