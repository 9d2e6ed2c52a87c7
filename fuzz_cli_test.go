package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// Fuzz targets for what reaches enroll through its command line and its
// terminal: flag values that name files, the answers typed to --plain, and
// text pasted or typed into the wizard. None needs the network: the server
// they name is a closed loopback port. Seed corpora: testdata/fuzz/<name>.

// fuzzEnv is an env over buffers for one fuzz run.
func fuzzEnv(vars map[string]string, stdin []byte) (env, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return env{
		stdin: bytes.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return vars[k] }, uid: 1000,
		hostname: func() (string, error) { return "lab-1", nil },
	}, &out, &errOut
}

// quiet fails when printed text could act on a terminal.
func quiet(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		if r, bad := terminalControl(o); bad {
			t.Fatalf("output holds %U:\n%q", r, short(o))
		}
	}
}

var knownExits = map[int]bool{0: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 130: true}

// FuzzFlagPaths runs the commands that read or write a file named by a flag
// (--credentials, --token-file, --ca-file) with a fuzzed name, inside a
// temporary directory, optionally holding fuzzed content. enroll must not
// panic, must exit with a documented code, and must print nothing that
// acts on a terminal, whatever the name or the content.
func FuzzFlagPaths(f *testing.F) {
	f.Add("credentials.json", []byte(`{"version":1}`), true)
	f.Add("d\x1b[2J/x.json", []byte("https://idp.example.com/invitation?token=abc\u202edef"), true)
	f.Add("\u202etxt.exe", []byte{}, false)
	f.Add("a\xff\xfe/b", []byte("\x00\x9b"), true)
	f.Add("enroll/credentials.json", []byte(`{"version":1,"server":"http://127.0.0.1:1","id":"i","clientId":"c","clientSecret":"s","name":"\u001b[31m"}`), true)
	f.Fuzz(func(t *testing.T, name string, content []byte, create bool) {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		if !strings.HasPrefix(path, dir+string(filepath.Separator)) || strings.ContainsRune(name, 0) && create {
			return // only names inside the temporary directory
		}
		if create {
			if os.MkdirAll(filepath.Dir(path), 0o700) != nil || os.WriteFile(path, content, 0o600) != nil {
				return
			}
		}
		vars := map[string]string{"ENROLL_CREDENTIALS": filepath.Join(dir, "enroll", "credentials.json"), "ENROLL_SERVER": "http://127.0.0.1:1"}
		for _, args := range [][]string{
			{"status", "--credentials", path},
			{"status", "--json", "--credentials", path},
			{"accept", "--token-file", path, "--json", "--timeout", "1s"},
			{"decline", "--token-file", path, "--timeout", "1s"},
			{"accept", "--token-file", "-", "--ca-file", path},
			{"forget", "--credentials", path},
		} {
			e, out, errOut := fuzzEnv(vars, content)
			code := run(context.Background(), args, e)
			if !knownExits[code] {
				t.Fatalf("%q: exit %d\n%s", args, code, errOut)
			}
			quiet(t, out.String(), errOut.String())
		}
	})
}

// FuzzPlainAnswers types fuzzed answers to the line-by-line runner.
func FuzzPlainAnswers(f *testing.F) {
	f.Add([]byte("\nhttps://idp.example.com/invitation?token=abcdefghijkl\ny\nlab\u202e\n\nq\n"))
	f.Add([]byte("\x1b[2J\x1b]0;x\x07\n\x9b\n\xff\n"))
	f.Add([]byte("\n" + strings.Repeat("W", 5000) + "\n"))
	f.Fuzz(func(t *testing.T, answers []byte) {
		dir := t.TempDir()
		vars := map[string]string{"ENROLL_CREDENTIALS": filepath.Join(dir, "enroll", "credentials.json")}
		e, out, errOut := fuzzEnv(vars, answers)
		code := run(context.Background(), []string{"--plain", "--server", "http://127.0.0.1:1", "--timeout", "1s"}, e)
		if !knownExits[code] {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		quiet(t, out.String(), errOut.String())
	})
}

// FuzzWizardInput pastes and types fuzzed text into the wizard's
// invitation field and presses Enter; no frame may hold a terminal control
// (wiz.check).
func FuzzWizardInput(f *testing.F) {
	f.Add("https://idp.example.com/invitation?token=abc\x1b[31mdef", "\u202e", true)
	f.Add("\u200b", "q", false)
	f.Add("https://іdp.example.com/invitation?token=abcdefghijklmnop", "", true)
	f.Add("\xff\x00\u0085", "\x9b", true)
	f.Fuzz(func(t *testing.T, pasted, typed string, enter bool) {
		x := &fx{t: t, dir: t.TempDir()}
		x.creds = filepath.Join(x.dir, "enroll", "credentials.json")
		w := startWiz(t, wizOptions(x, ""))
		w.until("step 1 of 4")
		w.keys(tea.KeyEnter)
		w.until("step 2 of 4")
		w.paste(pasted)
		for _, r := range typed {
			w.typed(string(r))
		}
		if enter {
			w.keys(tea.KeyEnter)
		}
	})
}
