package main

import (
	"os"
	"syscall"

	"github.com/creack/pty"
)

// The wizard's processes run in a pseudo-terminal, as for a person over
// SSH, so that closing it is an SSH session that drops.

// startWizard runs enroll ARGS in a pseudo-terminal of 80×24, as a person
// over SSH has it; stderr goes to a pipe so the last words of a process
// whose terminal was hung up can still be read.
func (x *fx) startWizard(o childOpts, args ...string) *child {
	x.t.Helper()
	c := x.newChild(o, args)
	c.cmd.Stderr = &c.stderr
	r, w, err := os.Pipe()
	if err != nil {
		x.t.Fatal(err)
	}
	c.cmd.ExtraFiles = []*os.File{w}
	p := &ptyRun{t: x.t, cmd: c.cmd, creds: x.creds, exited: c.exited, readDone: make(chan struct{})}
	tty, err := openPTY(p)
	if err != nil {
		w.Close()
		r.Close()
		x.t.Skipf("no pseudo-terminal on this platform: %v", err)
	}
	c.cmd.Stdin, c.cmd.Stdout = tty, tty
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = c.cmd.Start()
	tty.Close()
	w.Close()
	if err != nil {
		x.t.Fatal(err)
	}
	c.pty = p
	go c.readMarks(r)
	go p.read()
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	x.t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
		p.f.Close()
		<-p.readDone
	})
	return c
}

// openPTY opens a pseudo-terminal of 80×24 and sets p.f to its master,
// and returns its slave side for the child. Unlike pty.Start's, this master
// is non-blocking, so Go's poller owns it: Close then really closes it at
// once, even while p.read waits on it, and the kernel hangs up the
// terminal (SIGHUP to the child) as it does when an SSH session drops. A
// blocking master would stay open until the child next wrote something.
func openPTY(p *ptyRun) (*os.File, error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if err := pty.Setsize(m, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		tty.Close()
		return nil, err
	}
	// A close-on-exec copy: a master inherited by any child (this one, or
	// one a parallel row starts) would keep the terminal from hanging up.
	fd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, m.Fd(), syscall.F_DUPFD_CLOEXEC, 0)
	if errno == 0 {
		errno, _ = syscall.SetNonblock(int(fd), true).(syscall.Errno)
	}
	if errno != 0 {
		tty.Close()
		return nil, errno
	}
	p.f = os.NewFile(fd, "/dev/ptmx")
	return tty, nil
}
