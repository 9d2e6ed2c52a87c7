package flow

import (
	"fmt"
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
		return Invitation{}, refuse("the input is longer than %d bytes; an invitation link is far shorter", maxInvitationInput).err()
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
