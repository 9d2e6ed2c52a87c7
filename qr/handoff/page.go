package handoff

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
)

// The page is written separately (page/); only the files it is served as are
// embedded, so a missing one fails the build rather than a phone. The
// cipher is @noble/ciphers, vendored by vendor.sh into page/vendor/ and
// checked against its manifest by TestVendoredNobleCiphers; all its modules
// are served, at the same relative paths seal.mjs imports them by.
//
//go:embed page/index.html page/app.js page/seal.mjs page/style.css page/vendor/noble-ciphers/*.js
var pageFS embed.FS

type asset struct {
	body  []byte
	ctype string
}

const (
	jsType    = "text/javascript; charset=utf-8"
	vendorDir = "vendor/noble-ciphers" // under page/, and under /h/<id>/
)

// pageFiles maps the name after /h/<id> ("" is the page itself) to its file.
var pageFiles = func() map[string]struct{ file, ctype string } {
	m := map[string]struct{ file, ctype string }{
		"":          {"page/index.html", "text/html; charset=utf-8"},
		"app.js":    {"page/app.js", jsType},
		"seal.mjs":  {"page/seal.mjs", jsType},
		"style.css": {"page/style.css", "text/css; charset=utf-8"},
	}
	vendored, err := fs.Glob(pageFS, "page/"+vendorDir+"/*.js")
	if err != nil || len(vendored) == 0 {
		panic(fmt.Sprintf("handoff: no embedded modules in page/%s: %v", vendorDir, err))
	}
	for _, f := range vendored {
		m[vendorDir+"/"+path.Base(f)] = struct{ file, ctype string }{f, jsType}
	}
	return m
}()

// idPlaceholder is replaced by the id in index.html: a page at /h/<id>
// cannot name /h/<id>/app.js with a relative URL (it would resolve to
// /h/app.js), and base-uri 'none' rules out a <base> element.
const idPlaceholder = "__HANDOFF_ID__"

// loadPage prepares this server's copy of the page. The id is base64url, so
// it needs no escaping in HTML.
func loadPage(id string) (map[string]asset, error) {
	page := make(map[string]asset, len(pageFiles))
	for name, f := range pageFiles {
		b, err := pageFS.ReadFile(f.file)
		if err != nil {
			return nil, fmt.Errorf("handoff: embedded page: %w", err)
		}
		if name == "" {
			b = bytes.ReplaceAll(b, []byte(idPlaceholder), []byte(id))
		}
		page[name] = asset{body: b, ctype: f.ctype}
	}
	return page, nil
}
