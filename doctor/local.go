package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"enroll/flow"
	"enroll/persist"
)

// config lists the settings in effect and where each came from.
func (r *run) config() {
	var parts []string
	for _, s := range r.o.Settings {
		v := s.Value
		if v == "" {
			v = "—"
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", s.Name, flow.SanitizeMax(v, 200), s.Source))
	}
	c := Check{Name: "config", Status: OK, Detail: strings.Join(parts, "; ")}
	switch {
	case r.o.DefaultsErr != nil:
		c.Status = Warn
		c.Detail += "; the defaults file cannot be read here: " + flow.SanitizeMax(r.o.DefaultsErr.Error(), 200)
		c.Hint = "This run may see other settings than the first-boot unit (which reads the file as root)."
	case len(r.o.Problems) > 0:
		c.Status = Warn
		c.Detail += "; the defaults file: " + flow.SanitizeMax(strings.Join(r.o.Problems, "; "), 400)
		c.Hint = "Fix those lines: enroll ignores them (and systemd may read them differently)."
	}
	r.add(c)
}

// token gets an access token with the stored credentials, as the licensed
// application would; the token itself is never shown.
func (r *run) token(ctx context.Context, snap snapshot, loadErr error) {
	switch {
	case unsealFailure(loadErr):
		r.add(skipped("token", "the sealed secret does not unseal here (see tpm)"))
		return
	case loadErr != nil:
		r.add(skipped("token", "the credentials cannot be read"))
		return
	case snap.Existing == nil:
		r.add(skipped("token", "this device is not enrolled"))
		return
	case !r.reachable:
		r.add(skipped("token", "the service could not be reached"))
		return
	case r.o.Server != snap.Existing.Server:
		r.add(Check{Name: "token", Status: Warn, Detail: "not tried: this device is enrolled with " + flow.Sanitize(snap.Existing.Server) +
			", not " + flow.Sanitize(r.o.Server) + ", and its secret goes only there", Hint: "Run doctor without --server to check the enrolled server."})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	if _, err := r.o.Service.Authenticate(ctx, snap.Existing.Server, *snap.Existing); err != nil {
		r.add(failed("token", err, ""))
		return
	}
	r.add(Check{Name: "token", Status: OK, Detail: "the service issued an access token to client " + flow.SanitizeMax(snap.Existing.ClientID, 100)})
}

// file describes the credentials file and its directory: who may read
// them, and whether they are shared with a reader group.
func (r *run) file(snap snapshot, loadErr error) {
	path := r.o.Store.Path()
	// A secret the TPM does not give back is the tpm check's failure: the
	// file itself is described here.
	unsealed := unsealFailure(loadErr)
	if loadErr != nil && !unsealed {
		r.add(failed("credentials", loadErr, ""))
		return
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.add(Check{Name: "credentials", Status: Warn, Detail: "this device is not enrolled: no file at " + flow.Sanitize(path),
			Hint: "Accept an invitation: enroll accept --token-file FILE."})
		return
	case err != nil:
		r.add(failed("credentials", fmt.Errorf("%w: %v", flow.ErrStoreUnavailable, err), ""))
		return
	}
	detail := flow.Sanitize(path) + " " + describe(fi)
	if di, err := os.Stat(filepath.Dir(path)); err == nil {
		detail += "; its directory " + describe(di)
	}
	switch {
	case snap.Existing != nil && snap.Existing.Sealed:
		detail += "; the secret sealed to this device's TPM (it unseals here)"
	case unsealed:
		detail += "; the secret sealed to a TPM, and it does not unseal here (see tpm)"
	}
	c := Check{Name: "credentials", Status: OK, Detail: detail}
	di, _ := os.Stat(filepath.Dir(path))
	switch {
	case snap.Existing == nil && !unsealed:
		c.Status, c.Kind = Fail, flow.ErrNotEnrolled
		c.Hint = "The file cannot be used (see the warnings): run enroll accept with a new invitation; it moves the file aside first."
	case fi.Mode().Perm()&0o007 != 0 || di != nil && di.Mode().Perm()&0o002 != 0 && di.Mode()&fs.ModeSticky == 0:
		c.Status, c.Kind = Fail, flow.ErrStoreUnavailable
		c.Hint = "Every user of the device can read the secret, or replace the file: run enroll accept as root to tighten it (chmod 600 / 700)."
	case shares(fi) && di != nil && !reaches(di, groupID(fi)):
		c.Status, c.Kind = Fail, flow.ErrUnreadable
		c.Detail += "; the reader group cannot reach the file: the directory does not let it in"
		c.Hint = "Run enroll accept as root: it gives enroll's own directory 0750 to the reader group."
	case r.o.ReaderGroup != "" && r.o.ReaderGroup != persist.ReaderGroupNone && !sameGroup(fi, r.o.ReaderGroup):
		c.Status = Warn
		c.Detail += "; the configured reader group " + flow.Sanitize(r.o.ReaderGroup) + " is not the file's"
		c.Hint = "The next enroll accept gives the file to the configured group."
	}
	if len(snap.Warnings) > 0 {
		if c.Status == OK {
			c.Status = Warn
		}
		c.Detail += "; " + flow.SanitizeMax(strings.Join(snap.Warnings, " "), 600)
	}
	r.add(c)
}

// shares reports a file shared with a reader group as enroll shares it.
func shares(fi fs.FileInfo) bool { return fi.Mode().Perm() == 0o640 && groupID(fi) > 0 }

func groupID(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Gid)
	}
	return -1
}

// reaches reports whether members of gid may pass through the directory.
func reaches(di fs.FileInfo, gid int) bool {
	perm := di.Mode().Perm()
	return perm&0o001 != 0 || groupID(di) == gid && perm&0o010 != 0
}

// sameGroup reports whether the file's group is the one named (a name or
// a number).
func sameGroup(fi fs.FileInfo, name string) bool {
	gid := groupID(fi)
	if n, err := strconv.Atoi(name); err == nil {
		return n == gid
	}
	g, err := user.LookupGroup(name)
	return err == nil && g.Gid == strconv.Itoa(gid)
}

// describe is a file's mode, owner and group, and what they mean.
func describe(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Sprintf("%04o", fi.Mode().Perm())
	}
	owner, group := strconv.Itoa(int(st.Uid)), strconv.Itoa(int(st.Gid))
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	if g, err := user.LookupGroupId(group); err == nil {
		group = g.Name
	}
	s := fmt.Sprintf("%04o %s:%s", fi.Mode().Perm(), owner, group)
	if fi.Mode().Perm()&0o040 != 0 && st.Gid != 0 {
		s += " (shared with the reader group " + group + ")"
	}
	return s
}

// journal reports an interrupted enrollment waiting to be finished, and
// answers set aside for support.
func (r *run) journal(snap snapshot, unsealErr error) {
	path := r.o.Store.Path()
	aside, _ := filepath.Glob(path + ".pending.*")
	corrupt, _ := filepath.Glob(path + ".corrupt-*")
	aside = append(aside, corrupt...)
	switch {
	case snap.Pending != nil && unsealErr != nil:
		// enroll accept cannot finish it here: the tpm check says why and
		// names the command that moves it aside.
		c := failed("journal", unsealErr, "an interrupted enrollment is waiting in "+flow.Sanitize(r.o.Store.JournalPath())+", and this device cannot finish it (see tpm)")
		r.add(c)
	case snap.Pending != nil:
		r.add(Check{Name: "journal", Status: Fail, Detail: "an interrupted enrollment is waiting in " + flow.Sanitize(r.o.Store.JournalPath()),
			Hint: "Run enroll accept: it finishes that enrollment from the journal, without calling the service.", Kind: flow.ErrPending})
	case len(aside) > 0:
		r.add(Check{Name: "journal", Status: Warn, Detail: "kept for support, out of the way: " + flow.SanitizeMax(strings.Join(aside, ", "), 400),
			Hint: "Answers enroll could not use, kept in case they are needed: send them to support, then delete them."})
	default:
		r.add(Check{Name: "journal", Status: OK, Detail: "no interrupted enrollment"})
	}
}
