package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"enroll/config"
)

// README's table of flags and environment variables names every ENROLL_…
// variable the program reads, and nothing it does not: the variables are
// the string literals of the module's non-test Go files (examples and
// benchmarks aside), read with go/parser.
func TestEnvironmentTableIsComplete(t *testing.T) {
	read := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == "examples" || path == "bench" || path == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && regexp.MustCompile(`^ENROLL_[A-Z_]+$`).MatchString(v) {
					read[v] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "### Flags and environment")
	section, _, _ = strings.Cut(section, "\n## ")
	table := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "|") {
			for _, m := range regexp.MustCompile("`(ENROLL_[A-Z_]+)`").FindAllStringSubmatch(line, -1) {
				table[m[1]] = true
			}
		}
	}
	for v := range read {
		if !table[v] {
			t.Errorf("README's table lacks %s, which the code reads", v)
		}
	}
	for v := range table {
		if !read[v] {
			t.Errorf("README's table names %s, which no code reads", v)
		}
	}
	// What the defaults file may set is a setting of the table.
	for _, v := range config.Settings {
		if strings.HasPrefix(v, "ENROLL_") && !table[v] {
			t.Errorf("the defaults file takes %s, which README's table does not name", v)
		}
	}
	if len(read) < 20 || !slices.Contains(keys(read), "ENROLL_READER_GROUP") {
		t.Fatalf("only %d variables found: %v", len(read), keys(read))
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
