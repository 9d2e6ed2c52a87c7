package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"enroll/api/emulator"
)

// Rows about sealed files that this device's TPM cannot give back as they
// were sealed: a file edited after sealing, and a journal (alone, or
// beside a file) copied from another device, which enroll forget does not
// remove. Each against swtpm, two instances where two devices are meant.

// editSealed rewrites the credentials file with one field changed by
// edit, as JSON, and returns what it wrote.
func (x *fx) editSealed(orig []byte, edit func(f map[string]any)) []byte {
	x.t.Helper()
	var f map[string]any
	if err := json.Unmarshal(orig, &f); err != nil {
		x.t.Fatal(err)
	}
	edit(f)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		x.t.Fatal(err)
	}
	if err := os.WriteFile(x.creds, b, 0o600); err != nil {
		x.t.Fatal(err)
	}
	return b
}

// flipCiphertext changes one bit of the sealed secret's ciphertext.
func flipCiphertext(f map[string]any) {
	p := f["protection"].(map[string]any)
	c, _ := base64.StdEncoding.DecodeString(p["ciphertext"].(string))
	c[len(c)/2] ^= 1
	p["ciphertext"] = base64.StdEncoding.EncodeToString(c)
}

// shortCreds puts the credentials under a short path, as long as
// /var/lib/enroll's: a message is cut at 400 characters, and the mv it
// names holds the journal's path twice.
func (x *fx) shortCreds() {
	x.t.Helper()
	dir, err := os.MkdirTemp("", "enroll-")
	if err != nil {
		x.t.Fatal(err)
	}
	x.t.Cleanup(func() { _ = os.RemoveAll(dir) })
	x.creds = filepath.Join(dir, "enroll", "credentials.json")
}

// mvCommand is the `mv -n JOURNAL JOURNAL.foreign` a message asks the
// person to run; it must name the journal of this credentials file.
var mvCommand = regexp.MustCompile(`mv -n ('[^']*'|\S+) ('[^']*'|\S+)`)

// runMv runs, as the person would, the mv command that r prints, and
// checks it moved the journal aside.
func (x *fx) runMv(r res) {
	x.t.Helper()
	m := mvCommand.FindStringSubmatch(r.all())
	if m == nil || m[1] != x.creds+".pending" || m[2] != x.creds+".pending.foreign" {
		x.t.Fatalf("no mv of the journal in:\n%s", r.all())
	}
	if out, err := exec.Command("/bin/sh", "-c", m[0]).CombinedOutput(); err != nil {
		x.t.Fatalf("%s: %v\n%s", m[0], err, out)
	}
	x.absent(x.creds + ".pending")
	x.exists(x.creds + ".pending.foreign")
}

func sealCopyRows() []faultRow {
	const elsewhere = `sealed to another device's TPM`
	return []faultRow{
		{"a sealed credentials file edited after sealing (one bit of its ciphertext, or its clientId)", "token, status and accept exit 4 \"changed after it was sealed\" with its own hint (restore a backup of this device, or enroll forget and a new invitation), never \"root or the reader group\"; the file unchanged, never moved aside; the backup restored, token works again; forget and a new invitation enroll",
			func(t *testing.T, x *fx) {
				_, vars := x.tpmVars()
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.exit(x.runIn(runOpts{vars: vars, stdin: inv.Link}, "accept", "--token-file", "-", "--seal", "tpm"), 0)
				backup := x.file()
				const changed, hint = `The credentials file was changed after it was sealed`, "Restore the file from a backup of this device; otherwise run `enroll forget`"
				for _, edit := range []func(map[string]any){flipCiphertext, func(f map[string]any) { f["clientId"] = "someone-else" }} {
					edited := x.editSealed(backup, edit)
					r := x.runIn(runOpts{vars: vars}, "token")
					x.exit(r, 4, changed, regexp.QuoteMeta(hint))
					x.lacks(r, `reader group|as root|(?i)message authentication`)
					x.exit(x.runIn(runOpts{vars: vars}, "status", "--json"), 4, `"kind": "sealed-changed"`)
					second := x.svc.invite(emulator.InvitationSpec{})
					x.exit(x.runIn(runOpts{vars: vars, stdin: second.Link}, "accept", "--token-file", "-"), 4, changed)
					x.state(second, emulator.StateOpen)
					x.credsEqual(edited)
					if g := x.glob("credentials.json.*"); len(g) != 0 {
						t.Errorf("files set aside: %v", g)
					}
				}
				if err := os.WriteFile(x.creds, backup, 0o600); err != nil {
					t.Fatal(err)
				}
				x.tokenWorks(vars, x.svc.emu.Clients()[0].ClientID)
				x.editSealed(backup, flipCiphertext)
				x.exit(x.runIn(runOpts{vars: vars}, "forget", "--yes"), 0)
				next := x.svc.invite(emulator.InvitationSpec{})
				x.exit(x.runIn(runOpts{vars: vars, stdin: next.Link}, "accept", "--token-file", "-", "--seal", "tpm"), 0, `sealed to this device's TPM`)
				x.sealedIssued(vars)
			}},
		{"a sealed journal copied from another device (another swtpm), no credentials file", "accept exits 4 naming the journal and the `mv -n` that moves it aside (enroll forget does not remove a journal), the invitation unused; forget exits 7 naming the same mv; after that mv, the same invitation enrolls, sealed to this device's TPM; the journal kept aside, still sealed",
			func(t *testing.T, x *fx) {
				x.shortCreds()
				_, vars := x.tpmVars()
				first := x.svc.invite(emulator.InvitationSpec{})
				x.killed("commit-create", vars, first.Link, "accept", "--token-file", "-", "--seal", "tpm")
				x.noCreds()
				_, other := x.tpmVars()      // the same disk, another device's TPM
				other["ENROLL_SEAL"] = "tpm" // as the copied /etc/default/enroll says
				inv := x.svc.invite(emulator.InvitationSpec{})
				r := x.runIn(runOpts{vars: other, stdin: inv.Link}, "accept", "--token-file", "-")
				x.exit(r, 4, `An interrupted enrollment's journal is `+elsewhere, regexp.QuoteMeta(x.creds+".pending was sealed by another device's TPM"),
					`Move the journal aside with the command above, as root \(enroll forget refuses`)
				x.state(inv, emulator.StateOpen)
				x.exit(x.runIn(runOpts{vars: other}, "status", "--json"), 4, `"status": "not-enrolled"`, `"pendingJournal"`)
				f := x.runIn(runOpts{vars: other}, "forget", "--yes")
				x.exit(f, 7, `never committed`)
				x.runMv(f)
				x.exit(x.runIn(runOpts{vars: other, stdin: inv.Link}, "accept", "--token-file", "-"), 0, `sealed to this device's TPM`)
				x.state(inv, emulator.StateAccepted)
				x.sealedIssued(other)
			}},
		{"a sealed credentials file and journal copied from another device (another swtpm)", "accept exits 4 \"" + elsewhere + "\" and says to run enroll forget; forget exits 7 naming the journal's `mv -n`; after it, forget and a new invitation enroll the device, sealed to its own TPM",
			func(t *testing.T, x *fx) {
				x.shortCreds()
				_, vars := x.tpmVars()
				x.exit(x.runIn(runOpts{vars: vars, stdin: x.svc.invite(emulator.InvitationSpec{}).Link}, "accept", "--token-file", "-", "--seal", "tpm"), 0)
				more := x.svc.invite(emulator.InvitationSpec{Groups: []string{emulator.GroupLab}})
				x.killed("commit-create", vars, more.Link, "accept", "--token-file", "-")
				x.exists(x.creds + ".pending")
				_, other := x.tpmVars()
				inv := x.svc.invite(emulator.InvitationSpec{})
				x.exit(x.runIn(runOpts{vars: other, stdin: inv.Link}, "accept", "--token-file", "-"), 4, elsewhere, "enroll forget")
				x.state(inv, emulator.StateOpen)
				f := x.runIn(runOpts{vars: other}, "forget", "--yes")
				x.exit(f, 7)
				x.runMv(f)
				x.exit(x.runIn(runOpts{vars: other}, "forget", "--yes"), 0, `Deleted`)
				x.exit(x.runIn(runOpts{vars: other, stdin: inv.Link}, "accept", "--token-file", "-", "--seal", "tpm"), 0, `sealed to this device's TPM`)
				x.sealedIssued(other)
			}},
	}
}
