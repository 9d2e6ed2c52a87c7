package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"enroll/api/emulator"
)

// The readers of examples/readers — the licensed application's side, in
// shell (jq and curl), Python (standard library) and Go — run against the
// emulator with nothing but the credentials file, and the access token
// each prints is one the emulator issued to the enrolled client. Each
// also reads the file from $CREDENTIALS_DIRECTORY, as systemd's
// LoadCredential= hands it over, and refuses a version it does not know;
// a sealed file (version 2), which only enroll can read, is refused with
// the way to a token: enroll token.

// reader is one example reader: the command that runs it with a file.
type reader struct {
	name string
	argv func(t *testing.T) []string
}

func readers() []reader {
	return []reader{
		{"shell", func(t *testing.T) []string {
			need(t, "jq", "curl")
			return []string{"/bin/sh", "examples/readers/token.sh"}
		}},
		{"python", func(t *testing.T) []string {
			need(t, "python3")
			return []string{python3(), "examples/readers/token.py"}
		}},
		{"go", func(t *testing.T) []string { return []string{buildGoReader(t)} }},
	}
}

// need fails in CI, where .ci/run installs the tools, and skips elsewhere.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing in CI (.ci/run installs it): %v", tool, err)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// python3 prefers the system's, which every user of the device can run.
func python3() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, _ := exec.LookPath("python3")
	return p
}

var goReader struct {
	path string
	err  error
}

func buildGoReader(t *testing.T) string {
	t.Helper()
	if goReader.path == "" && goReader.err == nil {
		dir, err := os.MkdirTemp("", "enroll-go-reader-")
		if err == nil {
			goReader.path = filepath.Join(dir, "token")
			out, err := exec.Command("go", "build", "-o", goReader.path, "./examples/readers/go").CombinedOutput()
			if err != nil {
				goReader.err = err
				t.Logf("%s", out)
			}
		}
		if err != nil {
			goReader.err = err
		}
	}
	if goReader.err != nil {
		t.Fatal(goReader.err)
	}
	return goReader.path
}

func TestReaderExamples(t *testing.T) {
	x := newFx(t)
	x.enroll()
	client := x.svc.emu.Clients()[0]
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			check := func(how string, env []string, args ...string) {
				t.Helper()
				cmd := exec.Command(argv[0], append(argv[1:], args...)...)
				cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + x.dir}, env...)
				out, err := cmd.Output()
				tok := strings.TrimSpace(string(out))
				if c, ok := x.svc.emu.ClientOfToken(tok); err != nil || !ok || c.ClientID != client.ClientID {
					t.Errorf("%s: exit %v, printed %q: not an access token of the enrolled client", how, err, tok)
				}
				x.record(string(out))
			}
			check("ENROLL_CREDENTIALS", []string{"ENROLL_CREDENTIALS=" + x.creds})
			check("the argument", nil, x.creds)
			// LoadCredential=enroll:/var/lib/enroll/credentials.json: systemd
			// copies it into the service's credentials directory as enroll.
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "enroll"), x.file(), 0o400); err != nil {
				t.Fatal(err)
			}
			check("$CREDENTIALS_DIRECTORY", []string{"CREDENTIALS_DIRECTORY=" + dir})
			// A version it does not know is refused, never half read.
			v3 := filepath.Join(t.TempDir(), "v3.json")
			if err := os.WriteFile(v3, []byte(strings.Replace(string(x.file()), `"version": 1`, `"version": 3`, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(argv[0], append(argv[1:], v3)...)
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "is version 3, not 1") {
				t.Errorf("version 3: exit %v, %s", err, out)
			}
		})
	}
	x.finish()
	_ = emulator.OpToken
}

// TestReadersRefuseASealedFile: a file sealed to the TPM (version 2, made
// by enroll seal against swtpm) holds no secret a reader could use; each
// reader refuses it, says why and points to enroll token, and prints
// nothing on stdout, where the application expects a token.
func TestReadersRefuseASealedFile(t *testing.T) {
	x := newFx(t)
	x.enroll()
	_, vars := x.tpmVars()
	x.exit(x.runIn(runOpts{vars: vars}, "seal"), 0, `Sealed`)
	for _, r := range readers() {
		t.Run(r.name, func(t *testing.T) {
			argv := r.argv(t)
			cmd := exec.Command(argv[0], append(argv[1:], x.creds)...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + x.dir}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			msg := stderr.String()
			if err == nil || stdout.Len() != 0 || !strings.Contains(msg, "is version 2: its client secret is sealed to this device's TPM") ||
				!strings.Contains(msg, "get access tokens with `enroll token`") {
				t.Errorf("a sealed file: exit %v, stdout %q, stderr %q", err, stdout.String(), msg)
			}
			x.record(stdout.String(), msg)
		})
	}
	x.tokenWorks(vars, x.svc.emu.Clients()[0].ClientID) // enroll token, the way the readers name
	x.finish()
}
