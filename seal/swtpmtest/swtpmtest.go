// Package swtpmtest starts swtpm, a software TPM 2.0, for one test: a
// separate process serving a Unix socket in the test's temporary
// directory, stopped when the test ends. Each instance has its own state,
// so two instances are two devices' TPMs.
package swtpmtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TPM is one running swtpm.
type TPM struct {
	t      testing.TB
	dir    string
	Socket string // swtpm's command socket
	cmd    *exec.Cmd
	done   chan struct{}
}

// Setting is the TPM as ENROLL_TPM names it.
func (p *TPM) Setting() string { return "swtpm:" + p.Socket }

// Need skips the test where swtpm is not installed, except in CI (CI=1),
// where its absence is a failure: .ci/run installs it.
func Need(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("swtpm is missing in CI (.ci/run installs it): %v", err)
		}
		t.Skipf("swtpm is not installed: %v", err)
	}
}

// Start runs a new swtpm with a fresh state, and waits until it serves.
func Start(t testing.TB) *TPM {
	t.Helper()
	Need(t)
	dir := t.TempDir()
	// A Unix socket's path is limited to 107 bytes; a test's temporary
	// directory, named after the test, may be longer, or hold a comma or
	// an equals sign, which swtpm's option syntax (key=value,…) splits on.
	if len(dir) > 80 || strings.ContainsAny(dir, ",=") {
		short, err := os.MkdirTemp("", "swtpm")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(short) })
		dir = short
	}
	p := &TPM{t: t, dir: dir, Socket: filepath.Join(dir, "tpm.sock")}
	p.start()
	t.Cleanup(p.Stop)
	return p
}

func (p *TPM) start() {
	p.t.Helper()
	state := filepath.Join(p.dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		p.t.Fatal(err)
	}
	_ = os.Remove(p.Socket)
	ctrl := filepath.Join(p.dir, "ctrl.sock")
	_ = os.Remove(ctrl)
	cmd := exec.Command("swtpm", "socket", "--tpm2",
		"--server", "type=unixio,path="+p.Socket,
		"--ctrl", "type=unixio,path="+ctrl,
		"--tpmstate", "dir="+state,
		// Started and initialised: no TPM2_Startup to send.
		"--flags", "not-need-init,startup-clear")
	stderr := &limitedBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("starting swtpm: %v", err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The socket file appears at bind, before swtpm listens: only a
		// connection proves it serves (it takes the next one after this).
		if c, err := net.Dial("unix", p.Socket); err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-p.done:
			p.t.Fatalf("swtpm exited at start: %s", stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("swtpm did not serve %s within 10 s: %s", p.Socket, stderr.String())
		}
	}
}

// Stop ends swtpm; its socket file stays, refusing connections, as a TPM
// daemon that died leaves it.
func (p *TPM) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// Restart starts swtpm again on the same state: the same TPM after a
// reboot.
func (p *TPM) Restart() {
	p.t.Helper()
	p.Stop()
	p.start()
}

// limitedBuffer keeps the first 4 KiB of swtpm's messages, for a failure.
type limitedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *limitedBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
