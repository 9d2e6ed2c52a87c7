package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"enroll/flow"
)

const (
	maxText = 300 // runes of server text shown in one message
	maxCode = 100 // runes of a server error code
	// maxErrorBody is how much of a failed answer is read for its message;
	// the text worth showing is at the start.
	maxErrorBody = 64 << 10
	// maxRetryAfter is the longest wait a Duration holds (292 years): a
	// longer Retry-After is recorded as this, and shown as "more than".
	maxRetryAfter = time.Duration(math.MaxInt64)
)

// StatusError is a non-2xx answer. Code and Message are the server's text,
// already sanitized and capped (readErrorBody), so Error can print them as
// they are: sanitizing twice would double the escapes.
type StatusError struct {
	Op      string // accept, decline, send, discovery, token
	Status  int
	Kind    error // a flow sentinel
	Code    string
	Message string
	// RetryAfter is the wait the server asked for, as it asked (read for
	// 429 and 5xx only, where it means "try again later"), 0 if none.
	RetryAfter time.Duration
	// Redirect is, for a 3xx, where it pointed: scheme://host only,
	// sanitized (its path and query may hold anything), "" if unknown.
	Redirect string
}

// statusWords is a status code with its standard name ("503 Service
// Unavailable"), never the server's own reason phrase.
func statusWords(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the service answered %s", e.Op, statusWords(e.Status))
	if e.Status >= 300 && e.Status <= 399 {
		// A redirect's body is a page for browsers; where it leads is
		// what tells the person what went wrong.
		if e.Redirect != "" {
			b.WriteString(", a redirect to " + e.Redirect)
		} else {
			b.WriteString(", a redirect")
		}
		b.WriteString("; check --server")
		return b.String()
	}
	switch {
	case e.Message != "" && e.Code != "" && e.Code != e.Message:
		fmt.Fprintf(&b, ": %s (%s)", e.Message, e.Code)
	case e.Message != "":
		b.WriteString(": " + e.Message)
	case e.Code != "":
		b.WriteString(": " + e.Code)
	}
	if e.RetryAfter > 0 {
		b.WriteString("; the service asks to wait " + WaitWords(e.RetryAfter))
	}
	return b.String()
}

func (e *StatusError) Unwrap() error { return e.Kind }

// audience picks the column of statusKinds: the same status means different
// things to the accept call, the decline call, the administrator's send and
// the token endpoint.
type audience int

const (
	acceptNew    audience = iota // accept without a bearer (new device)
	acceptBearer                 // accept with a bearer (registered device)
	decline                      // decline (never sends a bearer)
	send                         // the administrator's send call
	token                        // discovery and the token endpoint, when no RFC 6749 code decided
	audiences
)

// statusKinds is the one status → kind table (assumed meanings: wire.go).
// A status missing here is ErrServer: other 5xx, and 3xx, which reaches a
// caller only for accept, decline and send (those never follow a redirect,
// see checkRedirect) and means --server names a login page, a portal or
// an old address rather than the service. For a new device a 401/403
// cannot be about its own credentials (it sent none): the service answers
// so when the invitation needs an already registered device. A 502 or 504
// to accept or send comes from a gateway that may have forwarded the
// request, so whether the invitation was used (or created and mailed) is
// not known.
var statusKinds = map[int][audiences]error{
	//   acceptNew, acceptBearer, decline, send, token
	400: {flow.ErrInvalidInvitation, flow.ErrInvalidInvitation, flow.ErrInvalidInvitation, flow.ErrUsage, flow.ErrServer},
	401: {flow.ErrNotForDevice, flow.ErrUnauthorized, flow.ErrNotForDevice, flow.ErrUnauthorized, flow.ErrUnauthorized},
	403: {flow.ErrNotForDevice, flow.ErrUnauthorized, flow.ErrNotForDevice, flow.ErrUnauthorized, flow.ErrUnauthorized},
	404: {flow.ErrInvalidInvitation, flow.ErrInvalidInvitation, flow.ErrInvalidInvitation, flow.ErrUsage, flow.ErrServer},
	409: {flow.ErrInvitationUsed, flow.ErrInvitationUsed, flow.ErrInvitationUsed, flow.ErrServer, flow.ErrServer},
	410: {flow.ErrInvitationExpired, flow.ErrInvitationExpired, flow.ErrInvitationExpired, flow.ErrServer, flow.ErrServer},
	422: {flow.ErrNotForDevice, flow.ErrNotForDevice, flow.ErrNotForDevice, flow.ErrUsage, flow.ErrServer},
	429: {flow.ErrRateLimited, flow.ErrRateLimited, flow.ErrRateLimited, flow.ErrRateLimited, flow.ErrRateLimited},
	502: {flow.ErrOutcomeUnknown, flow.ErrOutcomeUnknown, flow.ErrServer, flow.ErrOutcomeUnknown, flow.ErrServer},
	504: {flow.ErrOutcomeUnknown, flow.ErrOutcomeUnknown, flow.ErrServer, flow.ErrOutcomeUnknown, flow.ErrServer},
}

func kindFor(a audience, status int) error {
	if row, ok := statusKinds[status]; ok {
		return row[a]
	}
	return flow.ErrServer
}

// newStatusError reads a failed answer; base is the URL that was asked
// (for a relative Location), nil if unknown. secrets (the invitation token, the
// client secret) are cut out of the server's text first: a server that
// echoes the request back must not make enroll print them.
func newStatusError(op string, a audience, status int, h http.Header, base *url.URL, body []byte, now time.Time, secrets ...string) *StatusError {
	se := &StatusError{Op: op, Status: status, Kind: kindFor(a, status)}
	if status >= 300 && status <= 399 {
		se.Redirect = flow.Redact(redirectOrigin(h.Get("Location"), base), secrets...)
		return se
	}
	code, msg := readErrorBody(redactBytes(body, secrets), secrets...)
	se.Code, se.Message = flow.Redact(code, secrets...), flow.Redact(msg, secrets...)
	if status == http.StatusTooManyRequests || status >= 500 {
		// Beside a refusal (401, 404, 410, …) a Retry-After would only
		// suggest that waiting helps, which it does not.
		se.RetryAfter = parseRetryAfter(h.Get("Retry-After"), now)
	}
	return se
}

// redirectOrigin is the scheme://host a Location header points to, resolved
// against the request's URL (base, may be nil), sanitized; "" when there is
// none. Path, query and fragment are dropped: a login redirect often
// carries the original request, tokens included, in its query.
func redirectOrigin(loc string, base *url.URL) string {
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme == "" || u.Host == "" {
		return ""
	}
	return flow.SanitizeMax(u.Scheme+"://"+u.Host, maxText)
}

// readErrorBody finds the most specific text in an error answer, in any of
// the shapes listed at ErrorBody. Non-JSON text gives its first line; HTML
// or XML (a proxy's or load balancer's page) gives nothing, so the status
// alone is shown. Both results are sanitized and capped.
func readErrorBody(b []byte, secrets ...string) (code, message string) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) == 0 || b[0] == '<' {
		return "", ""
	}
	switch b[0] {
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			return "", clean(s, maxText, secrets...)
		}
	case '{':
		if json.Valid(b) {
			return pickErrorText(parseErrorBody(b, 0), secrets...)
		}
	}
	line := b
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	return "", clean(string(line), maxText, secrets...)
}

// parseErrorBody fills an ErrorBody from a JSON object; "error" may itself
// be an object in the same shapes (depth-bounded).
func parseErrorBody(b []byte, depth int) ErrorBody {
	var m map[string]json.RawMessage
	var eb ErrorBody
	if json.Unmarshal(b, &m) != nil {
		return eb
	}
	if v, ok := m["error"]; ok {
		if s, ok := jsonText(v); ok {
			eb.Error = s
		} else if depth < 2 {
			inner := parseErrorBody(v, depth+1)
			eb = inner
			if eb.Error == "" {
				eb.Error = inner.Code
			}
		}
	}
	for _, k := range []string{"error_description", "errorDescription", "description"} {
		if s, ok := jsonText(m[k]); ok && s != "" && eb.ErrorDescription == "" {
			eb.ErrorDescription = s
		}
	}
	if s, ok := jsonText(m["code"]); ok && s != "" {
		eb.Code = s
	}
	// RFC 9457 problem details use detail and title; take them last.
	for _, k := range []string{"message", "detail", "title"} {
		if s, ok := jsonText(m[k]); ok && s != "" && eb.Message == "" {
			eb.Message = s
		}
	}
	return eb
}

// jsonText reads a JSON string or number (some APIs send numeric codes).
func jsonText(v json.RawMessage) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// pickErrorText prefers a specific code over a generic "error", and a
// description over a message; an "error" that lost to "code" becomes the
// message if there is no other.
func pickErrorText(eb ErrorBody, secrets ...string) (code, message string) {
	code = eb.Code
	if code == "" {
		code = eb.Error
	}
	message = eb.ErrorDescription
	if message == "" {
		message = eb.Message
	}
	if message == "" && eb.Code != "" && eb.Error != eb.Code {
		message = eb.Error
	}
	return clean(code, maxCode, secrets...), clean(message, maxText, secrets...)
}

// clean cuts secrets out (before anything else changes the text: a
// secret holding two spaces would not survive the folding), folds
// whitespace (multi-line descriptions read as one line), then sanitizes
// and caps. Invalid UTF-8 is kept for Sanitize to escape.
func clean(s string, limit int, secrets ...string) string {
	if n := 8 * limit; len(s) > n { // no need to fold megabytes to keep a few hundred runes
		n += 8 << 10 // room for a secret that straddles the cut, cut whole below
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		if n < len(s) {
			s = s[:n] + "…"
		}
	}
	s = flow.Redact(s, secrets...)
	return flow.SanitizeMax(strings.Join(strings.Fields(s), " "), limit)
}

// parseRetryAfter reads delay-seconds or an HTTP date; bad or past values
// give 0. The wait is kept as asked (up to maxRetryAfter, 292 years); the
// caller decides whether to honour it (MaxRetryAfterSecs, its deadline).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now).Round(time.Second) // Sub saturates: no overflow
	}
	return max(d, 0)
}

// WaitWords says a wait in the largest unit that keeps it readable: "45
// seconds", "3 minutes", "2 days", "3 years".
func WaitWords(d time.Duration) string {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	if d >= maxRetryAfter {
		return "more than 292 years"
	}
	for _, u := range []struct {
		size time.Duration
		name string
	}{{year, "year"}, {day, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}} {
		if d >= 2*u.size || d >= u.size && d%u.size == 0 {
			return plural(int64(d/u.size), u.name)
		}
	}
	return plural(int64((d+time.Second-1)/time.Second), "second")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// redactBytes cuts secrets, in every form, out of an answer before it is
// parsed, so no shape of the answer can carry them into the message.
func redactBytes(b []byte, secrets []string) []byte {
	if r := flow.Redact(string(b), secrets...); r != string(b) {
		return []byte(r)
	}
	return b
}

// kindError carries a sentinel for errors.Is without printing it, so
// messages read as sentences ("refusing insecure http to …") rather than
// "usage: refusing …". cause stays in the chain without being printed
// when printing it could leak bytes from an answer.
type kindError struct {
	kind  error
	msg   string
	cause error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// kindErr builds a kindError. The message is formatted with fmt's verbs;
// pass cause separately to keep it in the chain.
func kindErr(kind, cause error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}
