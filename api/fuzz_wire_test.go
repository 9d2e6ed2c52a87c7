package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"enroll/flow"
)

// Fuzz targets for the rest of what a server sends: the whole of a failed
// answer (status, Retry-After, Location, body), the token endpoint's
// answer, and the discovery document. Their seed corpora are in
// testdata/fuzz/<name>.

// plant puts the secrets where a fuzzed input says $T (the invitation
// token) or $S (the client secret), so the fuzzer need not guess them.
func plant(s string) string {
	return strings.NewReplacer("$T", secretToken, "$S", clientSecret,
		"$F", url.QueryEscape(oddSecret), "$J", jsonInner(oddSecret), "$B", basicOf(oddCreds), "$O", oddSecret).Replace(s)
}

// oddCreds hold a secret that every encoding changes, for the fuzz targets
// that look for it in each (plant: $O as it is, $F form-encoded, $J
// JSON-escaped, $B the Basic credentials).
const oddSecret = `s3cr+t/=&x y~"<>%41`

var oddCreds = flow.Credentials{ClientID: "cid 1+2", ClientSecret: oddSecret}

func jsonInner(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }

func basicOf(c flow.Credentials) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)))
}

// inertText fails unless s is one sanitized line without the secrets.
func inertText(t *testing.T, what, s string, maxRunes int) {
	t.Helper()
	inertWithout(t, what, s, maxRunes, secretToken, clientSecret)
}

// sentAs are the forms in which enroll sends a client's secret: as it is,
// form-encoded, JSON-escaped, and in the Basic credentials.
func sentAs(c flow.Credentials) []string {
	return []string{c.ClientSecret, url.QueryEscape(c.ClientSecret), jsonInner(c.ClientSecret), basicOf(c)}
}

// inertWithout fails unless s is one sanitized line holding none of
// secrets, nor the start of one cut short by a cap.
func inertWithout(t *testing.T, what, s string, maxRunes int, secrets ...string) {
	t.Helper()
	if flow.Sanitize(s) != s {
		t.Fatalf("%s is not inert: %q", what, s)
	}
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Fatalf("%s holds a secret: %q", what, s)
		}
		for n := 4; n < len(sec); n++ { // or the start of one, cut short by a cap
			if strings.Contains(s, sec[:n]+"…") {
				t.Fatalf("%s holds the start of a secret: %q", what, s)
			}
		}
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		t.Fatalf("%s has %d runes", what, n)
	}
}

// FuzzStatusError: whatever a failed answer holds, the message enroll
// prints is one inert, bounded line without the secrets sent, and the wait
// it records is within bounds.
func FuzzStatusError(f *testing.F) {
	f.Add(400, "", "", []byte(`{"error":"invalid_request","error_description":"bad $T"}`))
	f.Add(302, "", "https://login.example/sso?token=$T", []byte("<html>"))
	f.Add(429, "86400", "", []byte(`{"code":"slow_down","message":"wait"}`))
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", "", []byte("busy\x1b[2J\nline two"))
	f.Add(307, "", "//evil\u202e.example/$T", []byte{})
	f.Add(500, "-1", ":%zz", []byte("\xff\xfe"))
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	base, _ := url.Parse("https://idp.example.com/api/idp/v1/client-group-invitations/accept")
	f.Fuzz(func(t *testing.T, status int, retryAfter, location string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("Location", plant(location))
		body = []byte(plant(string(body)))
		for a := audience(0); a < audiences; a++ {
			se := newStatusError("accept", a, status, h, base, body, now, secretToken, clientSecret)
			inertText(t, "the message", se.Error(), 1000)
			if se.RetryAfter < 0 || se.RetryAfter > maxRetryAfter {
				t.Fatalf("RetryAfter %v", se.RetryAfter)
			}
			if se.Kind == nil {
				t.Fatal("no kind")
			}
		}
	})
}

// rtFunc is an http.RoundTripper made of a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answerOf(r *http.Request, status int, contentType string, body []byte) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status), Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
}

// fuzzClient answers discovery with disco and the token endpoint with
// token, through the same guard as the real client (the body cap).
func fuzzClient(disco, token func(*http.Request) *http.Response) *Client {
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		if r.URL.Path == PathDiscovery {
			return disco(r), nil
		}
		return token(r), nil
	})
	hc := &http.Client{Transport: &guard{base: rt}, CheckRedirect: checkRedirect}
	return New(Options{HTTP: hc, MaxAttempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }})
}

// FuzzTokenAnswer: whatever the token endpoint answers, Authenticate
// returns a token that is safe to send back in a header and to print, or
// an inert error that holds no secret.
func FuzzTokenAnswer(f *testing.F) {
	f.Add(200, "application/json", []byte(tokenOK))
	f.Add(200, "application/json", []byte(`{"access_token":"ok\u001b]52;c;x\u0007","token_type":"Bearer"}`))
	f.Add(200, "application/x-www-form-urlencoded", []byte("access_token=a%0D%0AX-Evil:%201&token_type=bearer"))
	f.Add(400, "application/json", []byte(`{"error":"invalid_client","error_description":"secret $S is wrong"}`))
	f.Add(401, "text/plain", []byte("no\u202e"))
	f.Add(503, "application/json", []byte(`{"error":"temporarily_unavailable"}`))
	f.Add(200, "application/json", []byte(`{"access_token":"`+strings.Repeat("a", 5000)+`"}`))
	f.Add(503, "application/json", []byte(`{"error":"temporarily_unavailable","error_description":"`+strings.Repeat("x", 290)+` $T $S"}`))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client","error_description":"form $F json $J basic $B raw $O"}`))
	f.Add(400, "text/plain", []byte(`client_secret=$F&grant_type=client_credentials`))
	f.Add(401, "application/x-www-form-urlencoded", []byte(`error=invalid_client&error_description=$F`))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		body = []byte(plant(string(body)))
		c := fuzzClient(
			func(r *http.Request) *http.Response { return answerOf(r, 404, "", nil) },
			func(r *http.Request) *http.Response { return answerOf(r, status, contentType, body) })
		for _, cr := range []flow.Credentials{creds, oddCreds} {
			authenticate(t, c, cr)
		}
	})
}

// authenticate runs one fuzzed grant and checks its outcome.
func authenticate(t *testing.T, c *Client, cr flow.Credentials) {
	{
		tok, err := c.Authenticate(context.Background(), "https://idp.example.com", cr)
		if err != nil {
			// The token endpoint is sent the client secret, never the
			// invitation: api cuts what it sent out of its own errors, in
			// every form; the machine cuts every secret the run holds out of
			// the failure it shows (an endpoint may echo what it learnt
			// elsewhere).
			inertWithout(t, "the error", flow.SanitizeMax(err.Error(), 2000), 2000, sentAs(cr)...)
			inertWithout(t, "the failure shown", failureShown(t, err, cr), 2000, append(sentAs(cr), secretToken)...)
			return
		}
		if !usableAccessToken(tok) || tok == cr.ClientSecret {
			t.Fatalf("Authenticate returned %q", tok)
		}
	}
}

// failureShown is the text of the failure a run holding the invitation
// and the client secret records when Authenticate fails with err.
func failureShown(t *testing.T, err error, cr flow.Credentials) string {
	const server = "https://idp.example.com"
	stored := cr
	stored.Server = server
	m, _ := flow.Start(flow.Config{Server: server})
	for _, ev := range []flow.Event{
		flow.Loaded{Snapshot: flow.Snapshot{Existing: &stored}}, flow.Next{},
		flow.InvitationEntered{Text: secretToken}, flow.NameDefault{}, flow.AcceptChosen{},
		flow.Prepared{}, flow.EffectFailed{Err: err},
	} {
		m, _ = flow.Step(m, ev)
	}
	if m.State != flow.StateFailed || m.Failure == nil {
		t.Fatalf("the run is in %v, not failed", m.State)
	}
	return m.Failure.Err.Error()
}

// FuzzDiscovery: whatever the discovery document says, the device's secret
// only ever goes to the origin of the server it is enrolled with (scheme,
// host and port), without user information.
func FuzzDiscovery(f *testing.F) {
	for _, s := range []string{
		`{"token_endpoint":"https://idp.example.com/user/oauth20/token"}`,
		`{"token_endpoint":"http://idp.evil.example/token"}`,
		`{"token_endpoint":"https://user:pass@idp.example.com/token"}`,
		`{"token_endpoint":"//idp.example.com/token"}`,
		`{"token_endpoint":"https://idp\u202e.example.com/\u001b[2J"}`,
		`{"token_endpoint":"javascript:alert(1)"}`,
		`{"token_endpoint":12}`, `[]`, `{`, ``,
	} {
		f.Add("https://idp.example.com", []byte(s))
		f.Add("http://127.0.0.1:8080", []byte(s))
	}
	f.Fuzz(func(t *testing.T, server string, doc []byte) {
		base, err := NormalizeServer(server)
		if err != nil {
			return
		}
		c := fuzzClient(
			func(r *http.Request) *http.Response { return answerOf(r, 200, ContentTypeJSON, doc) },
			func(r *http.Request) *http.Response { return answerOf(r, 500, "", nil) })
		ep, err := c.DiscoverTokenURL(context.Background(), base)
		if err != nil {
			inertText(t, "the error", err.Error(), 2000)
			return
		}
		u, perr := url.Parse(ep)
		if perr != nil || u.User != nil || u.Host == "" {
			t.Fatalf("token endpoint %q", ep)
		}
		// Written out here, not with the code's own origin(): scheme,
		// host and port must be the server's, a missing port being the
		// scheme's.
		b, _ := url.Parse(base)
		port := func(u *url.URL) string {
			if p := u.Port(); p != "" {
				return p
			}
			return map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
		}
		if !strings.EqualFold(u.Scheme, b.Scheme) || !strings.EqualFold(u.Hostname(), b.Hostname()) || port(u) != port(b) {
			t.Fatalf("the secret would go to %q, not %q", ep, base)
		}
	})
}
