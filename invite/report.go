package invite

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/progress"

	"enroll/flow"
)

// Row states in the output of a bulk run (besides the results file's).
const (
	outAlreadySent = "already-sent" // sent by an earlier run
	outNotSent     = "not-sent"     // not tried: the run was interrupted or stopped
)

// Row is one row's line of JSON output, and what the summary
// counts. Every row of the CSV gets exactly one, so a script can join them
// with its input by line (or ref).
type Row struct {
	Line         int    `json:"line"`
	Ref          string `json:"ref,omitempty"`
	Email        string `json:"email,omitempty"`
	State        string `json:"state"` // sent, already-sent, failed, unknown, not-sent
	InvitationID string `json:"invitationId,omitempty"`
	ValidUntil   string `json:"validUntil,omitempty"`
	Link         string `json:"link,omitempty"`  // only with --show-links
	Token        string `json:"token,omitempty"` // only with --show-links
	Kind         string `json:"kind,omitempty"`
	Message      string `json:"message,omitempty"`
	Hint         string `json:"hint,omitempty"`
	Exit         int    `json:"exitCode,omitempty"`
}

type Summary struct {
	Rows        int    `json:"rows"`
	Sent        int    `json:"sent"`
	AlreadySent int    `json:"alreadySent"`
	Failed      int    `json:"failed"`
	Unknown     int    `json:"unknown"`
	NotSent     int    `json:"notSent"`
	ToSend      int    `json:"toSend,omitempty"` // --check only
	Check       bool   `json:"check,omitempty"`
	Results     string `json:"results"`
	Exit        int    `json:"exitCode"`
}

// reporter shows the rows as they end: one JSON line each on stdout
// (scripts, CI logs, --json), or a progress bar on a terminal with the rows
// that need attention printed above it. The summary goes to stderr either
// way, and as a last JSON line.
type reporter struct {
	out, msg  io.Writer
	json      bool
	bar       *progress.Model // nil: no bar
	showLinks bool
	total     int

	mu     sync.Mutex
	n      int
	counts map[string]int
	lines  map[string][]int // problem kind → its rows' lines
	hints  map[string]string
	kinds  []string // in order of first appearance
	exits  map[int]bool
}

func newReporter(o Options, total int) *reporter {
	return &reporter{out: o.Stdout, msg: o.Stderr, json: o.Bar == nil, bar: o.Bar, showLinks: o.ShowLinks, total: total,
		counts: map[string]int{}, lines: map[string][]int{}, hints: map[string]string{}, exits: map[int]bool{}}
}

func (r *reporter) row(o Row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.counts[o.State]++
	if o.Exit != 0 {
		r.exits[o.Exit] = true
		key := o.Kind // rows never tried are listed apart from those that failed
		if o.State == outNotSent {
			key = "not sent"
		}
		if _, ok := r.lines[key]; !ok {
			r.kinds = append(r.kinds, key)
		}
		r.lines[key] = append(r.lines[key], o.Line)
		r.hints[key] = o.Hint
	}
	if r.json {
		b, _ := json.Marshal(o)
		fmt.Fprintf(r.out, "%s\n", b)
		return
	}
	r.clearBar()
	who := flow.Sanitize(o.Email)
	if who == "" {
		who = "ref " + flow.Sanitize(o.Ref)
	}
	switch {
	case o.Exit != 0:
		fmt.Fprintf(r.msg, "line %d (%s): %s: %s\n", o.Line, who, o.Kind, flow.SanitizeMax(o.Message, 300))
	case r.showLinks && (o.Link != "" || o.Token != ""):
		fmt.Fprintf(r.out, "line %d (%s): %s\n", o.Line, who, flow.Sanitize(firstOf(o.Link, o.Token)))
	}
	r.drawBar()
}

// note prints a message between the rows.
func (r *reporter) note(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.clearBar()
		defer r.drawBar()
	}
	fmt.Fprintln(r.msg, msg)
}

func (r *reporter) clearBar() { fmt.Fprint(r.msg, "\r\x1b[2K") }

func (r *reporter) drawBar() {
	frac := 1.0
	if r.total > 0 {
		frac = float64(r.n) / float64(r.total)
	}
	fmt.Fprintf(r.msg, "%s  %d/%d", r.bar.ViewAs(frac), r.n, r.total)
	if bad := r.n - r.counts[Sent] - r.counts[outAlreadySent]; bad > 0 {
		fmt.Fprintf(r.msg, " (%d need attention)", bad)
	}
}

// finish prints the summary and returns the run's exit code. stopped is
// why the run stopped early ("" if it did not); extra adds codes that no
// row carries.
func (r *reporter) finish(results, stopped string, extra ...int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range extra {
		r.exits[c] = true
	}
	s := Summary{Rows: r.total, Sent: r.counts[Sent], AlreadySent: r.counts[outAlreadySent], Failed: r.counts[Failed],
		Unknown: r.counts[Unknown], NotSent: r.counts[outNotSent], Results: results, Exit: worstExit(r.exits)}
	if r.bar != nil {
		r.clearBar()
	}
	if r.json {
		b, _ := json.Marshal(map[string]Summary{"summary": s})
		fmt.Fprintf(r.out, "%s\n", b)
	}
	parts := []string{fmt.Sprintf("%d sent", s.Sent)}
	for _, p := range []struct {
		n    int
		what string
	}{{s.AlreadySent, "sent by an earlier run"}, {s.Failed, "failed"}, {s.Unknown, "outcome unknown"}, {s.NotSent, "not sent"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	fmt.Fprintf(r.msg, "enroll: %d rows: %s.\n", s.Rows, strings.Join(parts, ", "))
	if stopped != "" {
		fmt.Fprintf(r.msg, "  the run stopped early: %s\n", stopped)
	}
	for _, k := range r.kinds {
		fmt.Fprintf(r.msg, "  %s (%s): %s\n", k, lineList(r.lines[k]), r.hints[k])
	}
	fmt.Fprintf(r.msg, "  results: %s\n", flow.Sanitize(results))
	return s.Exit
}

// lineList names the lines of a kind of problem, the first twenty of them.
func lineList(lines []int) string {
	slices.Sort(lines)
	word := "line "
	if len(lines) > 1 {
		word = "lines "
	}
	var b strings.Builder
	for i, l := range lines {
		if i == 20 {
			fmt.Fprintf(&b, " and %d more", len(lines)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(l))
	}
	return word + b.String()
}

// reportRowErrors lists every bad row of a CSV (or conflict with its
// results file) and ends the command with exit 2: nothing was sent.
func reportRowErrors(o Options, file string, errs []rowError) error {
	if o.JSON {
		writeJSON(o.Stdout, map[string]any{"status": "invalid", "file": file, "errors": errs, "exitCode": flow.ExitUsage})
	}
	fmt.Fprintf(o.Stderr, "enroll: %s: %d problem(s); nothing was sent:\n", flow.Sanitize(file), len(errs))
	for _, re := range errs {
		if re.Line > 0 {
			fmt.Fprintf(o.Stderr, "  line %d: %s\n", re.Line, re.Message)
		} else {
			fmt.Fprintf(o.Stderr, "  %s\n", re.Message)
		}
	}
	return exitWith(flow.ExitUsage)
}
