// Package config is the one configuration of every way enroll is run: a
// flag wins over the ENROLL_… environment variable, which wins over the
// defaults file, /etc/default/enroll (or $ENROLL_DEFAULTS). The first-boot
// unit reads that file with systemd's EnvironmentFile=; enroll reads it
// itself, so that a technician's shell over SSH and `enroll doctor` see
// the same settings as the unit.
package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// DefaultPath is where the defaults file lives unless ENROLL_DEFAULTS
// names another.
const DefaultPath = "/etc/default/enroll"

// maxFile bounds what is read of the defaults file: a few lines of
// settings, never a megabyte.
const maxFile = 64 << 10

// File is the defaults file as read: its settings and the lines that
// could not be used, by line number.
type File struct {
	Path     string
	Found    bool
	Values   map[string]string
	Problems []string
}

// Source says where a setting in effect came from.
type Source string

const (
	FromFlag        Source = "flag"
	FromEnvironment Source = "environment"
	FromFile        Source = "file"
	FromDefault     Source = "default"
)

// Path is the defaults file's path: $ENROLL_DEFAULTS, else DefaultPath.
func Path(getenv func(string) string) string {
	if p := strings.TrimSpace(getenv("ENROLL_DEFAULTS")); p != "" {
		return p
	}
	return DefaultPath
}

// Read reads the defaults file at path. A file that does not exist is no
// error: most devices have none. A file that others than root and this
// user may write is ignored whole, with a problem said: its settings
// choose the CA enroll trusts, the proxy it talks through and the group
// the secret is shared with.
func Read(path string) (File, error) {
	f := File{Path: path, Values: map[string]string{}}
	fh, err := os.Open(path)
	if os.IsNotExist(err) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	defer fh.Close()
	f.Found = true
	fi, err := fh.Stat()
	if err != nil {
		return f, err
	}
	if why := untrusted(fi); why != "" {
		f.Problems = []string{"the whole file is ignored: " + why}
		return f, nil
	}
	f.Values, f.Problems = Parse(io.LimitReader(fh, maxFile))
	return f, nil
}

// untrusted says why a defaults file cannot be trusted, or "".
func untrusted(fi os.FileInfo) string {
	if !fi.Mode().IsRegular() {
		return "it is not a regular file"
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Sprintf("others may write it (mode %04o)", perm)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("it belongs to user %d, neither root nor this user", st.Uid)
	}
	return ""
}

var keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse reads KEY=value lines as systemd's EnvironmentFile= does: blank
// lines and lines starting with # or ; are comments, an "export " before
// the key is allowed, and a value in single quotes is taken as it is, one
// in double quotes with \" and \\ unescaped. Only the settings enroll
// knows (Known) are kept; others are reported.
func Parse(r io.Reader) (map[string]string, []string) {
	values := map[string]string{}
	var problems []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		switch {
		case !ok || !keyRE.MatchString(key):
			problems = append(problems, fmt.Sprintf("line %d is not KEY=value", n))
			continue
		case !Known(key):
			problems = append(problems, fmt.Sprintf("line %d: %s is not a setting enroll reads; ignored", n, key))
			continue
		}
		v, err := unquote(strings.TrimSpace(value))
		if err == nil && strings.ContainsAny(v, "\\\"'$`") {
			// systemd reads escapes, quotes and $ in ways a simple reader
			// would not: such a value could differ between the unit and
			// enroll. Written plainly, or in one pair of quotes, it cannot.
			err = fmt.Errorf("a backslash, quote, $ or backquote inside the value; write it plainly")
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s: %v", n, key, err))
			continue
		}
		values[key] = v
	}
	return values, problems
}

func unquote(v string) (string, error) {
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1], nil
	}
	if len(v) > 0 && (v[0] == '\'' || v[0] == '"') {
		return "", fmt.Errorf("an unclosed quote")
	}
	return v, nil
}

// Settings are the keys the defaults file may hold: enroll's settings,
// and the proxy and certificate variables Go's HTTP client and TLS read,
// which the unit's EnvironmentFile= gives it too. Secrets (an invitation,
// an administrator's token) do not belong in a configuration file, nor
// does ENROLL_DEFAULTS itself.
var Settings = []string{
	"ENROLL_SERVER", "ENROLL_CREDENTIALS", "ENROLL_CA_FILE", "ENROLL_TIMEOUT", "ENROLL_JSON", "ENROLL_PLAIN",
	"ENROLL_NO_COLOR", "ENROLL_VERBOSE", "ENROLL_TOKEN_FILE", "ENROLL_NAME", "ENROLL_KIOSK", "ENROLL_HANDOFF_LISTEN",
	"ENROLL_QR_FORMAT", "ENROLL_READER_GROUP", "ENROLL_SEAL", "ENROLL_TPM", "ENROLL_ORG", "ENROLL_ADMIN_TOKEN_FILE", "ENROLL_ADMIN_CLIENT_ID",
	"ENROLL_ADMIN_CLIENT_SECRET_FILE", "ENROLL_EMULATOR_ADMIN_TOKEN",
	"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
}

// Known reports whether key is one of Settings.
func Known(key string) bool { return slices.Contains(Settings, key) }

// Apply gives the process the file's settings that its environment does
// not set already (the environment wins), through setenv, and returns
// which keys came from the file. It runs once, as the process starts,
// before anything reads the environment.
func Apply(f File, getenv func(string) string, setenv func(k, v string) error) (fromFile []string) {
	keys := make([]string, 0, len(f.Values))
	for k := range f.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if getenv(k) != "" {
			continue
		}
		if setenv(k, f.Values[k]) == nil {
			fromFile = append(fromFile, k)
		}
	}
	return fromFile
}
