package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// table reads, for each package, what bench/mutation/run wrote:
//
//	DIR/gremlins-<slug>.json   gremlins unleash -o
//	DIR/errpath-<slug>.jsonl   errpath run -out
//
// (slug: the package directory with / as _), sets aside the surviving
// mutants that equivalent.txt lists — after checking that the listed code is
// still on that line, so a stale entry excludes nothing — and prints the
// table, then every mutant that lived and every one set aside with its reason.

type gremlinsOut struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
	Elapsed float64 `json:"elapsed_time"`
}

// result is one mutant from either tool, keyed as equivalent.txt keys it.
type result struct {
	file         string // relative to the module root
	line, column int
	typ, status  string
	code         string
}

type equivalent struct {
	file, typ  string
	line, col  int // col 0: any column
	code       string
	reason     string
	source     string // the entry as written, for messages
	used, bad  bool
	killedInst bool
}

func tableCmd(args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	dir := fs.String("dir", "bench/out/mutation", "where bench/mutation/run wrote its results")
	src := fs.String("src", ".", "the module root the mutants were made from (to check equivalent.txt against)")
	eqPath := fs.String("equivalent", "bench/mutation/equivalent.txt", "the equivalent mutants, with reasons")
	pkgs := fs.String("pkgs", "flow persist persist/durable api qr/handoff", "package directories, in table order")
	strict := fs.Bool("strict", false, "fail when an entry of equivalent.txt no longer matches its line")
	_ = fs.Parse(args)

	eqs, err := readEquivalent(*eqPath)
	if err != nil {
		return err
	}
	// An entry whose code is no longer on its line is stale whether or not
	// this run's mutants reach it: a smoke run, which runs none, checks them
	// all.
	for _, q := range eqs {
		if !strings.Contains(lineOf(*src, q.file, q.line), q.code) {
			q.bad = true
		}
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintln(w, "| package | gremlins score killed / (killed+lived) (not covered) | error-path mutants killed | equivalent set aside (gremlins, error-path) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	var lived, aside []string
	for _, pkg := range strings.Fields(*pkgs) {
		slug := strings.ReplaceAll(pkg, "/", "_")
		g, gErr := readGremlins(filepath.Join(*dir, "gremlins-"+slug+".json"), pkg)
		e, eErr := readErrpath(filepath.Join(*dir, "errpath-"+slug+".jsonl"))
		gCell, eCell := "not run", "not run"
		var gEq, eEq int
		if gErr == nil {
			var c counts
			c, gEq, lived, aside = tally(g, eqs, *src, lived, aside, "gremlins")
			gCell = fmt.Sprintf("%s (%d / %d; %d not covered", pct(c.killed, c.killed+c.lived), c.killed, c.killed+c.lived, c.notCovered)
			if c.timedOut > 0 {
				gCell += fmt.Sprintf("; %d timed out", c.timedOut)
			}
			if c.notViable > 0 {
				gCell += fmt.Sprintf("; %d not viable", c.notViable)
			}
			gCell += ")"
			if c.unrun > 0 {
				gCell = fmt.Sprintf("not run (%d runnable, %d not covered)", c.unrun, c.notCovered)
			}
		} else if !errors.Is(gErr, os.ErrNotExist) {
			return gErr
		}
		if eErr == nil {
			var c counts
			c, eEq, lived, aside = tally(e, eqs, *src, lived, aside, "errpath")
			eCell = fmt.Sprintf("%d / %d (%s)", c.killed+c.timedOut, c.killed+c.timedOut+c.lived, pct(c.killed+c.timedOut, c.killed+c.timedOut+c.lived))
			if c.notViable > 0 {
				eCell += fmt.Sprintf(", %d not viable", c.notViable)
			}
			if c.unrun > 0 {
				eCell = fmt.Sprintf("not run (%d found)", c.unrun)
			}
		} else if !errors.Is(eErr, os.ErrNotExist) {
			return eErr
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d, %d |\n", pkg, gCell, eCell, gEq, eEq)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "gremlins' score leaves timed-out mutants out, as gremlins does; the error-path column counts them as killed.")
	if len(lived) > 0 {
		fmt.Fprintf(w, "\nLived (%d):\n", len(lived))
		for _, l := range lived {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if len(aside) > 0 {
		fmt.Fprintf(w, "\nSet aside as equivalent (%d):\n", len(aside))
		for _, l := range aside {
			fmt.Fprintln(w, "  "+l)
		}
	}
	stale := 0
	for _, q := range eqs {
		switch {
		case q.bad:
			stale++
			fmt.Fprintf(w, "\nstale in equivalent.txt (the code is no longer on that line; nothing set aside): %s\n", q.source)
		case q.killedInst:
			fmt.Fprintf(w, "\nlisted as equivalent but killed (remove it from equivalent.txt): %s\n", q.source)
		}
	}
	if *strict && stale > 0 {
		w.Flush()
		return fmt.Errorf("%d stale entries in %s", stale, *eqPath)
	}
	return nil
}

// counts of one tool's mutants in one package; unrun are those a smoke run
// (gremlins --dry-run, errpath -list) found without running.
type counts struct{ killed, lived, timedOut, notViable, notCovered, unrun int }

func tally(rs []result, eqs []*equivalent, src string, lived, aside []string, tool string) (counts, int, []string, []string) {
	var c counts
	set := 0
	for _, r := range rs {
		q := match(eqs, r, src)
		switch r.status {
		case "KILLED":
			c.killed++
			if q != nil {
				q.killedInst = true
			}
		case "TIMED OUT", "TIMED_OUT":
			c.timedOut++
		case "NOT VIABLE", "NOT_VIABLE":
			c.notViable++
		case "NOT COVERED":
			c.notCovered++
		case "", "RUNNABLE":
			c.unrun++
		case "LIVED":
			if q != nil {
				set++
				aside = append(aside, fmt.Sprintf("%s:%d:%d:%s — %s", r.file, r.line, r.column, r.typ, q.reason))
				continue
			}
			c.lived++
			lived = append(lived, fmt.Sprintf("%-8s %s:%d:%d:%s  %s", tool, r.file, r.line, r.column, r.typ, lineOf(src, r.file, r.line)))
		}
	}
	return c, set, lived, aside
}

func match(eqs []*equivalent, r result, src string) *equivalent {
	for _, q := range eqs {
		if q.file != r.file || q.line != r.line || q.typ != r.typ || (q.col != 0 && q.col != r.column) {
			continue
		}
		if q.bad {
			return nil
		}
		q.used = true
		return q
	}
	return nil
}

var lineCache = map[string][]string{}

func lineOf(src, file string, line int) string {
	ls, ok := lineCache[file]
	if !ok {
		b, _ := os.ReadFile(filepath.Join(src, file))
		ls = strings.Split(string(b), "\n")
		lineCache[file] = ls
	}
	if line < 1 || line > len(ls) {
		return ""
	}
	return strings.TrimSpace(ls[line-1])
}

func pct(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

// readEquivalent reads lines of the form
//
//	FILE:LINE[:COL]:TYPE | code on that line | reason
//
// Blank lines and lines starting with # are skipped.
func readEquivalent(path string) ([]*equivalent, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var eqs []*equivalent
	for n, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.SplitN(l, " | ", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want KEY | CODE | REASON", path, n+1)
		}
		key := strings.Split(strings.TrimSpace(parts[0]), ":")
		q := &equivalent{code: strings.TrimSpace(parts[1]), reason: strings.TrimSpace(parts[2]), source: l}
		var errL, errC error
		switch len(key) {
		case 3:
			q.file, q.typ = key[0], key[2]
			q.line, errL = strconv.Atoi(key[1])
		case 4:
			q.file, q.typ = key[0], key[3]
			q.line, errL = strconv.Atoi(key[1])
			q.col, errC = strconv.Atoi(key[2])
		default:
			return nil, fmt.Errorf("%s:%d: want FILE:LINE[:COL]:TYPE", path, n+1)
		}
		if errL != nil || errC != nil {
			return nil, fmt.Errorf("%s:%d: bad line or column", path, n+1)
		}
		eqs = append(eqs, q)
	}
	return eqs, nil
}

func readGremlins(path, pkg string) ([]result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var g gremlinsOut
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var rs []result
	for _, f := range g.Files {
		for _, m := range f.Mutations {
			rs = append(rs, result{file: pkg + "/" + filepath.ToSlash(f.Name), line: m.Line, column: m.Column, typ: m.Type, status: m.Status})
		}
	}
	sortResults(rs)
	return rs, nil
}

func readErrpath(path string) ([]result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []result
	dec := json.NewDecoder(f)
	for {
		var m Mutant
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rs = append(rs, result{file: m.File, line: m.Line, column: m.Column, typ: m.Type, status: m.Status, code: m.Code})
	}
	sortResults(rs)
	return rs, nil
}

func sortResults(rs []result) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.file != b.file {
			return a.file < b.file
		}
		if a.line != b.line {
			return a.line < b.line
		}
		if a.column != b.column {
			return a.column < b.column
		}
		return a.typ < b.typ
	})
}
