package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/api/emulator/emulatortest"
)

// README's "## Using it from scripts" section, run. Every fenced block of
// the section (up to the next "## " heading, its ### parts included) is
// found here. A shell block (```sh, ```bash, ```console) runs as a script;
// any other block must be named in notRun, with the reason, and a name in
// notRun that names no block fails the test, so nothing is skipped
// silently. A block is named after the heading above it and its number
// under that heading: "Using it from scripts #2".
//
// How a block runs, and what stands in for what (the substitution scheme):
//   - `bash --noprofile --norc -e -o pipefail BLOCK`, stdin /dev/null (no
//     terminal: enroll asks nothing), so every command of it must succeed,
//     not only the last; a ```console block runs its "$ " lines only;
//   - in a new temporary directory that is a new device: nothing enrolled,
//     and invitation.txt in it holds a fresh invitation link from the
//     emulator, as the examples say ("the link from the invitation mail in
//     a file");
//   - with the real enroll on PATH (TestMain puts it there), ENROLL_SERVER
//     the emulator (as /etc/default/enroll would name the service),
//     ENROLL_CREDENTIALS a file of the directory in place of
//     /var/lib/enroll/credentials.json, ENROLL_DEFAULTS a missing file
//     (not the machine's /etc/default/enroll), HOME and XDG_CONFIG_HOME in
//     the directory, and NO_PROXY for loopback;
//   - the placeholder "https://…" (the licensed application's own API) is
//     the URL of a stand-in for that API on loopback, which answers 200
//     only to a bearer token the emulator issued to a device client, and
//     401 otherwise; any other "…" in a command fails the test.
//
// Every block documents success: it must exit 0. After it, the emulator
// must hold exactly one device client if the block ran `enroll accept`,
// and the stand-in API must have been called if the block names it.

const readmeSection = "## Using it from scripts"

// notRun names the blocks of the section that are not commands.
var notRun = map[string]string{
	"Diagnosing a device: `enroll doctor` #1": "the output of enroll doctor on a broken device (a clock in 1970, a proxy), shown, not a command",
}

type readmeBlock struct {
	name, lang, text string
	line             int // of the opening fence in README.md
}

// readmeBlocks returns the fenced blocks of one "## " section of README.md.
func readmeBlocks(t *testing.T, section string) []readmeBlock {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []readmeBlock
		in      bool // inside the section
		cur     *readmeBlock
		heading string
		count   = map[string]int{}
		n       int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks, cur = append(blocks, *cur), nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.HasPrefix(line, "## "):
			in = line == section
			heading = strings.TrimPrefix(line, "## ")
		case in && strings.HasPrefix(line, "### "):
			heading = strings.TrimPrefix(line, "### ")
		case in && strings.HasPrefix(line, "```"):
			count[heading]++
			cur = &readmeBlock{name: fmt.Sprintf("%s #%d", heading, count[heading]), lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("README.md:%d: the block %q is never closed", cur.line, cur.name)
	}
	return blocks
}

// script is what bash runs of a block: its commands, the placeholders
// substituted.
func (b readmeBlock) script(t *testing.T, apiURL string) string {
	t.Helper()
	text := b.text
	if b.lang == "console" {
		var cmds []string
		for _, l := range strings.Split(text, "\n") {
			if c, ok := strings.CutPrefix(l, "$ "); ok {
				cmds = append(cmds, c)
			}
		}
		text = strings.Join(cmds, "\n") + "\n"
	}
	text = strings.ReplaceAll(text, "https://…", apiURL)
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "…") && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			t.Fatalf("README.md:%d: %q holds a placeholder this test does not substitute", b.line+1+i, l)
		}
	}
	return text
}

func TestReadmeScriptExamples(t *testing.T) {
	blocks := readmeBlocks(t, readmeSection)
	seen, ran := map[string]bool{}, 0
	for _, b := range blocks {
		seen[b.name] = true
		switch b.lang {
		case "sh", "bash", "console":
			ran++
			t.Run(b.name, func(t *testing.T) { runReadmeBlock(t, b) })
		default:
			if notRun[b.name] == "" {
				t.Errorf("README.md:%d: the block %q (```%s) is neither a shell example nor listed in notRun with a reason", b.line, b.name, b.lang)
			}
		}
	}
	for name := range notRun {
		if !seen[name] {
			t.Errorf("notRun names %q, which is no block of %q", name, readmeSection)
		}
	}
	if ran == 0 {
		t.Fatalf("no shell block found in %q", readmeSection)
	}
}

func runReadmeBlock(t *testing.T, b readmeBlock) {
	for _, tool := range []string{"bash", "curl", "jq", "hostname"} {
		if tool == "bash" || regexp.MustCompile(`(^|[\s(|;])`+tool+`\s`).MatchString(b.text) {
			need(t, tool)
		}
	}
	enroll, err := exec.LookPath("enroll")
	if err != nil {
		t.Fatalf("the enroll binary is not on PATH (TestMain puts it there): %v", err)
	}
	run := emulatortest.Start(t, emulator.Options{})
	var calls atomic.Int32
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, valid := run.Emulator.ClientOfToken(tok); !ok || !valid {
			http.Error(w, "not a device client's access token", http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		fmt.Fprintln(w, "licensed")
	}))
	t.Cleanup(app.Close)

	dir := t.TempDir()
	inv := emulatortest.Invite(t, run.Emulator, emulator.InvitationSpec{})
	script := b.script(t, app.URL+"/licensed")
	for name, content := range map[string]string{"invitation.txt": inv.Link + "\n", "block.sh": script} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "block.sh")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Dir(enroll) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg"), "LANG=C.UTF-8", "NO_PROXY=127.0.0.1,localhost",
		"ENROLL_SERVER=" + run.URL, "ENROLL_CREDENTIALS=" + filepath.Join(dir, "state", "credentials.json"),
		"ENROLL_DEFAULTS=" + filepath.Join(dir, "no-defaults")}
	out, err := cmd.CombinedOutput()
	t.Logf("README.md:%d, run as a script:\n%s\n--- its output:\n%s", b.line, script, out)
	var exit *exec.ExitError
	if err != nil {
		if errors.As(err, &exit) {
			t.Fatalf("exit %d, want 0", exit.ExitCode())
		}
		t.Fatal(err)
	}
	if strings.Contains(script, "enroll accept") && len(run.Emulator.Clients()) != 1 {
		t.Errorf("the block accepts an invitation, and the service has %d device clients", len(run.Emulator.Clients()))
	}
	if strings.Contains(script, app.URL) && calls.Load() == 0 {
		t.Errorf("the block names the licensed application's API, which no valid token reached")
	}
}
