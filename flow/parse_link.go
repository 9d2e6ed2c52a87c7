package flow

// Reading one link: scheme, authority, host rules and where the token sits.

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseLink reads one link that linkStart found.
func parseLink(link string) (Invitation, *problem) {
	colon := strings.IndexByte(link, ':')
	scheme := asciiLower(link[:colon])
	if isUnsafeScheme(scheme) {
		return Invitation{}, refuse("%s: links are not accepted", scheme)
	}
	rest := strings.TrimPrefix(link[colon+1:], "//")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]
	rest, fragment, _ := strings.Cut(rest, "#")
	path, query, _ := strings.Cut(rest, "?")

	// https://good.example@evil.example/ goes to evil.example.
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		return Invitation{}, refuse("the link hides its real host behind a user name before \"@\"; it goes to %s",
			Sanitize(strings.ToLower(authority[at+1:])))
	}
	web := scheme == "https" || scheme == "http"
	host, bracketed, port, hostProblem := splitHostPort(authority)
	token, source, p := findToken(path, query, fragment)
	if p != nil {
		return Invitation{}, p
	}
	if token == "" {
		// Mail text holds links that are not invitations; saying which
		// one was read helps, but a broken host is not worth showing.
		switch {
		case !web:
			return Invitation{}, &problem{msg: "the app link has no invitation token in it"}
		case hostProblem != nil || host == "":
			return Invitation{}, &problem{msg: "the link has no invitation token in it"}
		}
		return Invitation{}, &problem{msg: fmt.Sprintf("the link to %s has no invitation token in it", Sanitize(host))}
	}
	if hostProblem != nil {
		return Invitation{}, hostProblem
	}
	if p := validateToken(token); p != nil {
		return Invitation{}, p
	}
	if !web {
		return Invitation{Token: token, Source: SourceScheme}, nil
	}
	if host == "" {
		return Invitation{}, refuse("the link has no host")
	}
	if scheme == "http" && !IsLoopback(host) {
		return Invitation{}, refuse("insecure http link to %s; only https is accepted", Sanitize(host))
	}
	origin := scheme + "://" + bracketed
	if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		origin += ":" + port
	}
	return Invitation{Token: token, Source: source, Origin: origin, Host: Sanitize(host)}, nil
}

// splitHostPort checks a link's authority (user info already refused) and
// returns its lower-cased host, the host as an origin spells it (IPv6 in
// brackets), and its port.
func splitHostPort(authority string) (host, bracketed, port string, p *problem) {
	if rest, ok := strings.CutPrefix(authority, "["); ok {
		inner, after, ok := strings.Cut(rest, "]")
		addr, err := netip.ParseAddr(inner)
		if !ok || err != nil || !addr.Is6() || addr.Zone() != "" || (after != "" && after[0] != ':') {
			return "", "", "", refuse("the link's host is not a valid IPv6 address")
		}
		host = addr.String()
		bracketed = "[" + host + "]"
		port = strings.TrimPrefix(after, ":")
	} else {
		host = authority
		if i := strings.LastIndexByte(authority, ':'); i >= 0 {
			host, port = authority[:i], authority[i+1:]
		}
		if p := checkHost(host); p != nil {
			return "", "", "", p
		}
		host = strings.ToLower(host)
		bracketed = host
	}
	if port != "" && !validPort(port) {
		return "", "", "", refuse("the link's port is not a number from 1 to 65535")
	}
	return host, bracketed, port, nil
}

// checkHost allows what host names are made of, internationalized ones
// included: letters, digits, marks, "-", "." and "_". Look-alike letters are
// allowed; the host is shown to the person, who decides.
func checkHost(h string) *problem {
	for i, r := range h {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(h[i:]); size == 1 {
				return refuse("the link's host is not valid UTF-8 (byte %s)", Sanitize(h[i:i+1]))
			}
		}
		if k := charKind(r); k != "" {
			return refuse("the link's host contains %s %s", k, Sanitize(string(r)))
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) && !strings.ContainsRune("-._", r) {
			return refuse("the link's host contains a character that is not allowed: %s", quoteChar(r))
		}
	}
	return nil
}

func validPort(s string) bool {
	if len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n >= 1 && n <= 65535
}

// IsLoopback reports whether host (IPv6 without brackets) names this
// machine without a doubt: the name localhost, or a loopback address in
// the form an address parser reads (127.0.0.1, ::1; no zone, no trailing
// dot, no IPv4-mapped form). Plain http is tolerated only there, where
// nothing crosses a network (the emulator, tests, a local proxy). It is the
// one rule for links, --server and every request.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Zone() == "" && !addr.Is4In6() && addr.IsLoopback()
}

// findToken looks for the token in a link: parameters of the query, then of
// the fragment (single-page apps use "#token=…" and "#/accept?token=…");
// only without parameters the /invitations/<token> path, of the link or of
// the fragment's route. It returns "" when there is none.
func findToken(path, query, fragment string) (string, Source, *problem) {
	route, fragQuery := fragment, ""
	if r, q, ok := strings.Cut(fragment, "?"); ok {
		route, fragQuery = r, q
	} else if strings.Contains(fragment, "=") {
		route, fragQuery = "", fragment
	}
	params := collectParams(nil, query, SourceQuery)
	params = collectParams(params, fragQuery, SourceFragment)
	if len(params) > 0 {
		return pickParam(params)
	}
	if tok, p := pathToken(path); tok != "" || p != nil {
		return tok, SourcePath, p
	}
	tok, p := pathToken(strings.TrimPrefix(route, "!"))
	return tok, SourceFragment, p
}

// tokenParam is one occurrence of a token parameter in a link.
type tokenParam struct {
	rank   int // index in tokenParamNames: lower is more specific
	raw    string
	source Source
}

// tokenParamNames are the parameter names that carry the token, most
// specific first: a link with both token= and code= means token=.
func tokenParamNames() [4]string {
	return [4]string{"token", "invitationToken", "t", "code"}
}

func collectParams(params []tokenParam, query string, source Source) []tokenParam {
	// "&amp;" is how a link copied from a mail's HTML source separates them.
	for _, kv := range strings.Split(strings.ReplaceAll(query, "&amp;", "&"), "&") {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || value == "" {
			continue
		}
		for rank, n := range tokenParamNames() {
			if strings.EqualFold(name, n) {
				params = append(params, tokenParam{rank, value, source})
			}
		}
	}
	return params
}

// pickParam takes the most specific parameter name present and refuses a
// link that gives it two different values: which one the sender meant is
// unknowable, and a crafted link may rely on readers disagreeing.
func pickParam(params []tokenParam) (string, Source, *problem) {
	best := params[0]
	for _, p := range params[1:] {
		if p.rank < best.rank {
			best = p
		}
	}
	name := tokenParamNames()[best.rank]
	token := ""
	for _, p := range params {
		if p.rank != best.rank {
			continue
		}
		v, err := decodeComponent(p.raw)
		if err != nil {
			return "", "", refuse("the link's %q parameter has a broken %%-escape", name)
		}
		if token != "" && v != token {
			return "", "", refuse("the link gives two different values for its %q parameter", name)
		}
		token = v
	}
	return token, best.source, nil
}

// pathToken returns the segment after /invitations/ or /invitation/ when it
// is the last one (a trailing slash allowed).
func pathToken(path string) (string, *problem) {
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	if len(segs) < 2 {
		return "", nil
	}
	prev, last := segs[len(segs)-2], segs[len(segs)-1]
	if last == "" || !(strings.EqualFold(prev, "invitations") || strings.EqualFold(prev, "invitation")) {
		return "", nil
	}
	tok, err := decodeComponent(last)
	if err != nil {
		return "", refuse("the link's path has a broken %%-escape")
	}
	return tok, nil
}

// decodeComponent undoes %-escapes but, unlike query decoding, keeps "+":
// tokens may be base64, and a "+" in a token is never a space.
func decodeComponent(s string) (string, error) {
	return url.PathUnescape(s)
}
