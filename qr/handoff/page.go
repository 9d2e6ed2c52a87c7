package handoff

import (
	"bytes"
	"embed"
	"fmt"
)

// The page is written separately (page/); only the files it is served as are
// embedded, so a missing one fails the build rather than a phone.
//
//go:embed page/index.html page/app.js page/chacha.js page/style.css
var pageFS embed.FS

type asset struct {
	body  []byte
	ctype string
}

// pageFiles maps the name after /h/<id> ("" is the page itself) to its file.
var pageFiles = map[string]struct{ file, ctype string }{
	"":          {"page/index.html", "text/html; charset=utf-8"},
	"app.js":    {"page/app.js", "text/javascript; charset=utf-8"},
	"chacha.js": {"page/chacha.js", "text/javascript; charset=utf-8"},
	"style.css": {"page/style.css", "text/css; charset=utf-8"},
}

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
