package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The import rules hold themselves, in the manner of Tailscale's TestDeps:
// README's Layout table says what each package may import of enroll's, and
// the rules below it what no package may reach; both are checked against
// `go list`, so a new import that breaks them fails here, not in review.

type listed struct {
	ImportPath string
	Imports    []string // direct, of the package's non-test files
	Deps       []string // everything it reaches
}

func goList(t *testing.T) map[string]listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, "enroll"), "/")] = p
	}
	return pkgs
}

// ours are the enroll packages among paths, without the module's name.
func ours(paths []string) []string {
	var o []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, "enroll/"); ok {
			o = append(o, rest)
		}
	}
	return o
}

func TestDeps(t *testing.T) {
	pkgs := goList(t)
	for _, rule := range []struct {
		pkg           string
		noImport      []string // direct imports it must not have
		noDep         []string // packages it must not reach at all
		noEnrollAtAll bool
	}{
		{pkg: "flow", noImport: []string{"os", "os/exec", "net", "syscall"}, noEnrollAtAll: true,
			noDep: []string{"net/http", "github.com/charmbracelet/bubbletea", "github.com/charmbracelet/lipgloss"}},
		{pkg: "tui", noDep: []string{"enroll/api", "enroll/persist", "enroll/persist/durable", "enroll/qr/handoff", "enroll/seal", "net/http"}},
		{pkg: "persist/durable", noEnrollAtAll: true, noDep: []string{"net/http"}},
		// The store knows no TPM: it is handed a Sealer (package seal).
		{pkg: "persist", noDep: []string{"net/http", "enroll/api", "enroll/tui", "enroll/seal", "github.com/google/go-tpm/tpm2"}},
		{pkg: "seal", noDep: []string{"net/http", "enroll/api", "enroll/tui", "github.com/charmbracelet/bubbletea"}},
		{pkg: "api", noDep: []string{"enroll/persist", "enroll/tui", "github.com/charmbracelet/bubbletea"}},
		{pkg: "desktop", noDep: []string{"enroll/api", "enroll/tui", "net/http"}},
		{pkg: "invite", noDep: []string{"enroll/tui", "enroll/persist"}},
		{pkg: "doctor", noDep: []string{"enroll/tui", "github.com/charmbracelet/bubbletea"}},
		{pkg: "config", noEnrollAtAll: true},
		{pkg: "qr", noEnrollAtAll: true},
		{pkg: "qr/handoff", noEnrollAtAll: true},
	} {
		p, ok := pkgs[rule.pkg]
		if !ok {
			t.Errorf("%s: no such package", rule.pkg)
			continue
		}
		for _, bad := range rule.noImport {
			if slices.Contains(p.Imports, bad) {
				t.Errorf("%s imports %s", rule.pkg, bad)
			}
		}
		for _, bad := range rule.noDep {
			if slices.Contains(p.Deps, bad) {
				t.Errorf("%s reaches %s", rule.pkg, bad)
			}
		}
		if rule.noEnrollAtAll && len(ours(p.Deps)) > 0 {
			t.Errorf("%s reaches enroll's %v; it must stand alone", rule.pkg, ours(p.Deps))
		}
	}
}

// layoutRow matches a row of README's Layout table: the package, its job,
// and what it may import.
var layoutRow = regexp.MustCompile("(?m)^\\| `([^`]+)` \\| [^|]+ \\| ([^|]+) \\|$")

func TestLayout(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{}
	for _, m := range layoutRow.FindAllStringSubmatch(string(readme), -1) {
		var may []string
		for _, a := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[2], -1) {
			may = append(may, a[1])
		}
		allowed[strings.TrimSuffix(m[1], "/…")] = may
	}
	if len(allowed) < 10 {
		t.Fatalf("README's Layout table has %d rows; is it still a table?", len(allowed))
	}
	for path, p := range goList(t) {
		row := path
		if path == "" {
			row = "."
		}
		for _, tree := range []string{"bench", "examples"} {
			if strings.HasPrefix(path, tree+"/") {
				row = tree
			}
		}
		may, ok := allowed[row]
		if !ok {
			t.Errorf("package %s has no row in README's Layout table", row)
			continue
		}
		for _, imp := range ours(p.Imports) {
			if !slices.Contains(may, imp) {
				t.Errorf("%s imports %s, which README's Layout table does not allow", row, imp)
			}
		}
	}
}
