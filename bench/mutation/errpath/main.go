// Command errpath is a small mutation tester for error paths, next to
// gremlins (which mutates operators, not error handling). In each non-test
// Go file of one package it finds two kinds of mutant:
//
//	RETURN_ERR_NIL  return …, err   →  return …, nil   (also return err → return nil)
//	IF_ERR_FALSE    if err != nil {  →  if false && err != nil {
//
// where err is an identifier named err, werr, closeErr and the like. The second keeps
// err mentioned so that `if err := f(); err != nil` still compiles; it is
// `if false {` in effect. Each mutant is applied alone, through `go test
// -overlay` (the mutated copy lives in a temporary directory: the source tree
// is never written), and the package's own tests are run with a timeout:
//
//	KILLED      the tests failed
//	TIMED_OUT   the tests ran past the timeout (counted as killed)
//	LIVED       the tests passed
//	NOT_VIABLE  the mutant did not build (not counted)
//
// One JSON object a line on stdout (or -out) per mutant; a summary on stderr.
//
//	go run ./bench/mutation/errpath run -pkg ./persist -out persist.jsonl
//	go run ./bench/mutation/errpath run -pkg ./persist -list
//	go run ./bench/mutation/errpath run -pkg ./persist -only store.go:189
//	go run ./bench/mutation/errpath table -dir bench/out/mutation ...
//	go run ./bench/mutation/errpath probe -pkg ./flow parse.go:165:36:ARITHMETIC_BASE
//
// The table subcommand (table.go) reads what bench/mutation/run wrote; probe
// (probe.go) re-runs chosen gremlins mutants, to check a new test quickly.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: errpath run|table|probe [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "table":
		err = tableCmd(os.Args[2:])
	case "probe":
		err = probeCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q (run, table or probe)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "errpath:", err)
		os.Exit(2)
	}
}

// Mutant is one error-path mutant and, once run, its status.
type Mutant struct {
	Pkg    string `json:"pkg"`  // import path
	File   string `json:"file"` // relative to the module root, slash-separated
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Type   string `json:"type"`
	Code   string `json:"code"` // the line as written, trimmed
	Status string `json:"status,omitempty"`
	Millis int64  `json:"ms,omitempty"`

	abs        string // the file's absolute path
	start, end int    // byte range replaced
	repl       string
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	pkg := fs.String("pkg", "", "the package to mutate, as go list takes it (./persist)")
	out := fs.String("out", "", "write the JSON lines here instead of stdout")
	list := fs.Bool("list", false, "list the mutants without running anything")
	only := fs.String("only", "", "run only mutants at FILE:LINE (file name as in the package directory)")
	factor := fs.Int("timeout-factor", 5, "a mutant's tests time out after this many times the baseline run, plus 20s")
	_ = fs.Parse(args)
	if *pkg == "" {
		return errors.New("-pkg is required")
	}
	info, err := goList(*pkg)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	var mutants []*Mutant
	for _, name := range info.GoFiles {
		ms, err := findMutants(filepath.Join(info.Dir, name), root, info.ImportPath)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if *only != "" && *only != fmt.Sprintf("%s:%d", name, m.Line) {
				continue
			}
			mutants = append(mutants, m)
		}
	}
	w := io.Writer(os.Stdout)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	if *list {
		for _, m := range mutants {
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
		return nil
	}

	tmp, err := os.MkdirTemp("", "errpath-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	if status, _ := goTest(info.ImportPath, "", 10*time.Minute); status != "LIVED" {
		return fmt.Errorf("%s: the tests do not pass without a mutant (%s)", info.ImportPath, status)
	}
	base := time.Since(start)
	timeout := time.Duration(*factor)*base + 20*time.Second
	fmt.Fprintf(os.Stderr, "errpath: %s: %d mutants, baseline %s, timeout %s\n",
		info.ImportPath, len(mutants), base.Round(time.Millisecond), timeout.Round(time.Second))

	counts := map[string]int{}
	for i, m := range mutants {
		src, err := os.ReadFile(m.abs)
		if err != nil {
			return err
		}
		mutated := append(append(append([]byte{}, src[:m.start]...), m.repl...), src[m.end:]...)
		copyPath := filepath.Join(tmp, fmt.Sprintf("m%d_%s", i, filepath.Base(m.abs)))
		if err := os.WriteFile(copyPath, mutated, 0o600); err != nil {
			return err
		}
		overlay := filepath.Join(tmp, "overlay.json")
		ov, _ := json.Marshal(map[string]map[string]string{"Replace": {m.abs: copyPath}})
		if err := os.WriteFile(overlay, ov, 0o600); err != nil {
			return err
		}
		t0 := time.Now()
		m.Status, _ = goTest(info.ImportPath, overlay, timeout)
		m.Millis = time.Since(t0).Milliseconds()
		_ = os.Remove(copyPath)
		counts[m.Status]++
		fmt.Fprintf(os.Stderr, "  %-10s %s:%d:%s  %s\n", m.Status, m.File, m.Line, m.Type, m.Code)
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "errpath: %s: killed %d, timed out %d, lived %d, not viable %d in %s\n",
		info.ImportPath, counts["KILLED"], counts["TIMED_OUT"], counts["LIVED"], counts["NOT_VIABLE"],
		time.Since(start).Round(time.Second))
	return nil
}

type listInfo struct {
	Dir, ImportPath string
	GoFiles         []string
}

func goList(pkg string) (listInfo, error) {
	var info listInfo
	out, err := exec.Command("go", "list", "-json", pkg).Output()
	if err != nil {
		return info, fmt.Errorf("go list %s: %w", pkg, err)
	}
	return info, json.Unmarshal(out, &info)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// goTest runs the package's tests once, uncached, and says how it went.
func goTest(pkg, overlay string, timeout time.Duration) (string, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"test", "-count=1", "-failfast", "-timeout", (timeout + 10*time.Second).String()}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.WaitDelay = 5 * time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return "TIMED_OUT", buf.Bytes()
	case err == nil:
		return "LIVED", buf.Bytes()
	case bytes.Contains(buf.Bytes(), []byte("[build failed]")),
		bytes.Contains(buf.Bytes(), []byte("[setup failed]")):
		return "NOT_VIABLE", buf.Bytes()
	default:
		return "KILLED", buf.Bytes()
	}
}

// isErrIdent says whether e is an identifier that names an error by this
// code base's habit: err, a short name ending in err (werr, rerr) or a name
// ending in Err (closeErr). Not stderr.
func isErrIdent(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	if !ok {
		return false
	}
	n := id.Name
	return n == "err" || (len(n) <= 5 && strings.HasSuffix(n, "err")) || (len(n) > 3 && strings.HasSuffix(n, "Err"))
}

func findMutants(abs, root, importPath string) ([]*Mutant, error) {
	src, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, abs, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(src, []byte("\n"))
	var ms []*Mutant
	add := func(typ string, at token.Pos, start, end token.Pos, repl string) {
		p := fset.Position(at)
		ms = append(ms, &Mutant{
			Pkg: importPath, File: filepath.ToSlash(rel), Line: p.Line, Column: p.Column, Type: typ,
			Code: strings.TrimSpace(string(lines[p.Line-1])),
			abs:  abs, start: fset.Position(start).Offset, end: fset.Position(end).Offset, repl: repl,
		})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ReturnStmt:
			if len(n.Results) > 0 {
				last := n.Results[len(n.Results)-1]
				if isErrIdent(last) {
					add("RETURN_ERR_NIL", n.Pos(), last.Pos(), last.End(), "nil")
				}
			}
		case *ast.IfStmt:
			if b, ok := n.Cond.(*ast.BinaryExpr); ok && b.Op == token.NEQ && isErrIdent(b.X) {
				if id, ok := b.Y.(*ast.Ident); ok && id.Name == "nil" {
					cond := string(src[fset.Position(b.Pos()).Offset:fset.Position(b.End()).Offset])
					add("IF_ERR_FALSE", n.Pos(), b.Pos(), b.End(), "false && "+cond)
				}
			}
		}
		return true
	})
	return ms, nil
}
