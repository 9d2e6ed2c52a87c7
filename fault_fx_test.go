package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"enroll/api/emulator"
)

// fx is one row's fixture: a temporary directory whose enroll/ subdirectory
// holds the credentials, a service, and every output of every run, which
// the checks at the end of the row search for leaks and terminal controls.
type fx struct {
	t     *testing.T
	svc   *service
	dir   string
	creds string // dir/enroll/credentials.json

	mu      sync.Mutex
	outs    []string
	screens []string // a terminal's text: searched for secrets only
	secrets []string // besides the service's own
	// shownOnce is a secret the row expects on stderr exactly once (the
	// one-time display of credentials that could not be stored).
	shownOnce string
	// leftovers are temporary files the row expects in the directory (a
	// process killed while writing).
	leftovers bool
	// fileMode is the credentials file's mode the row expects at the end
	// when it is not 0600 (a row that loosened it on purpose).
	fileMode fs.FileMode
}

func newFx(t *testing.T) *fx {
	dir := t.TempDir()
	x := &fx{t: t, dir: dir, creds: filepath.Join(dir, "enroll", "credentials.json")}
	x.svc = newService(t, svcOpts{})
	return x
}

func (x *fx) record(outs ...string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.outs = append(x.outs, outs...)
}

func (x *fx) record1(r res) { x.record(r.out, r.err) }

func (x *fx) recordScreen(s string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.screens = append(x.screens, s)
}

// also marks more values that must never be printed.
func (x *fx) also(secrets ...string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.secrets = append(x.secrets, secrets...)
}

// enroll makes the device a client with a fresh invitation and returns the
// file's bytes, the "old file" of the rows that follow.
func (x *fx) enroll() []byte {
	x.t.Helper()
	inv := x.svc.invite(emulator.InvitationSpec{})
	if r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-"); r.code != 0 {
		x.t.Fatalf("first enrollment: exit %d\n%s", r.code, r.err)
	}
	return x.file()
}

func (x *fx) file() []byte {
	x.t.Helper()
	b, err := os.ReadFile(x.creds)
	if err != nil {
		x.t.Fatal(err)
	}
	return b
}

// exit asserts the exit code and that every pattern matches the run's
// output (stdout and stderr together).
func (x *fx) exit(r res, code int, patterns ...string) {
	x.t.Helper()
	if r.code != code {
		x.t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, short(r.out), short(r.err))
	}
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(r.all()) {
			x.t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", p, short(r.out), short(r.err))
		}
	}
}

// lacks asserts that no pattern matches.
func (x *fx) lacks(r res, patterns ...string) {
	x.t.Helper()
	for _, p := range patterns {
		if regexp.MustCompile(p).MatchString(r.all()) {
			x.t.Errorf("output holds %q\nstdout:\n%s\nstderr:\n%s", p, short(r.out), short(r.err))
		}
	}
}

// jsonOut decodes --json output; it must be exactly one object.
func (x *fx) jsonOut(r res) result {
	x.t.Helper()
	var v result
	dec := json.NewDecoder(strings.NewReader(r.out))
	if err := dec.Decode(&v); err != nil || dec.More() {
		x.t.Fatalf("stdout is not one JSON object (%v):\n%s", err, r.out)
	}
	return v
}

func (x *fx) noCreds() {
	x.t.Helper()
	if _, err := os.Lstat(x.creds); !errors.Is(err, fs.ErrNotExist) {
		x.t.Errorf("a credentials file exists: %v", err)
	}
}

func (x *fx) credsEqual(old []byte) {
	x.t.Helper()
	if got := x.file(); !bytes.Equal(got, old) {
		x.t.Errorf("the credentials file changed:\n%s\nwas:\n%s", got, old)
	}
}

// credsIssued asserts the file holds exactly what the emulator issued to
// the client it names (the complete new file).
func (x *fx) credsIssued() {
	x.t.Helper()
	var f struct {
		Version                            int
		Server, ID, ClientID, ClientSecret string
	}
	if err := json.Unmarshal(x.file(), &f); err != nil {
		x.t.Fatalf("credentials file: %v", err)
	}
	for _, c := range x.svc.emu.Clients() {
		if c.ClientID == f.ClientID && c.ID == f.ID && c.ClientSecret == f.ClientSecret && f.Version == 1 && f.Server != "" {
			return
		}
	}
	x.t.Errorf("the credentials file does not hold what the service issued: %+v", f.ClientID)
}

func (x *fx) state(inv emulator.Invitation, want emulator.State) {
	x.t.Helper()
	st, ok := x.svc.emu.Invitation(inv.Token)
	if !ok || st.State != want {
		x.t.Errorf("invitation is %q, want %q", st.State, want)
	}
}

func (x *fx) calls(op string, want int) {
	x.t.Helper()
	if got := x.svc.emu.Calls(op); got != want {
		x.t.Errorf("%s calls = %d, want %d", op, got, want)
	}
}

func (x *fx) exists(path string) {
	x.t.Helper()
	if _, err := os.Lstat(path); err != nil {
		x.t.Errorf("%s: %v", path, err)
	}
}

func (x *fx) absent(path string) {
	x.t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		x.t.Errorf("%s exists (%v)", path, err)
	}
}

func (x *fx) mode(path string, want fs.FileMode) {
	x.t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		x.t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		x.t.Errorf("%s mode %04o, want %04o", path, got, want)
	}
}

// glob returns the files matching a pattern in the credentials directory.
func (x *fx) glob(pattern string) []string {
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(x.creds), pattern))
	return m
}

// finish runs the checks every row shares: nothing printed holds a secret
// or a terminal control, a credentials file left behind is 0600 in a 0700
// directory, and no temporary file (a reserved one included) is left over.
func (x *fx) finish() {
	t := x.t
	t.Helper()
	x.mu.Lock()
	outs := append([]string{}, x.outs...)
	screens := append([]string{}, x.screens...)
	secrets := append(x.svc.secrets(), x.secrets...)
	once, leftovers, fileMode := x.shownOnce, x.leftovers, x.fileMode
	x.mu.Unlock()
	all := strings.Join(append(outs, screens...), "\n")
	if os.Getenv("FAULT_MATRIX_SHOW") != "" {
		t.Logf("outputs:\n%s", short(strings.Join(outs, "\n--\n")))
	}
	tokens := map[string]bool{}
	x.svc.mu.Lock()
	for _, tok := range x.svc.tokens {
		tokens[tok] = true
	}
	x.svc.mu.Unlock()
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		// The wizard's screen may show an invitation the person pasted
		// (until Enter takes it): tokens are searched in the printed
		// output only, client secrets everywhere.
		where := all
		if tokens[s] {
			where = strings.Join(outs, "\n")
		}
		n := strings.Count(where, s)
		switch {
		case s == once && n != 1:
			t.Errorf("the credentials were shown %d times, want exactly once", n)
		case s != once && n != 0:
			t.Errorf("a secret or invitation token was printed (%d times): …%s…", n, s[len(s)-4:])
		}
	}
	for _, o := range outs {
		if r, ok := terminalControl(o); ok {
			t.Errorf("output holds %U:\n%q", r, short(o))
		}
	}
	if fi, err := os.Lstat(x.creds); err == nil && fi.Mode().IsRegular() {
		if fileMode == 0 {
			fileMode = 0o600
		}
		x.mode(x.creds, fileMode)
	}
	if !leftovers {
		for _, p := range x.glob(".*.tmp-*") {
			t.Errorf("left behind: %s", filepath.Base(p))
		}
	}
}

// terminalControl finds what must never reach a terminal from outside
// text: ESC and every other C0 control but newline and tab, C1 controls,
// format characters (bidi overrides, zero-width), line and paragraph
// separators and invalid UTF-8.
func terminalControl(s string) (rune, bool) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return rune(s[i]), true
			}
		case r == '\n' || r == '\t':
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
			return r, true
		}
	}
	return 0, false
}

// secretOf is the clientSecret a credentials file holds.
func secretOf(file []byte) []byte {
	var f struct{ ClientSecret string }
	_ = json.Unmarshal(file, &f)
	return []byte(f.ClientSecret)
}

// short keeps a failure message readable when an output is huge.
func short(s string) string {
	if len(s) <= 4000 {
		return s
	}
	return s[:2000] + fmt.Sprintf("\n… (%d bytes) …\n", len(s)-4000) + s[len(s)-2000:]
}
