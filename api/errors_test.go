package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"enroll/flow"
)

const (
	secretToken  = "INVITE-tok-5f3c9a7e1b"
	secretBearer = "BEARER-at-88a1c0ffee"
)

// bodyShapes are the error answers a service may send; want is the text
// the user must see ("" = status only).
var bodyShapes = []struct {
	name, ctype, body, want string
}{
	{"rfc6749", "application/json", `{"error":"x_code","error_description":"the text"}`, "the text (x_code)"},
	{"code-message", "application/json", `{"code":"x_code","message":"the text"}`, "the text (x_code)"},
	{"camel", "application/json", `{"error":"x_code","errorDescription":"the text"}`, "the text (x_code)"},
	{"error-code-description", "application/json", `{"error":"Gone","code":"x_code","description":"the text"}`, "the text (x_code)"},
	{"error-object", "application/json", `{"error":{"code":"x_code","message":"the text"}}`, "the text (x_code)"},
	{"numeric-code", "application/json", `{"code":4101,"message":"the text"}`, "the text (4101)"},
	{"problem", "application/problem+json", `{"title":"Gone","detail":"the text"}`, "the text"},
	{"json-string", "application/json", `"the text"`, "the text"},
	{"text", "text/plain", "the text\nsecond line", "the text"},
	{"html", "text/html", "<!DOCTYPE html><html><body>the text</body></html>", ""},
	{"empty", "", "", ""},
	{"broken-json", "application/json", `{"error":"x_co`, `{"error":"x_co`},
}

// inviteWant is written out independently of statusKinds: {new device, with bearer}.
var inviteWant = map[int][2]error{
	400: {flow.ErrInvalidInvitation, flow.ErrInvalidInvitation},
	401: {flow.ErrNotForDevice, flow.ErrUnauthorized},
	403: {flow.ErrNotForDevice, flow.ErrUnauthorized},
	404: {flow.ErrInvalidInvitation, flow.ErrInvalidInvitation},
	409: {flow.ErrInvitationUsed, flow.ErrInvitationUsed},
	410: {flow.ErrInvitationExpired, flow.ErrInvitationExpired},
	418: {flow.ErrServer, flow.ErrServer},
	422: {flow.ErrNotForDevice, flow.ErrNotForDevice},
	429: {flow.ErrRateLimited, flow.ErrRateLimited},
	500: {flow.ErrServer, flow.ErrServer},
	// A gateway's 502 or 504 may come after it forwarded the accept.
	502: {flow.ErrOutcomeUnknown, flow.ErrOutcomeUnknown},
	503: {flow.ErrServer, flow.ErrServer},
	504: {flow.ErrOutcomeUnknown, flow.ErrOutcomeUnknown},
}

func TestAcceptStatusTimesBodyShape(t *testing.T) {
	for status, kinds := range inviteWant {
		for i, bearer := range []string{"", secretBearer} {
			for _, shape := range bodyShapes {
				t.Run(fmt.Sprintf("%d/bearer=%v/%s", status, bearer != "", shape.name), func(t *testing.T) {
					e := newStubEnv(t)
					e.reg.Register("PUT", PathAccept, respond(status, shape.body, "Content-Type", shape.ctype))
					raw, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken, Bearer: bearer})
					if raw != nil || !errors.Is(err, kinds[i]) {
						t.Fatalf("got %q, %v; want kind %v", raw, err, kinds[i])
					}
					var se *StatusError
					if !errors.As(err, &se) || se.Status != status {
						t.Fatalf("no StatusError with %d in %v", status, err)
					}
					prefix := fmt.Sprintf("accept: the service answered %d", status)
					msg := err.Error()
					if !strings.HasPrefix(msg, prefix) {
						t.Errorf("%q does not start with %q", msg, prefix)
					}
					if shape.want != "" && !strings.HasSuffix(msg, ": "+shape.want) {
						t.Errorf("%q does not end with %q", msg, shape.want)
					}
					if shape.want == "" && strings.Contains(msg, "the text") {
						t.Errorf("%q shows an HTML page", msg)
					}
					if strings.Contains(msg, "second line") || strings.Contains(msg, secretToken) || strings.Contains(msg, secretBearer) {
						t.Errorf("message leaks: %q", msg)
					}
				})
			}
		}
	}
}

func TestDeclineAndSendStatusMapping(t *testing.T) {
	decline := map[int]error{400: flow.ErrInvalidInvitation, 403: flow.ErrNotForDevice, 409: flow.ErrInvitationUsed,
		410: flow.ErrInvitationExpired, 429: flow.ErrRateLimited, 500: flow.ErrServer, 502: flow.ErrServer, 504: flow.ErrServer}
	for status, want := range decline {
		e := newStubEnv(t)
		e.reg.Register("PUT", PathDecline, jsonResp(status, `{"error":"e","error_description":"d"}`))
		err := e.c.Decline(context.Background(), flow.DeclineRequest{Server: stubServer, Token: secretToken})
		if !errors.Is(err, want) || !strings.HasPrefix(err.Error(), "decline: ") {
			t.Errorf("decline %d: %v, want %v", status, err, want)
		}
	}
	sendWant := map[int]error{400: flow.ErrUsage, 401: flow.ErrUnauthorized, 403: flow.ErrUnauthorized, 404: flow.ErrUsage,
		409: flow.ErrServer, 422: flow.ErrUsage, 429: flow.ErrRateLimited, 500: flow.ErrServer, 502: flow.ErrOutcomeUnknown,
		503: flow.ErrServer, 504: flow.ErrOutcomeUnknown} // a gateway may have forwarded the send
	path := strings.Replace(PathSendTemplate, "{organizationId}", "org1", 1)
	for status, want := range sendWant {
		e := newStubEnv(t)
		e.reg.Register("POST", path, jsonResp(status, `{"code":"bad_group","message":"group g9 does not exist"}`))
		_, err := e.c.SendInvitation(context.Background(), stubServer, secretBearer, "org1", SendBody{GroupIDs: []string{"g9"}})
		if !errors.Is(err, want) || !strings.Contains(err.Error(), "group g9 does not exist") || strings.Contains(err.Error(), secretBearer) {
			t.Errorf("send %d: %v, want %v", status, err, want)
		}
	}
}

// A 3xx to accept, decline or send is not followed (checkRedirect) but
// reported as ErrServer, naming only the scheme and host it pointed to.
func TestRedirectStatusIsServerErrorShowingOnlyTheHost(t *testing.T) {
	sendPath := strings.Replace(PathSendTemplate, "{organizationId}", "o", 1)
	calls := []struct {
		op, method, path string
		call             func(c *Client) error
	}{
		{"accept", "PUT", PathAccept, func(c *Client) error {
			_, err := c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken, Bearer: secretBearer})
			return err
		}},
		{"decline", "PUT", PathDecline, func(c *Client) error {
			return c.Decline(context.Background(), flow.DeclineRequest{Server: stubServer, Token: secretToken})
		}},
		{"send", "POST", sendPath, func(c *Client) error {
			_, err := c.SendInvitation(context.Background(), stubServer, secretBearer, "o", SendBody{})
			return err
		}},
	}
	for _, tc := range []struct {
		status         int
		location, want string
	}{
		{302, "https://sso.example.test/login?token=" + secretToken + "&bearer=" + secretBearer + "#frag", "302 Found, a redirect to https://sso.example.test; check --server"},
		{301, "/moved/elsewhere?x=1", "301 Moved Permanently, a redirect to https://enroll.test; check --server"},
		{307, "https://other.example.test:8443/api/idp/v1/x", "307 Temporary Redirect, a redirect to https://other.example.test:8443; check --server"},
		{308, "https://evil\u202egnp.example.test/", `308 Permanent Redirect, a redirect to https://evil\u202egnp.example.test; check --server`},
		{303, "", "303 See Other, a redirect; check --server"},
		// The whole 3xx range, to its ends, is a redirect.
		{300, "https://a.example.test/x", "300 Multiple Choices, a redirect to https://a.example.test; check --server"},
		{399, "https://a.example.test/x", "399, a redirect to https://a.example.test; check --server"},
		// A Location with a scheme but no host names nowhere.
		{302, "mailto:it@example.test", "302 Found, a redirect; check --server"},
		// net/http cannot parse it; it must not fail the call quoting it.
		{302, "https://sso.example.test/\u001b?token=" + secretToken, "302 Found, a redirect; check --server"},
	} {
		for _, call := range calls {
			t.Run(fmt.Sprintf("%d/%s", tc.status, call.op), func(t *testing.T) {
				e := newStubEnv(t)
				e.reg.Register(call.method, call.path, respond(tc.status, "<html>Sign in "+secretToken+"</html>", "Location", tc.location, "Content-Type", "text/html"))
				err := call.call(e.c)
				var se *StatusError
				if !errors.Is(err, flow.ErrServer) || !errors.As(err, &se) || se.Status != tc.status {
					t.Fatalf("got %v", err)
				}
				if want := call.op + ": the service answered " + tc.want; err.Error() != want {
					t.Errorf("got  %q\nwant %q", err, want)
				}
				if n := len(e.reg.Requests()); n != 1 {
					t.Errorf("%d requests: the redirect was followed", n)
				}
			})
		}
	}
	// A server that puts the token in the host name does not get it shown.
	e := newStubEnv(t)
	e.reg.Register("PUT", PathAccept, respond(302, "", "Location", "https://"+secretToken+".example.test/"))
	_, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken})
	if want := "accept: the service answered 302 Found, a redirect to https://[redacted].example.test; check --server"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestReadErrorBody(t *testing.T) {
	long := strings.Repeat("é", 1000)
	for _, tc := range []struct{ body, code, msg string }{
		{`{"error":"invalid_client","error_description":"Client\nauthentication   failed"}`, "invalid_client", "Client authentication failed"},
		{`{"error":{"error":"inner","errorDescription":"deep"}}`, "inner", "deep"},
		{`{"error":"Invitation expired","code":"E410"}`, "E410", "Invitation expired"},
		{`{"message":"\u001b[31mred\u001b[0m"}`, "", `\x1b[31mred\x1b[0m`},
		{"\xef\xbb\xbf  plain text with \x1b]0;title\x07 in it\r\nmore", "", `plain text with \x1b]0;title\x07 in it`},
		{`<?xml version="1.0"?><error>x</error>`, "", ""},
		{`[1,2]`, "", "[1,2]"},
		{`{"error":null,"code":{"a":1},"message":42}`, "", "42"},
		{`{"message":"` + long + `"}`, "", strings.Repeat("é", maxText-1) + "…"},
		// "error" objects are read two levels deep, no deeper.
		{`{"error":{"error":{"error":{"code":"too-deep","message":"m3"},"message":"m2"}}}`, "", "m2"},
		// The first description or message that says something wins;
		// an empty one later changes nothing, nor does an empty code.
		{`{"error":"e","error_description":"first","description":""}`, "e", "first"},
		{`{"error":"e","error_description":"first","description":"second"}`, "e", "first"},
		{`{"message":"first","detail":""}`, "", "first"},
		{`{"message":"first","detail":"second"}`, "", "first"},
		{`{"error":{"error":"generic","code":"specific"},"code":""}`, "specific", "generic"},
		// Whitespace is folded over the first 8×maxText bytes and 8 KiB
		// more, to the byte; what lies beyond is cut.
		{`{"message":"` + strings.Repeat(" ", 9000) + `tail"}`, "", "tail"},
		{`{"message":"` + strings.Repeat(" ", 8*maxText+8<<10-2) + `ab"}`, "", "ab"},
		{`{"message":"` + strings.Repeat(" ", 20000) + `x"}`, "", "…"},
	} {
		code, msg := readErrorBody([]byte(tc.body))
		if code != tc.code || msg != tc.msg {
			t.Errorf("readErrorBody(%.40q) = %q, %q; want %q, %q", tc.body, code, msg, tc.code, tc.msg)
		}
	}
}

func TestStatusErrorSanitizesServerText(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("PUT", PathAccept, jsonResp(410, `{"error":"gone\u202e","error_description":"\u001b[2Jcleared"}`))
	_, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken})
	msg := err.Error()
	if strings.ContainsRune(msg, 0x1b) || strings.ContainsRune(msg, 0x202e) {
		t.Fatalf("raw control character in %q", msg)
	}
	if !strings.Contains(msg, `\x1b[2Jcleared`) || !strings.Contains(msg, `gone\u202e`) {
		t.Fatalf("escapes missing from %q", msg)
	}
}

func TestServerEchoingSecretsIsRedacted(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("PUT", PathAccept, jsonResp(400, `{"error":"bad","error_description":"token `+secretToken+` is unknown"}`))
	_, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken})
	if strings.Contains(err.Error(), secretToken) || !strings.Contains(err.Error(), "token [redacted] is unknown") {
		t.Fatalf("not redacted: %q", err)
	}
	// Even when the cap cuts the echo short, no prefix of it survives.
	e.reg.Register("PUT", PathAccept, respond(400, strings.Repeat("x", maxText-5)+secretToken))
	_, err = e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken})
	if strings.Contains(err.Error(), secretToken[:5]) {
		t.Fatalf("prefix of token in %q", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {" 12 ", 12 * time.Second}, {"0", 0}, {"-3", 0}, {"soon", 0},
		{"99999999", 99999999 * time.Second}, {"9223372036", 9223372036 * time.Second}, {"9223372037", maxRetryAfter}, {"99999999999999", maxRetryAfter}, {"99999999999999999999999", maxRetryAfter}, {"1.5", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), 72 * time.Hour},
		{"Fri, 31 Dec 9999 23:59:59 GMT", maxRetryAfter},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestWaitWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "1 second", 1500 * time.Millisecond: "2 seconds", 90 * time.Second: "90 seconds",
		time.Minute: "1 minute", 150 * time.Second: "2 minutes", time.Hour: "1 hour", 36 * time.Hour: "36 hours",
		48 * time.Hour: "2 days", 99999999 * time.Second: "3 years", maxRetryAfter: "more than 292 years",
	} {
		if got := WaitWords(d); got != want {
			t.Errorf("WaitWords(%v) = %q, want %q", d, got, want)
		}
	}
}

// A refusal's Retry-After is not shown: waiting does not help, and the
// words would sit beside "ask for a new invitation".
func TestRefusalsSayNothingOfWaiting(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 410, 422} {
		se := newStatusError("accept", acceptNew, status, http.Header{"Retry-After": {"120"}}, nil, []byte(`{"error":"no"}`), time.Now())
		if se.RetryAfter != 0 || strings.Contains(se.Error(), "wait") {
			t.Errorf("%d: %q (RetryAfter %v)", status, se, se.RetryAfter)
		}
	}
	for _, status := range []int{429, 500, 503} {
		se := newStatusError("accept", acceptNew, status, http.Header{"Retry-After": {"120"}}, nil, nil, time.Now())
		if se.RetryAfter != 2*time.Minute || !strings.Contains(se.Error(), "asks to wait 2 minutes") {
			t.Errorf("%d: %q", status, se)
		}
	}
}

func TestAcceptRateLimitedIsNotRetried(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("PUT", PathAccept, jsonResp(429, `{"error":"slow_down"}`, "Retry-After", "30"))
	_, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken})
	var se *StatusError
	if !errors.Is(err, flow.ErrRateLimited) || !errors.As(err, &se) || se.RetryAfter != 30*time.Second {
		t.Fatalf("got %v", err)
	}
	if want := "accept: the service answered 429 Too Many Requests: slow_down; the service asks to wait 30 seconds"; err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
	if len(e.Sleeps()) != 0 {
		t.Fatalf("slept %v", e.Sleeps())
	}
}

func TestCleanCapsRunes(t *testing.T) {
	got := clean(strings.Repeat("\x1b", 5000), maxText)
	if n := utf8.RuneCountInString(got); n > maxText {
		t.Fatalf("%d runes", n)
	}
}
