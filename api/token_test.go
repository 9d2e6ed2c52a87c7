package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"enroll/flow"
)

const clientSecret = "SECRET-cs-0b7e41"

var creds = flow.Credentials{ClientID: "cid-1", ClientSecret: clientSecret}

const tokenOK = `{"access_token":"at-1","token_type":"bearer","expires_in":3600}`

func TestAuthenticateUsesDiscoveredEndpointOnce(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, jsonResp(200, `{"issuer":"x","token_endpoint":"https://ENROLL.test:443/oauth/token"}`))
	e.reg.Register("POST", "/oauth/token", jsonResp(200, tokenOK)).Times(2)
	for range 2 { // the second call must not fetch the document again
		if tok, err := e.c.Authenticate(context.Background(), stubServer, creds); err != nil || tok != "at-1" {
			t.Fatalf("got %q, %v", tok, err)
		}
	}
	reqs := e.reg.Requests()
	if reqs[1].Host != "ENROLL.test:443" {
		t.Errorf("token request went to %q", reqs[1].Host)
	}
	if u, p, ok := (&http.Request{Header: reqs[1].Header}).BasicAuth(); !ok || u != "cid-1" || p != clientSecret {
		t.Errorf("first style is Basic; got %q %v", u, ok)
	}
	if form, _ := url.ParseQuery(string(reqs[1].Body)); form.Get("grant_type") != "client_credentials" {
		t.Errorf("form %q", reqs[1].Body)
	}
}

func TestDiscoveryFallsBackToDefaultPath(t *testing.T) {
	for name, resp := range map[string]responder{
		"404":      jsonResp(404, `{"error":"not_found"}`),
		"403":      jsonResp(403, ``),
		"html":     respond(200, `<html>app shell</html>`, "Content-Type", "text/html"),
		"no-field": jsonResp(200, `{"issuer":"x"}`),
		"relative": jsonResp(200, `{"token_endpoint":"/oauth/token"}`),
		"array":    jsonResp(200, `[]`),
		// A document that does not decode is unusable as a whole, even
		// where a part of it did.
		"half-decoded": jsonResp(200, `{"token_endpoint":"`+stubServer+`/t","token_endpoint":5}`),
	} {
		t.Run(name, func(t *testing.T) {
			e := newStubEnv(t)
			e.reg.Register("GET", PathDiscovery, resp)
			e.reg.Register("POST", PathToken, jsonResp(200, tokenOK))
			if tok, err := e.c.Authenticate(context.Background(), stubServer, creds); err != nil || tok != "at-1" {
				t.Fatalf("got %q, %v", tok, err)
			}
		})
	}
}

// The stored secret goes only to the origin the device is enrolled with:
// another host, port or scheme, or user info, is refused before anything
// is sent there.
func TestDiscoveryRefusesAnotherOrigin(t *testing.T) {
	for _, ep := range []string{
		"http://idp.example/token", "http://127.0.0.1/token", "ftp://idp.example/t", "https://u:p@enroll.test/t",
		"https://idp.enroll.test/oauth/token", "https://enroll.test:8443/token", "http://enroll.test/token",
		"https://enroll.test.evil.example/token", "https://enroll.test@evil.example/token",
	} {
		e := newStubEnv(t)
		e.reg.Register("GET", PathDiscovery, jsonResp(200, `{"token_endpoint":"`+ep+`"}`))
		_, err := e.c.Authenticate(context.Background(), stubServer, creds)
		if !errors.Is(err, flow.ErrEndpointRefused) || !strings.HasPrefix(err.Error(), "discovery: ") {
			t.Errorf("%s: %v", ep, err)
		}
		if n := len(e.reg.Requests()); n != 1 {
			t.Errorf("%s: %d requests, want the discovery alone", ep, n)
		}
	}
	// The emulator case: a loopback server and its own http endpoint.
	if u, err := checkTokenEndpoint("http://127.0.0.1:8080", "http://127.0.0.1:8080/t"); err != nil || u != "http://127.0.0.1:8080/t" {
		t.Errorf("loopback: %q, %v", u, err)
	}
	if _, err := checkTokenEndpoint("http://127.0.0.1:8080", "http://localhost:8080/t"); !errors.Is(err, flow.ErrEndpointRefused) {
		t.Errorf("another loopback name: %v", err)
	}
}

// Discovery is retried on 429 and on any 5xx, from exactly 500 on.
func TestDiscoveryRetriesWithBackoff(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, jsonResp(429, ``))
	e.reg.Register("GET", PathDiscovery, jsonResp(500, ``))
	e.reg.Register("GET", PathDiscovery, jsonResp(200, `{"token_endpoint":"`+stubServer+`/t"}`))
	e.reg.Register("POST", "/t", jsonResp(200, tokenOK))
	if _, err := e.c.Authenticate(context.Background(), stubServer, creds); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{500 * time.Millisecond, time.Second}; !reflect.DeepEqual(e.Sleeps(), want) {
		t.Fatalf("sleeps %v, want %v", e.Sleeps(), want)
	}
}

// AuthStyleAutoDetect: Basic first; when refused, the form; the style
// that worked is kept for the next call.
func TestAuthStyleAutoDetect(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, jsonResp(404, ``))
	basicRefused := func(r *http.Request) (*http.Response, error) {
		if _, _, ok := r.BasicAuth(); !ok {
			t.Errorf("first request without Basic auth")
		}
		return jsonResp(401, `{"error":"invalid_client"}`)(r)
	}
	formAccepted := func(r *http.Request) (*http.Response, error) {
		_ = r.ParseForm()
		if _, _, ok := r.BasicAuth(); ok || r.PostForm.Get("client_id") != "cid-1" || r.PostForm.Get("client_secret") != clientSecret {
			t.Errorf("want form credentials, got %v", r.PostForm)
		}
		return jsonResp(200, tokenOK)(r)
	}
	e.reg.Register("POST", PathToken, basicRefused)
	e.reg.Register("POST", PathToken, formAccepted).Times(2)
	for range 2 {
		if tok, err := e.c.Authenticate(context.Background(), stubServer, creds); err != nil || tok != "at-1" {
			t.Fatalf("got %q, %v", tok, err)
		}
	}
}

func TestTokenErrorMapping(t *testing.T) {
	const ask = "Retry-After"
	for _, tc := range []struct {
		name     string
		resp     responder
		want     error
		attempts int
		sleeps   []time.Duration
		text     string
	}{
		{"invalid_client", jsonResp(401, `{"error":"invalid_client","error_description":"bad secret `+clientSecret+`"}`), flow.ErrUnauthorized, 1, nil,
			"the service refused the client's credentials: token: the service answered 401 Unauthorized: bad secret [redacted] (invalid_client)"},
		{"unauthorized_client-400", jsonResp(400, `{"error":"unauthorized_client"}`), flow.ErrUnauthorized, 1, nil, "refused the client's credentials"},
		{"invalid_grant", jsonResp(400, `{"error":"invalid_grant"}`), flow.ErrUnauthorized, 1, nil, "400 Bad Request: invalid_grant"},
		{"form-encoded", respond(400, `error=invalid_client&error_description=nope`, "Content-Type", "application/x-www-form-urlencoded"), flow.ErrUnauthorized, 1, nil, "400 Bad Request: nope (invalid_client)"},
		{"403-no-code", respond(403, `Forbidden`), flow.ErrUnauthorized, 1, nil, "403 Forbidden"},
		{"invalid_request", jsonResp(400, `{"error":"invalid_request"}`), flow.ErrServer, 1, nil, "400 Bad Request: invalid_request"},
		{"404", jsonResp(404, ``), flow.ErrServer, 1, nil, "404 Not Found"},
		{"503", jsonResp(503, `{"message":"maintenance"}`), flow.ErrServer, 4,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, "maintenance; gave up after 4 attempts"},
		{"429", jsonResp(429, ``, ask, "7"), flow.ErrRateLimited, 4, []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second}, "the service asks to wait 7 seconds; gave up after 4 attempts"},
		// The client's Timeout (30 s here) bounds the call as a whole.
		{"429-past-the-deadline", jsonResp(429, ``, ask, "45"), flow.ErrRateLimited, 1, nil, "the service asks to wait 45 seconds; giving up: the time limit (--timeout) leaves 30 seconds"},
		// A longer wait than enroll honours is not started, and is
		// reported as the service asked it.
		{"429-an-hour", jsonResp(429, ``, ask, "3600"), flow.ErrRateLimited, 1, nil, "the service asks to wait 1 hour; giving up: enroll waits at most 1 minute"},
		{"503-years", jsonResp(503, ``, ask, "99999999"), flow.ErrServer, 1, nil, "503 Service Unavailable; the service asks to wait 3 years; giving up"},
		{"503-date", jsonResp(503, ``, ask, "Fri, 31 Dec 9999 23:59:59 GMT"), flow.ErrServer, 1, nil, "the service asks to wait more than 292 years; giving up"},
		{"network", failBeforeWrite(errors.New("connection reset")), flow.ErrNetwork, 4,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, "connection reset; gave up after 4 attempts"},
		{"garbage-200", jsonResp(200, `{"access_token":`), flow.ErrServer, 1, nil, "no usable access token"},
		{"no-token-200", jsonResp(200, `{"token_type":"bearer"}`), flow.ErrServer, 1, nil, "no usable access token"},
		// The grant is a POST: a redirect is reported, never followed.
		{"redirect", respond(307, ``, "Location", "https://elsewhere.test/t?secret=x"), flow.ErrServer, 1, nil,
			"token: the service answered 307 Temporary Redirect, a redirect to https://elsewhere.test; check --server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStubEnv(t)
			e.reg.Register("GET", PathDiscovery, jsonResp(404, ``))
			// Until a style has worked, each attempt tries Basic, then the form.
			e.reg.Register("POST", PathToken, tc.resp).Times(2 * tc.attempts)
			tok, err := e.c.Authenticate(context.Background(), stubServer, creds)
			if tok != "" || !errors.Is(err, tc.want) {
				t.Fatalf("got %q, %v; want %v", tok, err, tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.text) || strings.Contains(msg, clientSecret) {
				t.Errorf("message %q, want it to contain %q", msg, tc.text)
			}
			if got := e.Sleeps(); !reflect.DeepEqual(got, tc.sleeps) {
				t.Errorf("sleeps %v, want %v", got, tc.sleeps)
			}
		})
	}
}

// The access token is sent back in an Authorization header and printed by
// `enroll token`: anything but RFC 6750 b64token syntax is refused unseen.
func TestUnusableAccessTokenIsRefused(t *testing.T) {
	for _, tok := range []string{
		"at 1", "at\u001b[2Jx", "at\r\nX-Injected: 1", "at\u202e", "é", "at\"1", "a=b", "==", "a,b", strings.Repeat("a", maxAccessToken+1),
	} {
		e := newStubEnv(t)
		e.reg.Register("GET", PathDiscovery, jsonResp(404, ``))
		body, _ := json.Marshal(map[string]string{"access_token": tok, "token_type": "bearer"})
		e.reg.Register("POST", PathToken, jsonResp(200, string(body)))
		got, err := e.c.Authenticate(context.Background(), stubServer, creds)
		if got != "" || !errors.Is(err, flow.ErrServer) || err.Error() != "token: the service returned an unusable access token" {
			t.Errorf("%.20q: got %q, %v", tok, got, err)
		}
		if len(e.Sleeps()) != 0 {
			t.Errorf("%.20q: retried", tok)
		}
	}
	for _, tok := range []string{"a", "AZaz09-._~+/", "abc==", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", strings.Repeat("a", maxAccessToken)} {
		e := newStubEnv(t)
		e.reg.Register("GET", PathDiscovery, jsonResp(404, ``))
		body, _ := json.Marshal(map[string]string{"access_token": tok, "token_type": "bearer"})
		e.reg.Register("POST", PathToken, jsonResp(200, string(body)))
		if got, err := e.c.Authenticate(context.Background(), stubServer, creds); err != nil || got != tok {
			t.Errorf("%.20q: got %.20q, %v", tok, got, err)
		}
	}
}

// hostnameError is a real x509.HostnameError for a certificate whose only
// name holds terminal escapes.
func hostnameError() error {
	cert := &x509.Certificate{
		DNSNames:   []string{"evil\u001b]0;pwned\u0007.example"},
		Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}}}, // a SAN extension
	}
	return &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: cert, Host: "enroll.test"}}
}

// A certificate failure is not retried on discovery nor on the grant.
func TestCertificateErrorsAreNotRetried(t *testing.T) {
	for name, certErr := range map[string]error{
		"unknown-authority": &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
		"hostname":          hostnameError(),
		"expired":           x509.CertificateInvalidError{Reason: x509.Expired, Detail: "it ended"},
		// Any refusal of the certificate chain, not only these three.
		"name-constraints": &tls.CertificateVerificationError{Err: x509.ConstraintViolationError{}},
	} {
		t.Run(name+"/discovery", func(t *testing.T) {
			e := newStubEnv(t)
			e.reg.Register("GET", PathDiscovery, failBeforeWrite(certErr))
			_, err := e.c.Authenticate(context.Background(), stubServer, creds)
			if !errors.Is(err, flow.ErrCertificate) || errors.Is(err, flow.ErrNetwork) || !errors.Is(err, certErr) || len(e.Sleeps()) != 0 {
				t.Fatalf("got %v after sleeps %v", err, e.Sleeps())
			}
		})
		t.Run(name+"/token", func(t *testing.T) {
			e := newStubEnv(t)
			e.reg.Register("GET", PathDiscovery, jsonResp(404, ``))
			e.reg.Register("POST", PathToken, failBeforeWrite(certErr)).Times(2) // Basic, then the form
			_, err := e.c.Authenticate(context.Background(), stubServer, creds)
			if !errors.Is(err, flow.ErrCertificate) || !errors.Is(err, certErr) || !strings.HasPrefix(err.Error(), "token: ") || len(e.Sleeps()) != 0 {
				t.Fatalf("got %v after sleeps %v", err, e.Sleeps())
			}
		})
	}
	// Plain network trouble still is retried.
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, failBeforeWrite(errors.New("connection reset"))).Times(4)
	if _, err := e.c.Authenticate(context.Background(), stubServer, creds); !errors.Is(err, flow.ErrNetwork) || len(e.Sleeps()) != 3 {
		t.Fatalf("got %v after sleeps %v", err, e.Sleeps())
	}
}

// The verbose log carries error texts built from what a server sent (a
// certificate's names, a reset message): they come out escaped.
func TestVerboseLogEscapesServerText(t *testing.T) {
	var log strings.Builder
	reg := newRegistry(t)
	c := New(Options{
		HTTP:        &http.Client{Transport: &guard{base: reg}, CheckRedirect: checkRedirect},
		Logf:        func(f string, a ...any) { log.WriteString(fmt.Sprintf(f, a...) + "\n") },
		Sleep:       func(context.Context, time.Duration) error { return nil },
		MaxAttempts: 2,
	})
	reg.Register("GET", PathDiscovery, failBeforeWrite(errors.New("reset by \u001b[2J\u202epeer")))
	reg.Register("GET", PathDiscovery, failBeforeWrite(hostnameError()))
	if _, err := c.Authenticate(context.Background(), stubServer, creds); !errors.Is(err, flow.ErrCertificate) {
		t.Fatal(err)
	}
	reg.Register("PUT", PathAccept, func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(
			strings.NewReader(`{"id"`), iotest.ErrReader(errors.New("cut by \u001b]8;;https://x\u0007")),
		))}, nil
	})
	if raw, err := c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken}); string(raw) != `{"id"` || !errors.Is(err, flow.ErrBadResponse) {
		t.Fatal(raw, err)
	}
	out := log.String()
	for _, bad := range []string{"\u001b", "\u0007", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("log holds %q raw:\n%s", bad, out)
		}
	}
	for _, want := range []string{
		`GET enroll.test` + PathDiscovery + ` failed after `, `reset by \x1b[2J\u202epeer`,
		`discovery: attempt 1 of 2 failed (discovery: Get "https://enroll.test` + PathDiscovery + `": reset by \x1b[2J\u202epeer); retrying in `,
		`evil\x1b]0;pwned\x07.example`, `accept: answer cut short after 5 bytes: cut by \x1b]8;;https://x\x07`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// Every 5xx is worth another attempt, from exactly 500 on. (An attempt
// is two requests until a style worked: Basic, then the form.)
func TestTokenRetryThenSuccess(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, jsonResp(404, ``))
	e.reg.Register("POST", PathToken, jsonResp(500, ``)).Times(2)
	e.reg.Register("POST", PathToken, jsonResp(200, tokenOK))
	if tok, err := e.c.Authenticate(context.Background(), stubServer, creds); err != nil || tok != "at-1" {
		t.Fatalf("got %q, %v", tok, err)
	}
}

func TestRetryGivesUpBeforeDeadline(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, jsonResp(429, ``, "Retry-After", "30"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := e.c.Authenticate(ctx, stubServer, creds)
	if !errors.Is(err, flow.ErrRateLimited) || len(e.Sleeps()) != 0 {
		t.Fatalf("%v, slept %v", err, e.Sleeps())
	}
}

func TestRetryStopsWhenSleepIsInterrupted(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, jsonResp(503, ``))
	e.c.sleep = func(context.Context, time.Duration) error { return context.Canceled }
	_, err := e.c.DiscoverTokenURL(context.Background(), stubServer)
	if !errors.Is(err, flow.ErrServer) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped waiting") {
		t.Fatal(err)
	}
}

func TestAuthenticateWithoutCredentials(t *testing.T) {
	e := newStubEnv(t)
	if _, err := e.c.Authenticate(context.Background(), stubServer, flow.Credentials{ClientID: "x"}); !errors.Is(err, flow.ErrNotEnrolled) {
		t.Fatal(err)
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	c := New(Options{Rand: func() float64 { return 1 }})
	var got []time.Duration
	for n := 1; n <= 8; n++ {
		got = append(got, c.backoff(n))
	}
	s := time.Second
	if want := []time.Duration{s / 2, s, 2 * s, 4 * s, 8 * s, 8 * s, 8 * s, 8 * s}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	c = New(Options{Rand: func() float64 { return 0 }})
	if got := c.backoff(3); got != s {
		t.Fatalf("low jitter %v", got)
	}
}
