package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/ansi"

	"enroll/persist"
)

// The matrix's separate processes are the test binary re-executed as
// `enroll` (see startDemo in pty_test.go). With ENROLL_FAULT_CHILD in its
// environment, init below runs it instead of TestMain, exactly as main
// does, with two additions that make the moment of a signal or a kill a
// point the test waits for rather than a sleep:
//
//   - it writes "signal" to fd 3 once SIGINT, SIGTERM or SIGHUP arrived;
//   - ENROLL_FAULT_CHILD=POINT:ACTION stops the credentials store at POINT
//     (probe: the writability probe, before accepting, which creates the
//     journal's reserved file; journal: the journal
//     written, before its rename; commit-create: the journal durable, before
//     the credentials' temporary file; commit: that file written and synced,
//     before its rename; renamed: after that rename, before the directory
//     is synced), writes "gate POINT" to fd 3, and then waits for a
//     signal (ACTION signal) or for SIGKILL (ACTION hang).
const faultChildEnv = "ENROLL_FAULT_CHILD"

func init() {
	spec, ok := os.LookupEnv(faultChildEnv)
	if !ok || filepath.Base(os.Args[0]) != "enroll" {
		return
	}
	os.Exit(faultChild(spec))
}

func faultChild(spec string) int {
	marks := os.NewFile(3, "marks")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() { <-ctx.Done(); fmt.Fprintln(marks, "signal") }()
	e := systemEnv()
	if point, action, ok := strings.Cut(spec, ":"); ok {
		e.fs = &gateFS{point: point, action: action, marks: marks, ctx: ctx}
	}
	return run(ctx, os.Args[1:], e)
}

type gateFS struct {
	persist.OSFS
	point, action string
	marks         *os.File
	ctx           context.Context
	once          sync.Once
}

func (g *gateFS) stop(point string) {
	if point != g.point {
		return
	}
	g.once.Do(func() {
		fmt.Fprintln(g.marks, "gate "+point)
		done := g.ctx.Done()
		if g.action == "hang" {
			done = nil // until SIGKILL
		}
		select {
		case <-done:
		case <-time.After(3 * hangGuard): // the test died: do not linger
		}
	})
}

func (g *gateFS) OpenFile(name string, flag int, perm fs.FileMode) (persist.File, error) {
	switch base := filepath.Base(name); {
	case strings.HasPrefix(base, ".credentials.json.pending.tmp-"):
		g.stop("probe") // the journal's file, reserved before accepting
	case strings.HasPrefix(base, ".credentials.json.tmp-"):
		g.stop("commit-create")
	}
	return g.OSFS.OpenFile(name, flag, perm)
}

func (g *gateFS) Rename(oldpath, newpath string) error {
	switch filepath.Base(newpath) {
	case "credentials.json.pending":
		g.stop("journal")
	case "credentials.json":
		g.stop("commit")
		if err := g.OSFS.Rename(oldpath, newpath); err != nil {
			return err
		}
		g.stop("renamed")
		return nil
	}
	return g.OSFS.Rename(oldpath, newpath)
}

// child is one enroll process.
type child struct {
	x              *fx
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	marks          chan string
	exited         chan struct{}
	pty            *ptyRun // the wizard's terminal, when it has one
}

type childOpts struct {
	gate  string            // POINT:ACTION; "" for none
	vars  map[string]string // environment on top of childEnv's
	stdin string
}

// childEnv is a made-up environment: nothing of the developer's (servers,
// tokens, proxies) leaks in, and the credentials are x's.
func (x *fx) childEnv(o childOpts) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + x.dir, "TMPDIR=" + x.dir,
		"XDG_CONFIG_HOME=" + filepath.Join(x.dir, "config"), "ENROLL_CREDENTIALS=" + x.creds,
		"NO_PROXY=127.0.0.1,localhost", "TERM=xterm-256color", "LANG=C.UTF-8",
		"ENROLL_DEFAULTS=" + filepath.Join(x.dir, "no-defaults"), // not the machine's /etc/default/enroll
		faultChildEnv + "=" + o.gate,
		// As in startDemo: no 1 s pause at exit under -race.
		"GORACE=atexit_sleep_ms=0 " + os.Getenv("GORACE"),
	}
	for k, v := range o.vars {
		env = append(env, k+"="+v) // exec keeps the last of duplicate keys
	}
	return env
}

func (x *fx) newChild(o childOpts, args []string) *child {
	x.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		x.t.Fatal(err)
	}
	c := &child{x: x, marks: make(chan string, 16), exited: make(chan struct{})}
	c.cmd = &exec.Cmd{Path: exe, Args: append([]string{"enroll"}, args...), Env: x.childEnv(o)}
	return c
}

// readMarks reads the child's fd 3 until it is closed.
func (c *child) readMarks(r *os.File) {
	defer close(c.marks)
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		c.marks <- sc.Text()
	}
}

// start runs enroll ARGS as a separate process with pipes for its output.
func (x *fx) start(o childOpts, args ...string) *child {
	x.t.Helper()
	c := x.newChild(o, args)
	c.cmd.Stdin = strings.NewReader(o.stdin)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	r, w, err := os.Pipe()
	if err != nil {
		x.t.Fatal(err)
	}
	c.cmd.ExtraFiles = []*os.File{w}
	if err := c.cmd.Start(); err != nil {
		x.t.Fatal(err)
	}
	w.Close()
	go c.readMarks(r)
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	x.t.Cleanup(func() { _ = c.cmd.Process.Kill(); <-c.exited })
	return c
}

// waitMark waits until the child reported want on fd 3.
func (c *child) waitMark(want string) {
	c.x.t.Helper()
	deadline := time.After(hangGuard)
	for {
		select {
		case m, ok := <-c.marks:
			if !ok {
				c.x.t.Fatalf("the child ended before %q; stderr:\n%s", want, c.stderr.String())
			}
			if m == want {
				return
			}
		case <-deadline:
			c.x.t.Fatalf("no %q from the child after %v; stderr:\n%s", want, hangGuard, c.stderr.String())
		}
	}
}

func (c *child) signal(sig os.Signal) {
	c.x.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.x.t.Fatal(err)
	}
}

// wait returns the exit code (-1 when killed by a signal) and the output,
// which the row's final checks then search.
func (c *child) wait() res {
	c.x.t.Helper()
	select {
	case <-c.exited:
	case <-time.After(hangGuard):
		c.x.t.Fatalf("enroll still running after %v; stderr:\n%s", hangGuard, c.stderr.String())
	}
	r := res{code: c.cmd.ProcessState.ExitCode(), out: c.stdout.String(), err: c.stderr.String()}
	if c.pty != nil {
		select {
		case <-c.pty.readDone:
		case <-time.After(hangGuard):
		}
		// The screen is full of the wizard's own escape sequences; what
		// is left once they are taken out must still hold no secret.
		r.out = ansi.Strip(c.pty.raw())
		c.x.record(r.err)
		c.x.recordScreen(r.out)
		return r
	}
	c.x.record1(r)
	return r
}
