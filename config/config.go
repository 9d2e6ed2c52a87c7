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
	"sort"
	"strings"
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
// error: most devices have none.
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
	f.Values, f.Problems = Parse(io.LimitReader(fh, maxFile))
	return f, nil
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
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s: %v", n, key, err))
			continue
		}
		values[key] = v
	}
	return values, problems
}

func unquote(v string) (string, error) {
	if len(v) < 2 {
		return v, nil
	}
	switch q := v[0]; {
	case q == '\'' && v[len(v)-1] == '\'':
		return v[1 : len(v)-1], nil
	case q == '"' && v[len(v)-1] == '"':
		return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(v[1 : len(v)-1]), nil
	case q == '"' || q == '\'':
		return "", fmt.Errorf("an unclosed quote")
	}
	return v, nil
}

// Known reports the settings the defaults file may hold: enroll's own
// ENROLL_… variables, and the proxy and certificate variables Go's HTTP
// client and TLS read, which the unit's EnvironmentFile= gives it too.
func Known(key string) bool {
	if strings.HasPrefix(key, "ENROLL_") {
		return true
	}
	switch key {
	case "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR":
		return true
	}
	return false
}

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
