package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
)

// chunk is one read from the terminal, stamped when it arrived.
type chunk struct {
	at   time.Time
	data []byte
}

type run struct {
	f      *os.File
	cmd    *exec.Cmd
	start  time.Time
	chunks chan chunk
	all    []chunk // everything read so far, in order
	buf    bytes.Buffer
	mark   int // wait looks after this offset of buf
	quiet  time.Duration
	pace   time.Duration // type: time between keys (0: as soon as the output went quiet)
	trail  time.Duration // type: how long to watch after the last key
	seq    []byte        // -mark
}

func measure(argv, env, steps []string, cols, rows int, frameAfter, markSeq string, quiet, pace, trail, timeout time.Duration) (Result, []chunk) {
	res := Result{Command: argv, Steps: map[string]Step{}, Queries: map[string]int{}}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	r := &run{chunks: make(chan chunk, 1024), quiet: quiet, pace: pace, trail: trail, seq: []byte(markSeq)}
	r.cmd = &exec.Cmd{Path: path, Args: argv, Env: env}
	queries := make(chan map[string]int, 1)
	r.start = time.Now()
	r.f, err = pty.StartWithSize(r.cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	go r.read(queries)
	exited := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(exited) }()
	deadline := time.AfterFunc(timeout, func() { _ = r.cmd.Process.Kill() })
	defer deadline.Stop()

	for _, s := range steps {
		if err := r.step(s, res.Steps); err != nil {
			res.Error = fmt.Sprintf("step %q: %v; the screen ends:\n%s", s, err, r.tail())
			_ = r.cmd.Process.Kill()
			break
		}
	}
	select {
	case <-exited:
	case <-time.After(timeout):
		_ = r.cmd.Process.Kill()
		<-exited
		if res.Error == "" {
			res.Error = "the program did not exit after the script; the screen ends:\n" + r.tail()
		}
	}
	// The program has exited: what it wrote is all in the pty; drain it.
	for c := range r.chunks {
		r.add(c)
	}
	res.Queries = <-queries
	res.ExitCode = r.cmd.ProcessState.ExitCode()
	if ru, ok := r.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSSKB = ru.Maxrss // kilobytes on Linux
	}
	res.TotalBytes = r.buf.Len()
	if len(r.all) > 0 {
		res.FirstByteMS = ms(r.all[0].at.Sub(r.start))
	}
	if at, ok := r.firstFrame(frameAfter); ok {
		res.FirstFrameMS = ms(at.Sub(r.start))
	} else if res.Error == "" {
		res.Error = "no first frame seen"
	}
	return res, r.all
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// read keeps reading (an unread pty blocks the program) and answers
// terminal queries the way a terminal does.
func (r *run) read(queries chan<- map[string]int) {
	defer close(r.chunks)
	answers := []struct{ name, query, reply string }{
		{"osc11", "\x1b]11;?", "\x1b]11;rgb:0000/0000/0000\x1b\\"},
		{"dsr6", "\x1b[6n", "\x1b[24;1R"},
		{"da1", "\x1b[c", "\x1b[?62;22c"},
	}
	seen := map[string]int{}
	var tail []byte // the end of the previous read, for a query split across reads
	buf := make([]byte, 64*1024)
	for {
		n, err := r.f.Read(buf)
		if n > 0 {
			at := time.Now()
			data := append([]byte(nil), buf[:n]...)
			r.chunks <- chunk{at: at, data: data}
			scan := append(tail, data...)
			for _, a := range answers {
				// Count queries that end in this read.
				c := bytes.Count(scan, []byte(a.query)) - bytes.Count(tail, []byte(a.query))
				for range c {
					_, _ = r.f.WriteString(a.reply)
				}
				seen[a.name] += c
			}
			tail = append([]byte(nil), scan[max(0, len(scan)-8):]...)
		}
		if err != nil { // EIO once the program has exited and all is read
			queries <- seen
			return
		}
	}
}

func (r *run) add(c chunk) {
	r.all = append(r.all, c)
	r.buf.Write(c.data)
}

// next returns the next read, or false when none came before the deadline.
func (r *run) next(deadline time.Time) (chunk, bool) {
	d := time.Until(deadline)
	if d <= 0 {
		select {
		case c, ok := <-r.chunks:
			if ok {
				r.add(c)
			}
			return c, ok
		default:
			return chunk{}, false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case c, ok := <-r.chunks:
		if ok {
			r.add(c)
		}
		return c, ok
	case <-t.C:
		return chunk{}, false
	}
}

// burst collects the output that starts within first and ends once quiet
// has passed without a byte. It returns the bytes and when they came.
func (r *run) burst(first time.Duration) (data []byte, start, end time.Time) {
	c, ok := r.next(time.Now().Add(first))
	if !ok {
		return nil, time.Time{}, time.Time{}
	}
	data, start, end = append(data, c.data...), c.at, c.at
	for {
		c, ok := r.next(end.Add(r.quiet))
		if !ok {
			return data, start, end
		}
		data, end = append(data, c.data...), c.at
	}
}

func (r *run) send(s string) error {
	_, err := r.f.WriteString(s)
	return err
}

func (r *run) tail() string {
	s := ansi.Strip(r.buf.String())
	return s[max(0, len(s)-1500):]
}

// firstFrame finds the read that first brought visible text after the
// frameAfter sequence.
func (r *run) firstFrame(frameAfter string) (time.Time, bool) {
	var stream []byte
	from := -1
	if frameAfter == "" {
		from = 0
	}
	for _, c := range r.all {
		stream = append(stream, c.data...)
		if from < 0 {
			i := bytes.Index(stream, []byte(frameAfter))
			if i < 0 {
				continue
			}
			from = i + len(frameAfter)
		}
		if visible(ansi.Strip(string(stream[from:]))) {
			return c.at, true
		}
	}
	return time.Time{}, false
}

func visible(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.IsControl(r) && r != '\uFFFD' {
			return true
		}
	}
	return false
}

// cpu is the CPU time the program's threads have used so far, from the
// scheduler's own nanosecond count (/proc/PID/task/*/schedstat).
func (r *run) cpu() time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", r.cmd.Process.Pid))
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(data)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}
