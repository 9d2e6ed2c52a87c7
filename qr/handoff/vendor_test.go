package handoff

// The vendored @noble/ciphers (page/vendor/noble-ciphers) checked against
// the manifest vendor.sh wrote when it fetched the package and verified the
// registry's integrity hash: a file edited, added or removed by hand fails
// here. (vendor.sh --check compares them with the registry's tarball again,
// which needs the network.)

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

type vendorManifest struct {
	Comment   string            `json:"comment"`
	Package   string            `json:"package"`
	Version   string            `json:"version"`
	Tarball   string            `json:"tarball"`
	Integrity string            `json:"integrity"`
	Entry     string            `json:"entry"`
	Files     map[string]string `json:"files"` // name -> SHA-256, hex
}

const vendorManifestPath = "page/vendor/noble-ciphers.manifest.json"

func readVendorManifest(t *testing.T) vendorManifest {
	t.Helper()
	b, err := os.ReadFile(vendorManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m vendorManifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s: %v", vendorManifestPath, err)
	}
	return m
}

func TestVendoredNobleCiphers(t *testing.T) {
	m := readVendorManifest(t)
	if m.Package != "@noble/ciphers" || !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(m.Version) {
		t.Errorf("manifest names %s@%s, want @noble/ciphers at an exact version", m.Package, m.Version)
	}
	if !regexp.MustCompile(`^sha512-[A-Za-z0-9+/]{86}==$`).MatchString(m.Integrity) {
		t.Errorf("integrity %q is not an npm sha512 integrity string", m.Integrity)
	}
	if want := "https://registry.npmjs.org/@noble/ciphers/-/ciphers-" + m.Version + ".tgz"; m.Tarball != want {
		t.Errorf("tarball %q, want %q", m.Tarball, want)
	}

	t.Run("files-match-the-manifest", func(t *testing.T) {
		dir := filepath.Join("page", filepath.FromSlash(vendorDir))
		var present []string
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != dir {
					t.Errorf("%s: a directory; vendor.sh copies files only", p)
				}
				return nil
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			present = append(present, rel)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			switch want, ok := m.Files[rel]; {
			case !ok:
				t.Errorf("%s is not in the manifest: the vendored files are written by vendor.sh only", p)
			case hex.EncodeToString(sum[:]) != want:
				t.Errorf("%s: SHA-256 %x, the manifest says %s: edited by hand? Run qr/handoff/vendor.sh", p, sum, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for name := range m.Files {
			if !slices.Contains(present, name) {
				t.Errorf("%s/%s is in the manifest but missing", dir, name)
			}
		}
		for _, need := range []string{"LICENSE", "package.json", m.Entry} {
			if _, ok := m.Files[need]; !ok {
				t.Errorf("the manifest lacks %s", need)
			}
		}
	})

	t.Run("script-pins-the-manifest", func(t *testing.T) {
		// vendor.sh and the manifest it wrote name the same version and hash.
		b, err := os.ReadFile("vendor.sh")
		if err != nil {
			t.Fatal(err)
		}
		script := string(b)
		for name, want := range map[string]string{"PACKAGE": m.Package, "VERSION": m.Version, "INTEGRITY": m.Integrity} {
			set := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindStringSubmatch(script)
			if set == nil {
				t.Errorf("vendor.sh does not set %s", name)
			} else if set[1] != want {
				t.Errorf("vendor.sh sets %s=%s, the manifest says %q: run vendor.sh", name, set[1], want)
			}
		}
	})

	t.Run("served-modules", func(t *testing.T) {
		// Every vendored module is served, and nothing else of the vendor
		// directory: the page needs no package.json or LICENSE.
		var served, modules []string
		for name := range pageFiles {
			if rest, ok := strings.CutPrefix(name, vendorDir+"/"); ok {
				served = append(served, rest)
			}
		}
		for name := range m.Files {
			if strings.HasSuffix(name, ".js") {
				modules = append(modules, name)
			}
		}
		sort.Strings(served)
		sort.Strings(modules)
		if !slices.Equal(served, modules) {
			t.Errorf("served from %s: %v; the vendored modules: %v", vendorDir, served, modules)
		}
	})
}

// TestServedModulesResolve follows every static import of the page's ES
// modules, as the browser would from the URL each is served at: each must
// be relative and name a file the server serves. A version of the library
// that needs another file, or any bare import (which a page without a
// bundler or import map cannot resolve), fails here rather than on a phone.
func TestServedModulesResolve(t *testing.T) {
	importRE := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']`)
	seen := map[string]bool{}
	todo := []string{"seal.mjs"}
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[name] {
			continue
		}
		seen[name] = true
		f, ok := pageFiles[name]
		if !ok {
			t.Errorf("%s is imported but not served", name)
			continue
		}
		b, err := pageFS.ReadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`\bimport\s*\(`).Match(b) {
			t.Errorf("%s has a dynamic import()", name)
		}
		for _, m := range importRE.FindAllStringSubmatch(string(b), -1) {
			spec := m[1] + m[2]
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q, which a browser cannot resolve without a bundler", name, spec)
				continue
			}
			target := path.Join(path.Dir(name), spec)
			if strings.HasPrefix(target, "../") {
				t.Errorf("%s imports %q, outside /h/<id>/", name, spec)
				continue
			}
			todo = append(todo, target)
		}
	}
	if !seen[vendorDir+"/chacha.js"] {
		t.Errorf("seal.mjs does not import %s/chacha.js; it imports %v", vendorDir, seen)
	}
	for name := range pageFiles {
		if strings.HasPrefix(name, vendorDir+"/") && !seen[name] {
			t.Logf("%s is served but not imported", name)
		}
	}
}
