package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// probe re-runs chosen gremlins mutants, one at a time, the way run runs
// error-path mutants (an overlay, the package's own tests): a quick check
// of whether a new test kills a survivor, without a whole gremlins run.
//
//	errpath probe -pkg ./flow parse.go:165:36:ARITHMETIC_BASE …
//
// Each argument is FILE:LINE:COLUMN:TYPE as gremlins prints it (FILE in the
// package directory); only the mutators bench/mutation/run enables.
var gremlinsTokens = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE":       {token.ADD: token.SUB, token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL, token.SUB: token.ADD},
	"CONDITIONALS_BOUNDARY": {token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS, token.LSS: token.LEQ},
	"CONDITIONALS_NEGATION": {token.EQL: token.NEQ, token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR, token.LSS: token.GEQ, token.NEQ: token.EQL},
	"INCREMENT_DECREMENT":   {token.DEC: token.INC, token.INC: token.DEC},
	"INVERT_NEGATIVES":      {token.SUB: token.ADD},
	"INVERT_LOGICAL":        {token.LAND: token.LOR, token.LOR: token.LAND},
}

func probeCmd(args []string) error {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	pkg := fs.String("pkg", "", "the package, as go list takes it (./flow)")
	_ = fs.Parse(args)
	if *pkg == "" || fs.NArg() == 0 {
		return errors.New("usage: errpath probe -pkg ./PKG FILE:LINE:COL:TYPE …")
	}
	info, err := goList(*pkg)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "errpath-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for i, spec := range fs.Args() {
		abs, mutated, err := gremlinsMutant(info.Dir, spec)
		if err != nil {
			return err
		}
		copyPath := filepath.Join(tmp, fmt.Sprintf("m%d_%s", i, filepath.Base(abs)))
		overlay := filepath.Join(tmp, "overlay.json")
		ov, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: copyPath}})
		if err := os.WriteFile(copyPath, mutated, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(overlay, ov, 0o600); err != nil {
			return err
		}
		status, _ := goTest(info.ImportPath, overlay, 2*time.Minute)
		fmt.Printf("%-10s %s\n", status, spec)
	}
	return nil
}

// gremlinsMutant returns the file spec names and its text with that one
// operator mutated. gremlins changes the operator in the syntax tree, so
// the tree keeps its shape: a binary expression is rewritten as
// ((X) op' (Y)), or a || inside an && chain would regroup.
func gremlinsMutant(dir, spec string) (string, []byte, error) {
	parts := strings.Split(spec, ":")
	if len(parts) != 4 {
		return "", nil, fmt.Errorf("%q: want FILE:LINE:COL:TYPE", spec)
	}
	line, err1 := strconv.Atoi(parts[1])
	col, err2 := strconv.Atoi(parts[2])
	table, ok := gremlinsTokens[parts[3]]
	if err1 != nil || err2 != nil || !ok {
		return "", nil, fmt.Errorf("%q: bad line, column or mutator", spec)
	}
	abs := filepath.Join(dir, parts[0])
	src, err := os.ReadFile(abs)
	if err != nil {
		return "", nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, abs, src, parser.SkipObjectResolution)
	if err != nil {
		return "", nil, err
	}
	at := func(p token.Pos) bool { q := fset.Position(p); return q.Line == line && q.Column == col }
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var out []byte
	ast.Inspect(f, func(n ast.Node) bool {
		if out != nil {
			return false
		}
		var op token.Token
		var start, opPos, end token.Pos
		var x, y ast.Expr
		switch n := n.(type) {
		case *ast.BinaryExpr:
			op, start, opPos, end, x, y = n.Op, n.Pos(), n.OpPos, n.End(), n.X, n.Y
		case *ast.UnaryExpr:
			op, start, opPos, end, y = n.Op, n.Pos(), n.OpPos, n.End(), n.X
		case *ast.IncDecStmt:
			op, start, opPos, end = n.Tok, n.Pos(), n.TokPos, n.End()
		default:
			return true
		}
		to, ok := table[op]
		if !at(opPos) || !ok {
			return true
		}
		var b []byte
		b = append(b, src[:off(start)]...)
		switch {
		case x != nil: // binary
			b = fmt.Appendf(b, "((%s) %s (%s))", src[off(x.Pos()):off(x.End())], to, src[off(y.Pos()):off(y.End())])
		case y != nil: // unary
			b = fmt.Appendf(b, "(%s(%s))", to, src[off(y.Pos()):off(y.End())])
		default: // x++ or x--
			b = append(append(b, src[off(start):off(opPos)]...), to.String()...)
		}
		out = append(b, src[off(end):]...)
		return false
	})
	if out == nil {
		return "", nil, fmt.Errorf("%s: no operator %s mutates at %d:%d", spec, parts[3], line, col)
	}
	return abs, out, nil
}
