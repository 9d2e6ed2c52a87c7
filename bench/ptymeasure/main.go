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
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

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
