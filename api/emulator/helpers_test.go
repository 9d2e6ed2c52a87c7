package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api"
)

// t0 is the fake "now" of every test: expiry is driven by the injected
// clock, never by sleeping.
var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	testAdmin = "admin-secret-for-tests"
	testBase  = "https://idp.example.com"
)

func newEmu(t *testing.T) (*Emulator, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: t0}
	e := New(Options{Clock: clk.Now, AdminToken: testAdmin})
	e.SetBaseURL(testBase)
	return e, clk
}

// rq is one request to send through ServeHTTP.
type rq struct {
	method, path, body string
	ctype              string // default application/json when there is a body
	auth               string // the Authorization header, if any
}

func do(t *testing.T, h http.Handler, q rq) *httptest.ResponseRecorder {
	t.Helper()
	return serve(h, q)
}

// serve is do for setup steps that need no *testing.T.
func serve(h http.Handler, q rq) *httptest.ResponseRecorder {
	r := httptest.NewRequest(q.method, q.path, strings.NewReader(q.body))
	if q.ctype == "" && q.body != "" {
		q.ctype = api.ContentTypeJSON
	}
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	if q.auth != "" {
		r.Header.Set("Authorization", q.auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func acceptRq(token, name, auth string) rq {
	b, _ := json.Marshal(api.AcceptBody{Token: token, Name: name})
	return rq{method: "PUT", path: api.PathAccept, body: string(b), auth: auth}
}

func declineRq(token string) rq {
	b, _ := json.Marshal(api.DeclineBody{Token: token})
	return rq{method: "PUT", path: api.PathDecline, body: string(b)}
}

func sendPath(org string) string {
	return strings.Replace(api.PathSendTemplate, "{organizationId}", org, 1)
}

func formRq(v url.Values, auth string) rq {
	return rq{method: "POST", path: api.PathToken, body: v.Encode(), ctype: api.ContentTypeForm, auth: auth}
}

func clientForm(c Client) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
}

// bearerFor gets an access token for c through the token endpoint and
// returns the Authorization header value.
func bearerFor(t *testing.T, e *Emulator, c Client) string {
	t.Helper()
	w := do(t, e, formRq(clientForm(c), ""))
	if w.Code != 200 {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	var v struct {
		AccessToken string `json:"access_token"`
	}
	mustJSON(t, w.Body.Bytes(), &v)
	return "Bearer " + v.AccessToken
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
}

// fields decodes a JSON object into its string-valued fields, which is how
// the tests read error codes of every shape.
func fields(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var raw map[string]any
	mustJSON(t, b, &raw)
	out := map[string]string{}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func mustCreate(t *testing.T, e *Emulator, spec InvitationSpec) Invitation {
	t.Helper()
	inv, err := e.CreateInvitation(spec)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func state(t *testing.T, e *Emulator, token string) InvitationState {
	t.Helper()
	st, ok := e.Invitation(token)
	if !ok {
		t.Fatalf("invitation %q unknown", token)
	}
	return st
}

// listen serves a fresh emulator on loopback for tests that need a real
// connection (drops, delays, concurrency).
func listen(t *testing.T) (*Running, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: t0}
	run, err := Listen("127.0.0.1:0", Options{Clock: clk.Now, AdminToken: testAdmin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run.Close(); err != nil {
			t.Error(err)
		}
	})
	return run, clk
}

// send performs q against a running emulator with a fresh connection, so
// that one test's dropped connection cannot leak into the next request.
func send(t *testing.T, run *Running, q rq) (*http.Response, []byte, error) {
	t.Helper()
	r, err := http.NewRequest(q.method, run.URL+q.path, strings.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	if q.body != "" {
		r.Header.Set("Content-Type", api.ContentTypeJSON)
	}
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	if q.auth != "" {
		r.Header.Set("Authorization", q.auth)
	}
	r.Close = true
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}
