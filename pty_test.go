package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
)

// hangGuard bounds every wait, so that a hang fails with the screen instead
// of stalling the suite. It is not a timing assertion: a run takes well
// under a second.
const hangGuard = 20 * time.Second

// ptyRun is `enroll demo` in a pseudo-terminal of 80×24.
type ptyRun struct {
	t                *testing.T
	f                *os.File // the pty master: keys go in, the screen comes out
	cmd              *exec.Cmd
	tmp, creds       string // the child's TMPDIR and ENROLL_CREDENTIALS
	exited, readDone chan struct{}

	mu   sync.Mutex
	out  []byte // all the child wrote, raw
	mark int    // waitFor looks after this offset only: a screen's text must be new
}

// startDemo runs the test binary itself as `enroll demo`. TestMain passes
// it to testscript.Main, which picks the command by filepath.Base(os.Args[0])
// (go-internal v1.16.0 testscript/exe.go), so argv[0] "enroll" is enough: no
// `go build` (seconds, and a second toolchain run), no copy, no symlink
// (which some tools resolve, losing the name). The child is the same
// race-enabled build as the test.
func startDemo(t *testing.T) *ptyRun { return startPTY(t, nil, "demo") }

// startPTY runs `enroll ARGS` in a pseudo-terminal of 80×24, with vars on
// top of a made-up environment.
func startPTY(t *testing.T, vars []string, args ...string) *ptyRun {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &ptyRun{t: t, tmp: filepath.Join(dir, "tmp"), creds: filepath.Join(dir, "creds", "credentials.json"),
		exited: make(chan struct{}), readDone: make(chan struct{})}
	if err := os.Mkdir(r.tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	// A made-up environment, so that no ENROLL_SERVER, ENROLL_TOKEN or proxy
	// of the developer's leaks in. TMPDIR puts demo's own credentials
	// directory where the test can look.
	r.cmd = &exec.Cmd{Path: exe, Args: append([]string{"enroll"}, args...), Env: append([]string{
		"TERM=xterm-256color", "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"ENROLL_CREDENTIALS=" + r.creds, "TMPDIR=" + r.tmp, "NO_PROXY=127.0.0.1",
		"ENROLL_DEFAULTS=" + filepath.Join(dir, "no-defaults"),
		// Under -race a process sleeps 1 s before exiting, for nothing here:
		// a race is still reported, and fails the exit code check (66).
		"GORACE=atexit_sleep_ms=0 " + os.Getenv("GORACE"),
	}, vars...)}
	if r.f, err = pty.StartWithSize(r.cmd, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Skipf("no pseudo-terminal on this platform: %v", err)
	}
	go r.read()
	go func() { _ = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill() // "already finished" once it has exited
		<-r.exited
		r.f.Close()
		<-r.readDone
	})
	return r
}

// read keeps reading (an unread pty blocks the child's writes) and answers
// the background colour (OSC 11) and cursor position queries as a terminal
// would. enroll must not ask them (tui/noquery; Bubble Tea v1's init does
// unless told the answer) and the "enroll" subtest fails if it does; the
// answers make that a clear failure rather than a 5 s termenv timeout.
func (r *ptyRun) read() {
	defer close(r.readDone)
	buf, osc, cpr := make([]byte, 4096), 0, 0
	for {
		n, err := r.f.Read(buf)
		r.mu.Lock()
		r.out = append(r.out, buf[:n]...)
		newOSC, newCPR := bytes.Count(r.out, []byte("\x1b]11;?")), bytes.Count(r.out, []byte("\x1b[6n"))
		r.mu.Unlock()
		if reply := strings.Repeat("\x1b]11;rgb:0000/0000/0000\x1b\\", newOSC-osc) + strings.Repeat("\x1b[1;1R", newCPR-cpr); reply != "" {
			_, _ = r.f.WriteString(reply)
		}
		osc, cpr = newOSC, newCPR
		if err != nil { // EIO: the child has exited and all it wrote is read
			return
		}
	}
}

func (r *ptyRun) send(keys string) {
	r.t.Helper()
	if _, err := r.f.WriteString(keys); err != nil {
		r.t.Fatalf("sending %q: %v", keys, err)
	}
}

// decide presses a command key (accept, decline, trust, retry, reveal) as
// a person does: alone, after a pause longer than the wizard's quiet
// window, for it ignores a command key that arrives with other input.
func (r *ptyRun) decide(key string) {
	r.t.Helper()
	time.Sleep(decisionPause)
	r.send(key)
}

// decisionPause is longer than the wizard's quiet window (400 ms).
const decisionPause = 600 * time.Millisecond

// resize changes the terminal's size; the child gets SIGWINCH.
func (r *ptyRun) resize(cols, rows int) error {
	return pty.Setsize(r.f, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
}

func (r *ptyRun) raw() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.out)
}

func (r *ptyRun) text() string { return ansi.Strip(r.raw()) }

func (r *ptyRun) tail() string { s := r.text(); return s[max(0, len(s)-2048):] }

// waitFor waits until every one of texts has appeared since the last match:
// a key is sent only once the screen that takes it is drawn.
func (r *ptyRun) waitFor(texts ...string) {
	r.t.Helper()
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		end, s := len(r.out), ansi.Strip(string(r.out[r.mark:]))
		r.mu.Unlock()
		missing := false
		for _, text := range texts {
			missing = missing || !strings.Contains(s, text)
		}
		if !missing {
			r.mark = end
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("still waiting for %q after %v; the output ends:\n%s", texts, hangGuard, r.tail())
		}
	}
}

// wait returns the exit code once the child has exited and all its output
// is read.
func (r *ptyRun) wait() int {
	r.t.Helper()
	for _, ch := range []chan struct{}{r.exited, r.readDone} {
		select {
		case <-ch:
		case <-time.After(hangGuard):
			r.t.Fatalf("enroll demo still running after %v; the output ends:\n%s", hangGuard, r.tail())
		}
	}
	return r.cmd.ProcessState.ExitCode()
}

// demoFiles lists the credentials files demo has made in its TMPDIR.
func (r *ptyRun) demoFiles() []string {
	files, _ := filepath.Glob(filepath.Join(r.tmp, "enroll-demo-*", "enroll", "credentials.json"))
	return files
}

// nothingLeft checks that demo removed its temporary credentials and did
// not touch ENROLL_CREDENTIALS.
func (r *ptyRun) nothingLeft() {
	r.t.Helper()
	if files := r.demoFiles(); len(files) != 0 {
		r.t.Errorf("demo left credentials behind: %v", files)
	}
	if _, err := os.Stat(r.creds); !errors.Is(err, fs.ErrNotExist) {
		r.t.Errorf("demo touched ENROLL_CREDENTIALS: %v", err)
	}
}

// TestDemoInPTY drives the real binary through `enroll demo` in a
// pseudo-terminal as a person would: raw mode, the alternate screen, key
// and paste parsing, and the summary left on the terminal afterwards.
func TestDemoInPTY(t *testing.T) {
	t.Run("enroll", func(t *testing.T) {
		r := startDemo(t)
		r.waitFor("step 1 of 4", "enter continue")
		r.send("\r")
		r.waitFor("step 2 of 4", "tab demo link")
		r.send("\t")
		r.waitFor("Token read from a link at 127.0.0.1")
		r.send("\r")
		r.waitFor("use this server")
		r.decide("y")
		r.waitFor("step 3 of 4")
		r.send("\r") // keep the host name
		r.waitFor("step 4 of 4", "a accept")
		r.decide("a")
		r.waitFor("Enrolled: this device is now a device client.", "Secret      stored, not shown", "s show the secret once")

		// The secret is in demo's file until demo ends: read it now, to
		// show below that it never reached the terminal.
		files := r.demoFiles()
		if len(files) != 1 {
			t.Fatalf("want one demo credentials file, have %v", files)
		}
		var creds struct{ ClientSecret string }
		if data, err := os.ReadFile(files[0]); err != nil || json.Unmarshal(data, &creds) != nil || creds.ClientSecret == "" {
			t.Fatalf("no client secret in %s: %v", files[0], err)
		}

		r.send("q")
		if code := r.wait(); code != 0 {
			t.Fatalf("exit code %d, want 0; the output ends:\n%s", code, r.tail())
		}
		r.waitFor("Enrolled: this device is now a device client.", "secret       stored, not shown")
		if strings.Contains(r.raw(), creds.ClientSecret) || strings.Contains(r.text(), creds.ClientSecret) {
			t.Error("the client secret reached the terminal, though s was never pressed")
		}
		if strings.Contains(r.text(), "(shown once)") {
			t.Error(`"(shown once)" on the terminal, though s was never pressed`)
		}
		if raw := r.raw(); strings.Contains(raw, "\x1b]11;?") || strings.Contains(raw, "\x1b[6n") {
			t.Error("enroll queried the terminal (OSC 11 / cursor position): a round trip, or a 5 s stall where nothing answers")
		}
		r.nothingLeft()
	})

	// A pasted link with an escape sequence inside is refused, and the
	// person told why, rather than quietly cleaned into another token.
	t.Run("paste with escape then ctrl-c", func(t *testing.T) {
		r := startDemo(t)
		r.waitFor("step 1 of 4", "enter continue")
		r.send("\r")
		r.waitFor("step 2 of 4", "tab demo link")
		r.send("\x1b[200~http://127.0.0.1:1/invitation?token=abc\x1b[31mdefghijk\x1b[201~")
		r.waitFor(`Not inserted: the text contains an invisible character \x1b`)
		r.send("\x03") // in raw mode Ctrl-C is a key for the wizard, not SIGINT
		if code := r.wait(); code != 130 {
			t.Fatalf("exit code %d, want 130; the output ends:\n%s", code, r.tail())
		}
		r.waitFor("Interrupted.", "Nothing was sent")
		if strings.Contains(r.text(), "Enrolled") {
			t.Error("enrolled after Ctrl-C")
		}
		r.nothingLeft()
	})
}
