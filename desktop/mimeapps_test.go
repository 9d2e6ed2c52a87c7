package desktop

import (
	"strings"
	"testing"
)

// FuzzMimeapps edits whatever a person's mimeapps.list may hold: the
// result names our handler exactly once in [Default Applications], every
// line that is not the key's is kept byte for byte, and removing the
// handler again leaves no line of ours.
func FuzzMimeapps(f *testing.F) {
	for _, s := range []string{"", "[Default Applications]\n", personal, "[Default Applications]\r\nx-scheme-handler/enroll=a.desktop;enroll-enroll.desktop;\r\n",
		"no newline", "[Default Applications]\nx-scheme-handler/enroll=enroll-enroll.desktop;\nx-scheme-handler/enroll=other.desktop;"} {
		f.Add(s)
	}
	const key, id = "x-scheme-handler/enroll", "enroll-enroll.desktop"
	f.Fuzz(func(t *testing.T, content string) {
		set, _ := setDefault(content, key, id)
		if n := countDefaults(set, key, id); n != 1 {
			t.Fatalf("after setDefault the handler is named %d times:\n%q", n, set)
		}
		for _, l := range strings.SplitAfter(content, "\n") {
			if k, _, ok := iniKey(l); (!ok || k != key) && strings.TrimSpace(l) != "" && !strings.Contains(set, strings.TrimRight(l, "\r\n")) {
				t.Fatalf("line %q was lost:\n%q", l, set)
			}
		}
		removed, _ := removeDefault(set, key, id)
		if n := countDefaults(removed, key, id); n != 0 {
			t.Fatalf("after removeDefault the handler is named %d times:\n%q", n, removed)
		}
	})
}

// countDefaults counts id in the key's lines of [Default Applications].
func countDefaults(content, key, id string) int {
	n, in := 0, false
	for _, l := range strings.SplitAfter(content, "\n") {
		if name, ok := iniSection(l); ok {
			in = name == defaultApps
		} else if k, v, ok := iniKey(l); ok && in && k == key {
			for _, a := range strings.Split(v, ";") {
				if strings.TrimSpace(a) == id {
					n++
				}
			}
		}
	}
	return n
}

const personal = "# my defaults\n[Added Associations]\ntext/plain=gedit.desktop;\n\n[Default Applications]\n" +
	"x-scheme-handler/http = firefox.desktop;\nx-scheme-handler/enroll=old-tool.desktop;\n\n[Removed Associations]\nimage/png=gimp.desktop;"
