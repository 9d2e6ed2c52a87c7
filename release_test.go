package main

import (
	"bufio"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"enroll/config"
)

// The packages' /etc/default/enroll (release/enroll.default) is a template
// of comments: installed as it is it sets nothing and enroll finds nothing
// wrong in it, each example line taken out of its comment is a setting
// enroll reads without a problem, and every setting enroll reads from the
// file is in it, so the template cannot fall behind config.Settings.
func TestReleaseDefaultsTemplate(t *testing.T) {
	const path = "release/enroll.default"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	values, problems := config.Parse(strings.NewReader(text))
	if len(values) > 0 || len(problems) > 0 {
		t.Errorf("%s as installed sets %v, problems %q; want nothing set", path, values, problems)
	}

	example := regexp.MustCompile(`^# ([A-Za-z_][A-Za-z0-9_]*=\S*)$`)
	var uncommented []string
	for line := range strings.Lines(text) {
		if m := example.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			uncommented = append(uncommented, m[1])
		}
	}
	values, problems = config.Parse(strings.NewReader(strings.Join(uncommented, "\n")))
	if len(problems) > 0 {
		t.Errorf("%s: the example lines, uncommented: %q", path, problems)
	}
	if len(values) != len(uncommented) {
		t.Errorf("%s: %d example lines set %d settings: one is there twice", path, len(uncommented), len(values))
	}
	for _, key := range config.Settings {
		if _, ok := values[key]; ok {
			continue
		}
		// The lower-case proxy variables are named in a comment beside
		// their upper-case ones.
		if key != strings.ToLower(key) || !regexp.MustCompile(`\b`+key+`\b`).MatchString(text) {
			t.Errorf("%s has no example line for %s (config.Settings)", path, key)
		}
	}
}

// release/nfpm.yaml puts each file where the README's Install section says,
// from files that exist, and never owns /var/lib/enroll: a package that
// owned it would remove it, and with it the device's credentials.
func TestReleasePackageContents(t *testing.T) {
	const path = "release/nfpm.yaml"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type content struct{ src, dst, typ, packager string }
	var contents []content
	scripts := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			section, _, _ = strings.Cut(line, ":")
			continue
		}
		key, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		value = strings.TrimSpace(value)
		switch section {
		case "contents":
			if rest, ok := strings.CutPrefix(key, "- "); ok {
				contents = append(contents, content{})
				key = rest
			}
			c := &contents[len(contents)-1]
			switch key {
			case "src":
				c.src = value
			case "dst":
				c.dst = value
			case "type":
				c.typ = value
			case "packager":
				c.packager = value
			}
		case "scripts":
			scripts[key] = value
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, install, _ := strings.Cut(string(readme), "\n## Install\n")
	install, _, _ = strings.Cut(install, "\n## ")
	for _, pkg := range []string{"deb", "rpm"} {
		got := map[string]content{}
		for _, c := range contents {
			if c.packager == "" || c.packager == pkg {
				got[c.dst] = c
			}
		}
		for dst, want := range map[string]string{
			"/usr/bin/enroll": "",
			"/usr/lib/systemd/system/enroll-first-boot.service": "",
			"/etc/default/enroll":                               "config|noreplace",
			"/usr/share/man/man1/":                              "",
			"/usr/share/bash-completion/completions/enroll":     "",
			"/usr/share/zsh/vendor-completions/_enroll":         "",
			"/usr/share/fish/vendor_completions.d/enroll.fish":  "",
			"/usr/share/doc/enroll/LICENSE":                     map[string]string{"deb": "", "rpm": "license"}[pkg],
			"/usr/share/doc/enroll/README.md":                   map[string]string{"deb": "", "rpm": "doc"}[pkg],
		} {
			c, ok := got[dst]
			switch {
			case !ok:
				t.Errorf("%s: the .%s has no %s", path, pkg, dst)
			case c.typ != want:
				t.Errorf("%s: the .%s's %s is type %q, want %q", path, pkg, dst, c.typ, want)
			}
			if !strings.Contains(install, strings.TrimSuffix(strings.TrimPrefix(dst, "/usr/share/doc/enroll/"), "/")) {
				t.Errorf("README's Install section does not name %s", dst)
			}
		}
	}
	for _, c := range contents {
		if strings.HasPrefix(strings.TrimSuffix(c.dst, "/")+"/", "/var/lib/enroll/") {
			t.Errorf("%s: the package must not own %s (removing it would remove the credentials)", path, c.dst)
		}
		if c.src != "" && !strings.Contains(c.src, "$") {
			if _, err := os.Stat(c.src); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
	if want := []string{"postinstall", "postremove", "preremove"}; !slices.Equal(slices.Sorted(maps.Keys(scripts)), want) {
		t.Errorf("%s: scripts %v, want %v", path, scripts, want)
	}
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
	}
}
