package flow

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what ParseInvitation reads. The input limit is checked before
// any other work, so a hostile paste costs next to nothing.
const (
	maxInvitationInput = 4096
	minTokenLen        = 8
	maxTokenLen        = 2048
)

// ParseInvitation reads the invitation token out of what a person pasted,
// typed or scanned, or a script handed over: the bare token, an https link
// (token in the query or fragment under token, invitationToken, t or code,
// or as the segment after /invitations/), a custom-scheme link
// (<scheme>://accept?token=…), or a mail text that holds such a link. Of
// several links the first one that yields a token wins. Plain http is read
// only from loopback hosts, which is what the emulator and tests serve.
//
// Errors wrap ErrMalformed and never contain the token or the input: only
// the link's host, the problem, and single offending characters escaped.
func ParseInvitation(text string) (Invitation, error) {
	if len(text) > maxInvitationInput {
		return Invitation{}, refuse("the input is too long (%d bytes; at most %d)", len(text), maxInvitationInput).err()
	}
	text = trimInput(text)
	if text == "" {
		return Invitation{}, refuse("the invitation is empty").err()
	}
	links := findLinks(text)
	if len(links) == 0 {
		inv, p := parseBare(text)
		return inv, p.err()
	}
	// Report the first refusal rather than the first "no token here", so
	// that mail text with a harmless link before a bad one explains the bad
	// one.
	var worst *problem
	for _, l := range links {
		inv, p := parseLink(l)
		if p == nil {
			return inv, nil
		}
		if worst == nil || (p.strong && !worst.strong) {
			worst = p
		}
	}
	return Invitation{}, worst.err()
}

// problem is why some input is not an invitation. Its text must never hold
// the token or the input: only a lower-cased host, fixed words and single
// characters escaped by Sanitize.
type problem struct {
	msg    string
	strong bool // a refusal, not merely "this link has no token"
}

func refuse(format string, args ...any) *problem {
	return &problem{msg: fmt.Sprintf(format, args...), strong: true}
}

func (p *problem) err() error {
	if p == nil {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrMalformed, p.msg)
}

// trimInput removes what terminals and scanners wrap around a paste:
// bracketed-paste markers, white space (CR, LF and Tab included), the
// byte-order mark a token file may start with, and a barcode scanner's
// symbology identifier such as "]Q1". None of these can be part of a token.
func trimInput(s string) string {
	s = strings.ReplaceAll(s, "\x1b[200~", "")
	s = strings.ReplaceAll(s, "\x1b[201~", "")
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	if len(s) >= 3 && s[0] == ']' && isASCIILetter(s[1]) && (isASCIILetter(s[2]) || isDigit(s[2])) {
		s = strings.TrimSpace(s[3:])
	}
	return s
}

// findLinks returns the links in text, in order. Links end at white space,
// quotes and brackets, none of which a token can hold, and lose trailing
// sentence punctuation. Control characters do not end a link: a token with
// an escape sequence in it must be refused, not silently cut short.
func findLinks(text string) []string {
	var links []string
	for _, w := range strings.FieldsFunc(text, isLinkBreak) {
		i := linkStart(w)
		if i < 0 {
			continue
		}
		l := w[i:]
		for l != "" {
			c := l[len(l)-1]
			// "]" is kept when it closes an IPv6 host such as [::1].
			if strings.IndexByte(".,;:!?*", c) < 0 && (c != ']' || strings.Count(l, "[") >= strings.Count(l, "]")) {
				break
			}
			l = l[:len(l)-1]
		}
		if linkStart(l) == 0 {
			links = append(links, l)
		}
	}
	return links
}

func isLinkBreak(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', '<', '>', '"', '\'', '`', '(', ')', '{', '}', '“', '”', '‘', '’', '«', '»':
		return true
	}
	return r >= utf8.RuneSelf && unicode.IsSpace(r)
}

// linkStart returns where the first link in the word w begins, or -1. A
// link is "scheme://…", or one of the unsafe schemes that need no "//"
// ("javascript:alert(1)"), so that those are refused rather than read as a
// token.
func linkStart(w string) int {
	if strings.IndexByte(w, ':') < 0 { // most words of a mail
		return -1
	}
	start := -1
	if i := strings.Index(w, "://"); i > 0 {
		j := i
		for j > 0 && isSchemeChar(w[j-1]) {
			j--
		}
		for j < i && !isASCIILetter(w[j]) { // a scheme begins with a letter
			j++
		}
		if j < i {
			// Text glued in front of an http(s) link, as a scanner's
			// prefix can be, is not part of its scheme.
			scheme := asciiLower(w[j:i])
			if strings.HasSuffix(scheme, "https") {
				j = i - len("https")
			} else if strings.HasSuffix(scheme, "http") {
				j = i - len("http")
			}
			start = j
		}
	}
	lw := asciiLower(w)
	for _, s := range unsafeSchemes() {
		for off := 0; ; {
			k := strings.Index(lw[off:], s)
			if k < 0 {
				break
			}
			k += off
			off = k + 1
			// A word that is only "data:" is prose, not a link.
			if (k == 0 || !isSchemeChar(lw[k-1])) && k+len(s) < len(lw) {
				if start < 0 || k < start {
					start = k
				}
				break
			}
		}
	}
	return start
}

// unsafeSchemes are the schemes, colon included, whose links run code or
// read local data in a browser; a link with one is never an invitation.
func unsafeSchemes() [6]string {
	return [6]string{"javascript:", "vbscript:", "data:", "file:", "blob:", "filesystem:"}
}

func isUnsafeScheme(scheme string) bool {
	for _, u := range unsafeSchemes() {
		if scheme+":" == u {
			return true
		}
	}
	return false
}

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
	if scheme == "http" && !isLoopback(host) {
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

// isLoopback reports whether host (lower-cased, IPv6 without brackets) is
// this machine, the only place plain http is acceptable.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Zone() == "" && addr.IsLoopback()
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

// parseBare reads text that holds no link: the token alone, maybe in quotes
// or angle brackets, or just the query part of a link ("token=…").
func parseBare(text string) (Invitation, *problem) {
	s := unwrapQuotes(text)
	if q := strings.TrimLeft(s, "?#&"); strings.Contains(q, "=") {
		name, _, _ := strings.Cut(q, "=")
		for _, n := range tokenParamNames() {
			if strings.EqualFold(name, n) {
				return parseBareQuery(q)
			}
		}
	}
	if p := validateToken(s); p != nil {
		return Invitation{}, p
	}
	return Invitation{Token: s, Source: SourceToken}, nil
}

func parseBareQuery(q string) (Invitation, *problem) {
	params := collectParams(nil, q, SourceQuery)
	if len(params) == 0 {
		return Invitation{}, refuse("the text has no invitation token in it")
	}
	tok, _, p := pickParam(params)
	if p == nil {
		p = validateToken(tok)
	}
	if p != nil {
		return Invitation{}, p
	}
	return Invitation{Token: tok, Source: SourceQuery}, nil
}

func unwrapQuotes(s string) string {
	pairs := [...][2]string{{`"`, `"`}, {`'`, `'`}, {"`", "`"}, {"<", ">"}, {"“", "”"}, {"‘", "’"}, {"«", "»"}}
	for again := true; again; {
		again = false
		for _, q := range pairs {
			if len(s) >= len(q[0])+len(q[1]) && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) {
				s = strings.TrimSpace(s[len(q[0]) : len(s)-len(q[1])])
				again = true
			}
		}
	}
	return s
}

// validateToken checks a token candidate against the token alphabet
// (base64, base64url and JWT-like tokens) and length. Characters that hide
// or rewrite text are named first: they suggest tampering, not a typo.
func validateToken(tok string) *problem {
	if !utf8.ValidString(tok) {
		for i, r := range tok {
			if _, size := utf8.DecodeRuneInString(tok[i:]); r == utf8.RuneError && size == 1 {
				return refuse("the token is not valid UTF-8 (byte %s)", Sanitize(tok[i:i+1]))
			}
		}
	}
	var bad []string
	for _, r := range tok {
		if k := charKind(r); k != "" {
			return refuse("the token contains %s %s", k, Sanitize(string(r)))
		}
		if !isTokenChar(r) && len(bad) < 5 {
			if q := quoteChar(r); !containsString(bad, q) {
				bad = append(bad, q)
			}
		}
	}
	if len(bad) > 0 {
		return refuse("the token contains characters that are not allowed: %s (only letters, digits and . _ ~ + / = - are)", strings.Join(bad, ", "))
	}
	if len(tok) < minTokenLen {
		return refuse("the token is too short (%d characters; at least %d)", len(tok), minTokenLen)
	}
	if len(tok) > maxTokenLen {
		return refuse("the token is too long (%d characters; at most %d)", len(tok), maxTokenLen)
	}
	return nil
}

func isTokenChar(r rune) bool {
	return r < utf8.RuneSelf && (isASCIILetter(byte(r)) || isDigit(byte(r)) || strings.ContainsRune("._~+/=-", r))
}

// charKind names a character that must not be in a token, a host or a
// device name because it is invisible or changes how a terminal shows the
// text around it, or returns "" for any other character.
func charKind(r rune) string {
	switch {
	case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
		return "a line break"
	case r == '\t':
		return "a tab"
	case unicode.IsControl(r):
		return "a control character"
	case isBidiControl(r):
		return "a text-direction character"
	case unicode.Is(unicode.Cf, r):
		return "an invisible character"
	}
	return ""
}

// isBidiControl reports the bidirectional formatting characters, which can
// make text display in a different order than it is stored.
func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// quoteChar shows one character in a message: escaped, in double quotes.
func quoteChar(r rune) string {
	return `"` + strings.ReplaceAll(Sanitize(string(r)), `"`, `\"`) + `"`
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func isSchemeChar(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.'
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
