// Command ptymeasure runs one program in a pseudo-terminal, plays a short
// script of keys at it as a person would, and reports as JSON what a slow
// terminal link would pay: the time from start to the first frame, the
// bytes written per key, per periodic redraw and while idle, and the peak
// resident memory of the program.
//
//	ptymeasure [-cols 80 -rows 24] [-env K=V]... [-frame-after SEQ] [-mark SEQ] -do STEP... -- PROGRAM ARGS...
//
// The program gets exactly the -env variables (a made-up environment, so
// nothing of the caller's leaks in). Like a real terminal, ptymeasure
// answers the background colour (OSC 11), cursor position (DSR 6) and
// device attributes (DA1) queries at once, and counts them.
//
// Steps (SEQ and TEXT take Go escapes such as \r, \x0f):
//
//	wait:TEXT          wait until TEXT shows (escape sequences stripped) after the previous wait's match
//	send:TEXT          send TEXT as one write
//	sleep:DURATION     let time pass (output is still read and kept)
//	type=LABEL:TEXT    send TEXT one character per write, -pace apart (or each once the previous one's
//	                   output went quiet), then watch -trail longer; LABEL gets the bytes per character
//	bursts=LABEL:N     wait for a redraw to end, then measure the next N redraws (a countdown, a spinner)
//	idle=LABEL:DURATION bytes written while nobody types
//	screen=LABEL:TEXT  send TEXT and measure all that is written until the output went quiet
//
// The first frame is the first read that brings visible text (not blanks
// or escape sequences) after -frame-after (e.g. the switch to the
// alternate screen), or after the start if that is not given. -mark counts
// a byte sequence in every measured step (e.g. the SGR that starts a QR
// code row, to see whether a key redraws the code).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
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

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// chunk is one read from the terminal, stamped when it arrived.
type chunk struct {
	at   time.Time
	data []byte
}

// Step is the outcome of one measuring step.
type Step struct {
	Kind     string  `json:"kind"`
	Count    int     `json:"count"`               // keys sent, or redraws seen
	Bytes    int     `json:"bytes"`               // all bytes written during the step
	PerItem  float64 `json:"per_item"`            // bytes per key or per redraw
	Max      int     `json:"max"`                 // most bytes for one key or redraw
	MarkHits int     `json:"mark_hits"`           // occurrences of -mark
	Millis   float64 `json:"millis,omitempty"`    // duration of an idle step, or mean time between redraws
	PerSec   float64 `json:"per_sec,omitempty"`   // idle: bytes per second
	Silent   int     `json:"silent,omitempty"`    // keys that wrote nothing
	Trailing int     `json:"trailing,omitempty"`  // type: bytes written after the last key (included in Bytes)
	Settled  float64 `json:"settled,omitempty"`   // type/screen: mean ms from key to the end of its output
	FirstOut float64 `json:"first_out,omitempty"` // type/screen: mean ms from key to its first output
	// idle: CPU time the program used, in ms per second of the step
	CPUPerSec float64 `json:"cpu_ms_per_s,omitempty"`
}

// Result is what ptymeasure prints.
type Result struct {
	Command      []string        `json:"command"`
	FirstByteMS  float64         `json:"first_byte_ms"`
	FirstFrameMS float64         `json:"first_frame_ms"`
	TotalBytes   int             `json:"total_bytes"`
	ExitCode     int             `json:"exit_code"`
	MaxRSSKB     int64           `json:"max_rss_kb"`
	Queries      map[string]int  `json:"queries"`
	Steps        map[string]Step `json:"steps"`
	Error        string          `json:"error,omitempty"`
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

func main() {
	var env, steps multi
	cols := flag.Int("cols", 80, "terminal width")
	rows := flag.Int("rows", 24, "terminal height")
	frameAfter := flag.String("frame-after", "", "the first frame is the first visible text after this `SEQ`uence")
	markSeq := flag.String("mark", "", "count this byte `SEQ`uence in each measured step")
	quiet := flag.Duration("quiet", 40*time.Millisecond, "output is quiet after this long without a byte")
	pace := flag.Duration("pace", 0, "type: time between keys, as a person types (0: each key once the output of the previous one went quiet)")
	trail := flag.Duration("trail", time.Second, "type: also count what is written this long after the last key")
	timeout := flag.Duration("timeout", 30*time.Second, "give up (and kill the program) after this long")
	raw := flag.String("raw", "", "also write everything the program wrote to this `FILE`, one read per line, Go-quoted")
	flag.Var(&env, "env", "`KEY=VALUE` of the program's environment (repeatable)")
	flag.Var(&steps, "do", "a `STEP` of the script (repeatable, in order)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: ptymeasure [flags] -do STEP... -- PROGRAM ARGS...")
		os.Exit(2)
	}
	res, chunks := measure(flag.Args(), env, steps, *cols, *rows, unquote(*frameAfter), unquote(*markSeq), *quiet, *pace, *trail, *timeout)
	if *raw != "" {
		var b strings.Builder
		for _, c := range chunks {
			fmt.Fprintf(&b, "%8.1fms %s\n", ms(c.at.Sub(chunks[0].at)), strconv.Quote(string(c.data)))
		}
		if err := os.WriteFile(*raw, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if res.Error != "" {
		os.Exit(1)
	}
}

func unquote(s string) string {
	u, err := strconv.Unquote(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`)
	if err != nil {
		return s
	}
	return u
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

func (r *run) step(s string, out map[string]Step) error {
	verb, arg, _ := strings.Cut(s, ":")
	verb, label, _ := strings.Cut(verb, "=")
	arg = unquote(arg)
	switch verb {
	case "wait":
		for deadline := time.Now().Add(20 * time.Second); ; {
			if i := strings.Index(ansi.Strip(r.buf.String()[r.mark:]), arg); i >= 0 {
				r.mark = r.buf.Len()
				return nil
			}
			if _, ok := r.next(deadline); !ok {
				return fmt.Errorf("%q did not show", arg)
			}
		}
	case "send":
		return r.send(arg)
	case "sleep":
		d, err := time.ParseDuration(arg)
		if err != nil {
			return err
		}
		time.Sleep(d)
		return nil
	case "type":
		r.burst(r.quiet) // what is still being drawn belongs to no key
		st := Step{Kind: verb}
		var settled, firstOut time.Duration
		for _, ch := range arg {
			sent := time.Now()
			if err := r.send(string(ch)); err != nil {
				return err
			}
			var data []byte
			var start, end time.Time
			if r.pace > 0 {
				// A person typing: the next key comes after the pace,
				// whatever the screen does meanwhile.
				for {
					c, ok := r.next(sent.Add(r.pace))
					if !ok {
						break
					}
					if start.IsZero() {
						start = c.at
					}
					data, end = append(data, c.data...), c.at
				}
			} else {
				data, start, end = r.burst(300 * time.Millisecond)
			}
			st.add(data, r.seq)
			if len(data) > 0 {
				settled += end.Sub(sent)
				firstOut += start.Sub(sent)
			}
		}
		if n := st.Count - st.Silent; n > 0 {
			st.Settled, st.FirstOut = ms(settled)/float64(n), ms(firstOut)/float64(n)
		}
		// What the typing still causes once it stops (a line that waits
		// for a pause) is part of its cost.
		for end := time.Now().Add(r.trail); ; {
			c, ok := r.next(end)
			if !ok {
				break
			}
			st.Bytes += len(c.data)
			st.Trailing += len(c.data)
			st.MarkHits += markHits(c.data, r.seq)
		}
		out[label] = st.done()
		return nil
	case "bursts":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return err
		}
		st := Step{Kind: verb}
		if _, start, _ := r.burst(3 * time.Second); start.IsZero() {
			return errors.New("no redraw to sync to")
		}
		var first, last time.Time
		for range n {
			data, start, _ := r.burst(3 * time.Second)
			if start.IsZero() {
				return errors.New("the redraws stopped")
			}
			if first.IsZero() {
				first = start
			}
			last = start
			st.add(data, r.seq)
		}
		if n > 1 {
			st.Millis = ms(last.Sub(first)) / float64(n-1)
		}
		out[label] = st.done()
		return nil
	case "idle":
		d, err := time.ParseDuration(arg)
		if err != nil {
			return err
		}
		st := Step{Kind: verb, Millis: ms(d)}
		cpu := r.cpu()
		var data []byte
		for end := time.Now().Add(d); ; {
			c, ok := r.next(end)
			if !ok {
				break
			}
			data = append(data, c.data...)
		}
		st.Bytes, st.MarkHits = len(data), markHits(data, r.seq)
		st.PerSec = float64(len(data)) / d.Seconds()
		st.CPUPerSec = ms(r.cpu()-cpu) / d.Seconds()
		out[label] = st
		return nil
	case "screen":
		r.burst(r.quiet)
		st := Step{Kind: verb}
		sent := time.Now()
		if err := r.send(arg); err != nil {
			return err
		}
		// A screen may come in more than one frame (a spinner while a
		// server starts): allow a longer gap than between a key's frames.
		quiet := r.quiet
		r.quiet = max(quiet, 150*time.Millisecond)
		data, start, end := r.burst(2 * time.Second)
		r.quiet = quiet
		if start.IsZero() {
			return errors.New("nothing was drawn")
		}
		st.add(data, r.seq)
		st.Settled, st.FirstOut = ms(end.Sub(sent)), ms(start.Sub(sent))
		out[label] = st.done()
		return nil
	}
	return fmt.Errorf("unknown step %q", verb)
}

func (st *Step) add(data []byte, seq []byte) {
	st.Count++
	st.Bytes += len(data)
	st.Max = max(st.Max, len(data))
	st.MarkHits += markHits(data, seq)
	if len(data) == 0 {
		st.Silent++
	}
}

func (st Step) done() Step {
	if st.Count > 0 {
		st.PerItem = float64(st.Bytes) / float64(st.Count)
	}
	return st
}

func markHits(data, seq []byte) int {
	if len(seq) == 0 {
		return 0
	}
	return bytes.Count(data, seq)
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
