package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `# settings for enroll
ENROLL_SERVER=https://idp.example.com
export ENROLL_CA_FILE="/etc/ssl/private ca.pem"
ENROLL_NAME='lab 4'
; a comment
HTTPS_PROXY = http://proxy:3128
PATH=/evil
not a setting
ENROLL_TIMEOUT="45s
ENROLL_JSON=
ENROLL_SEVER=https://typo.example
ENROLL_TOKEN=INVITE-secret
ENROLL_ORG=a\b
ENROLL_NAME2="a"b
`
	got, problems := Parse(strings.NewReader(in))
	want := map[string]string{
		"ENROLL_SERVER": "https://idp.example.com", "ENROLL_CA_FILE": "/etc/ssl/private ca.pem",
		"ENROLL_NAME": `lab 4`, "HTTPS_PROXY": "http://proxy:3128", "ENROLL_JSON": "",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("values %q, want %q", got, want)
	}
	wantProblems := []string{
		"line 7: PATH is not a setting enroll reads; ignored",
		"line 8 is not KEY=value",
		"line 9: ENROLL_TIMEOUT: an unclosed quote",
		"line 11: ENROLL_SEVER is not a setting enroll reads; ignored",
		"line 12: ENROLL_TOKEN is not a setting enroll reads; ignored",
		"line 13: ENROLL_ORG: a backslash, quote, $ or backquote inside the value; write it plainly",
		"line 14: ENROLL_NAME2 is not a setting enroll reads; ignored",
	}
	if !reflect.DeepEqual(problems, wantProblems) {
		t.Errorf("problems %q, want %q", problems, wantProblems)
	}
}

// The environment wins over the file; the file fills what it does not set.
func TestApply(t *testing.T) {
	env := map[string]string{"ENROLL_SERVER": "https://from-env.example"}
	f := File{Values: map[string]string{"ENROLL_SERVER": "https://from-file.example", "ENROLL_CA_FILE": "/ca.pem"}}
	from := Apply(f, func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
	if env["ENROLL_SERVER"] != "https://from-env.example" || env["ENROLL_CA_FILE"] != "/ca.pem" || !reflect.DeepEqual(from, []string{"ENROLL_CA_FILE"}) {
		t.Fatalf("env %v, from file %v", env, from)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	if f, err := Read(filepath.Join(dir, "none")); err != nil || f.Found || len(f.Values) != 0 {
		t.Fatalf("a missing file: %+v, %v", f, err)
	}
	p := filepath.Join(dir, "enroll")
	if err := os.WriteFile(p, []byte("ENROLL_SERVER=https://idp.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := Read(p); err != nil || !f.Found || f.Values["ENROLL_SERVER"] != "https://idp.example.com" {
		t.Fatalf("%+v, %v", f, err)
	}
	if got := Path(func(string) string { return "" }); got != DefaultPath {
		t.Errorf("path %q", got)
	}
	if got := Path(func(k string) string { return map[string]string{"ENROLL_DEFAULTS": "/x"}[k] }); got != "/x" {
		t.Errorf("path %q", got)
	}
}

// A file others may write is not trusted: its settings choose the CA and
// the proxy, and whom the secret is shared with.
func TestReadIgnoresAFileOthersMayWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "enroll")
	if err := os.WriteFile(p, []byte("ENROLL_READER_GROUP=54399\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	f, err := Read(p)
	if err != nil || len(f.Values) != 0 || len(f.Problems) != 1 || !strings.Contains(f.Problems[0], "others may write it (mode 0666)") {
		t.Fatalf("%+v, %v", f, err)
	}
	if f, _ := Read(t.TempDir()); len(f.Values) != 0 || !strings.Contains(strings.Join(f.Problems, ""), "not a regular file") {
		t.Fatalf("a directory: %+v", f)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ENROLL_SERVER=https://x\nexport A='b'\n# c\n")
	f.Add("ENROLL_X=\"a\\\"b\"\n=\n\x00")
	f.Fuzz(func(t *testing.T, s string) {
		values, _ := Parse(strings.NewReader(s))
		for k := range values {
			if !Known(k) {
				t.Fatalf("kept %q", k)
			}
		}
	})
}
