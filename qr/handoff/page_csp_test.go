package handoff

// The hand-off page checked against its Content-Security-Policy.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPageIsCSPClean checks the page for what the Content-Security-Policy
// (default-src 'none'; script-src 'self'; style-src 'self'; ...) would
// block: inline scripts, inline styles, style attributes, event-handler
// attributes, eval, and anything loaded from elsewhere.
func TestPageIsCSPClean(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("page", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	html := read("index.html")
	htmlNoComments := regexp.MustCompile(`(?s)<!--.*?-->`).ReplaceAllString(html, "")

	for _, bad := range []struct{ re, what string }{
		{`(?i)<style`, "a style element"},
		{`(?i)\sstyle\s*=`, "a style attribute"},
		{`(?i)\son[a-z]+\s*=`, "an event-handler attribute"},
		{`(?i)(src|href)\s*=\s*"(https?:)?//`, "something loaded from elsewhere"},
		{`(?i)(src|href)\s*=\s*"data:`, "a data: URL"},
		{`(?i)=\s*"\s*javascript:`, "a javascript: URL"},
		{`(?i)<img|<iframe|<object|<embed|<base`, "an element the CSP forbids"},
	} {
		if m := regexp.MustCompile(bad.re).FindString(htmlNoComments); m != "" {
			t.Errorf("index.html has %s: %q", bad.what, m)
		}
	}
	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`).FindAllStringSubmatch(htmlNoComments, -1)
	if n := len(regexp.MustCompile(`(?i)<script\b`).FindAllString(htmlNoComments, -1)); n != len(scripts) || n != 2 {
		t.Errorf("index.html has %d script tags (%d closed), want 2", n, len(scripts))
	}
	for _, s := range scripts {
		if !regexp.MustCompile(`\ssrc="[^"]+"`).MatchString(s[1]) || strings.TrimSpace(s[2]) != "" {
			t.Errorf("index.html has an inline script: %q", s[0])
		}
	}
	for _, want := range []string{
		`<title>enroll — hand an invitation to a device</title>`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		// The module first: deferred scripts and modules run in document
		// order, so app.js finds EnrollSeal set (or says it could not load).
		`<script type="module" src="/h/__HANDOFF_ID__/seal.mjs"></script>
<script src="/h/__HANDOFF_ID__/app.js" defer></script>`,
		`<link rel="stylesheet" href="/h/__HANDOFF_ID__/style.css">`,
		`aria-live="polite"`,
		`<label for="link">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	// Every script served, the vendored library included.
	for name, f := range pageFiles {
		if f.ctype != jsType {
			continue
		}
		js := read(strings.TrimPrefix(f.file, "page/"))
		for _, bad := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", ".style.", "setAttribute('style'", "import("} {
			if strings.Contains(js, bad) {
				t.Errorf("%s uses %q", name, bad)
			}
		}
	}
	if css := read("style.css"); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
		t.Error("style.css loads something (url() or @import), which the CSP blocks")
	}
}
