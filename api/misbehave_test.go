package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api/hostile"
	"enroll/flow"
)

// A service that misbehaves on the raw connection (api/hostile): every
// call ends, classified as what it means. The root package's
// TestHostileService drives the whole binary through many more.

const switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"

// within fails the test if f has not returned after a generous guard: a
// hang must be reported, not waited out by go test's own timeout.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("still waiting: the call is not bounded")
	}
}

func hostileServer(t *testing.T, routes hostile.Routes) *hostile.Server {
	t.Helper()
	s, err := hostile.Start(routes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A 101 answer would hand Go's client the raw connection, beyond every
// timeout and cancellation: it is closed at once. After the accept or the
// decline was written it is "outcome unknown", never "nothing changed".
func TestProtocolSwitchIsClosedAtOnce(t *testing.T) {
	trickle := hostile.Trickle(switching, "x", 50*time.Millisecond)
	s := hostileServer(t, hostile.Routes{
		"PUT " + PathAccept:    trickle,
		"PUT " + PathDecline:   trickle,
		"GET " + PathDiscovery: trickle,
	})
	c, _ := newReal(t, HTTPOptions{})
	within(t, func() {
		_, err := accept(c, s.URL)
		if !errors.Is(err, flow.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "101 Switching Protocols, which enroll cannot use") {
			t.Errorf("accept: %v", err)
		}
		err = c.Decline(context.Background(), flow.DeclineRequest{Server: s.URL, Token: secretToken})
		if !errors.Is(err, flow.ErrOutcomeUnknown) {
			t.Errorf("decline: %v", err)
		}
		_, err = c.DiscoverTokenURL(context.Background(), s.URL)
		if !errors.Is(err, flow.ErrServer) || errors.Is(err, flow.ErrOutcomeUnknown) {
			t.Errorf("discovery: %v", err)
		}
	})
}

// The Client's Timeout bounds a call as a whole, retries and both auth
// styles included, and says so.
func TestCallTimeoutBoundsTheCall(t *testing.T) {
	s := hostileServer(t, hostile.Routes{
		"POST " + PathToken: hostile.Hang(),
		"PUT " + PathAccept: hostile.Trickle("HTTP/1.1 200 OK\r\nX-Slow: ", "a", 20*time.Millisecond),
	})
	hc, err := NewHTTPClient(HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{HTTP: hc, Timeout: 300 * time.Millisecond})
	within(t, func() {
		cr := creds
		_, err := c.Authenticate(context.Background(), s.URL, cr)
		if !errors.Is(err, flow.ErrNetwork) || !strings.Contains(err.Error(), "token: the service did not answer within the time limit (--timeout)") {
			t.Errorf("token: %v", err)
		}
		_, err = accept(c, s.URL)
		if !errors.Is(err, flow.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "no answer came within the time limit") {
			t.Errorf("accept: %v", err)
		}
	})
}

// The defaults of the one HTTP client and of the Client's call bound.
func TestTimeoutDefaults(t *testing.T) {
	hc, err := NewHTTPClient(HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr := hc.Transport.(*guard).base.(*http.Transport)
	if hc.Timeout != 30*time.Second || tr.TLSHandshakeTimeout != 10*time.Second || tr.ResponseHeaderTimeout != 30*time.Second ||
		tr.MaxResponseHeaderBytes != 64<<10 || tr.DialContext == nil || tr.IdleConnTimeout != 90*time.Second {
		t.Errorf("timeout %v, TLS %v, header %v, header bytes %d, idle %v", hc.Timeout, tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.MaxResponseHeaderBytes, tr.IdleConnTimeout)
	}
	// None of the transport's limits is shorter than the caller's time
	// limit but connecting's, which is at most 10 s.
	long, _ := NewHTTPClient(HTTPOptions{Timeout: time.Minute})
	short, _ := NewHTTPClient(HTTPOptions{Timeout: 3 * time.Second})
	if tl := long.Transport.(*guard).base.(*http.Transport); tl.ResponseHeaderTimeout != time.Minute || tl.TLSHandshakeTimeout != 10*time.Second {
		t.Errorf("--timeout 1m: header %v, TLS %v", tl.ResponseHeaderTimeout, tl.TLSHandshakeTimeout)
	}
	if ts := short.Transport.(*guard).base.(*http.Transport); ts.ResponseHeaderTimeout != 3*time.Second || ts.TLSHandshakeTimeout != 3*time.Second {
		t.Errorf("--timeout 3s: header %v, TLS %v", ts.ResponseHeaderTimeout, ts.TLSHandshakeTimeout)
	}
	for _, tc := range []struct {
		o    Options
		want time.Duration
	}{
		{Options{HTTP: hc}, 30 * time.Second},
		{Options{HTTP: &http.Client{Timeout: 5 * time.Second}}, 5 * time.Second},
		{Options{HTTP: &http.Client{}}, 30 * time.Second},
		{Options{HTTP: hc, Timeout: time.Second}, time.Second},
	} {
		if got := New(tc.o).timeout; got != tc.want {
			t.Errorf("timeout %v, want %v", got, tc.want)
		}
	}
}

// An error answer that echoes the request, in the encoding it arrived in,
// shows neither the invitation token nor the client secret: not in the
// error, not in the verbose log.
func TestEchoesAreCutInEveryEncoding(t *testing.T) {
	echo := hostile.Echo(401, ContentTypeJSON, `{"error":"invalid_client","error_description":"body {{body}} auth {{auth}}"}`,
		func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) })
	text := hostile.Echo(500, "text/plain", "body {{body}} auth {{auth}}", func(s string) string { return s })
	s := hostileServer(t, hostile.Routes{"POST " + PathToken: echo, "PUT " + PathAccept: text, "PUT " + PathDecline: echo})
	var mu sync.Mutex
	var logged []string
	hc, _ := NewHTTPClient(HTTPOptions{})
	c := New(Options{HTTP: hc, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, f)
		for _, v := range a {
			if s, ok := v.(string); ok {
				logged = append(logged, s)
			}
		}
	}})
	odd := flow.Credentials{ClientID: "cid 1+2", ClientSecret: `s3cr+t/=&x y~"<>%41`}
	const oddToken = "INVITE+tok/en=0123456789"
	_, tokErr := c.Authenticate(context.Background(), s.URL, odd)
	_, accErr := c.Accept(context.Background(), flow.AcceptRequest{Server: s.URL, Token: oddToken})
	decErr := c.Decline(context.Background(), flow.DeclineRequest{Server: s.URL, Token: oddToken})
	mu.Lock()
	all := strings.Join(append(logged, tokErr.Error(), accErr.Error(), decErr.Error()), "\n")
	mu.Unlock()
	if !strings.Contains(all, "[redacted]") {
		t.Fatalf("nothing was echoed: %s", all)
	}
	for _, sec := range []string{odd.ClientSecret, oddToken} {
		j, _ := json.Marshal(sec)
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec), string(j[1 : len(j)-1]),
			base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(odd.ClientID) + ":" + url.QueryEscape(sec)))} {
			if strings.Contains(all, form) {
				t.Errorf("shown as %q:\n%s", form, all)
			}
		}
	}
}

func TestCheckAnswer(t *testing.T) {
	good := func(mod func(m map[string]any)) []byte {
		m := map[string]any{"id": "dev-1", "clientId": "cid-1", "clientSecret": "s3cret", "name": "lab"}
		mod(m)
		b, _ := json.Marshal(m)
		return b
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string // "" when the answer is taken
	}{
		{"plain", good(func(map[string]any) {}), ""},
		{"id at its limit", good(func(m map[string]any) { m["id"] = strings.Repeat("i", MaxAnswerID) }), ""},
		{"id one over", good(func(m map[string]any) { m["id"] = strings.Repeat("i", MaxAnswerID+1) }), "id is 257 bytes long; enroll stores at most 256"},
		{"clientId one over", good(func(m map[string]any) { m["clientId"] = strings.Repeat("c", MaxAnswerID+1) }), "clientId is 257 bytes"},
		{"secret at its limit", good(func(m map[string]any) { m["clientSecret"] = strings.Repeat("s", MaxAnswerSecret) }), ""},
		{"secret one over", good(func(m map[string]any) { m["clientSecret"] = strings.Repeat("s", MaxAnswerSecret+1) }), "clientSecret is 4097 bytes"},
		{"name at its limit", good(func(m map[string]any) { m["name"] = strings.Repeat("n", MaxAnswerName) }), ""},
		{"name one over", good(func(m map[string]any) { m["name"] = strings.Repeat("n", MaxAnswerName+1) }), "name is 1025 bytes"},
		{"every VSCHAR in the secret", good(func(m map[string]any) { m["clientSecret"] = "a !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~z" }), ""},
		{"no secret (an enrolled device)", good(func(m map[string]any) { delete(m, "clientSecret") }), ""},
		{"a tab in the secret", good(func(m map[string]any) { m["clientSecret"] = "a\tb" }), "clientSecret holds characters"},
		{"DEL in the id", good(func(m map[string]any) { m["id"] = "a\x7fb" }), "id holds characters"},
		{"non-ASCII in the clientId", good(func(m map[string]any) { m["clientId"] = "cïd" }), "clientId holds characters"},
		{"space around the clientId", good(func(m map[string]any) { m["clientId"] = "cid " }), "clientId begins or ends with white space"},
		{"non-ASCII name", good(func(m map[string]any) { m["name"] = "Prüfstand 4 ✓" }), ""},
		{"a surrogate pair in the name", []byte(`{"id":"d","clientId":"c","clientSecret":"s","name":"\ud83d\ude00"}`), ""},
		{"U+FFFD written out in the name", []byte(`{"id":"d","clientId":"c","clientSecret":"s","name":"\ufffd ` + "\uFFFD" + `"}`), ""},
		{"invalid UTF-8 in the name", []byte("{\"id\":\"d\",\"clientId\":\"c\",\"clientSecret\":\"s\",\"name\":\"a\xffb\"}"), "name is not valid UTF-8"},
		{"a lone high surrogate", []byte(`{"id":"d","clientId":"c","clientSecret":"s\ud800"}`), "clientSecret is not valid UTF-8"},
		{"a lone low surrogate", []byte(`{"id":"d","clientId":"c","clientSecret":"\udc00s"}`), "clientSecret is not valid UTF-8"},
		{"a high surrogate before a letter", []byte(`{"id":"d","clientId":"c","client_secret":"\ud83d\u0041"}`), "client_secret is not valid UTF-8"},
		{"reversed surrogates", []byte(`{"id":"d","clientId":"c","clientSecret":"\ude00\ud83d"}`), "clientSecret is not valid UTF-8"},
		{"an escaped backslash before u", []byte(`{"id":"d","clientId":"c","clientSecret":"a\\ud800"}`), ""},
		{"invalid UTF-8 in a field enroll ignores", []byte("{\"id\":\"d\",\"clientId\":\"c\",\"clientSecret\":\"s\",\"note\":\"\xff\"}"), ""},
	} {
		_, err := decodeAccept(tc.raw)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !errors.Is(err, flow.ErrBadResponse) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// An interruption stops the accept call only while nothing can have
// reached the service (connecting, TLS); once a connection carries the
// request, the call waits for its answer, which is returned.
func TestInterruptionStopsOnlyBeforeTheRequestLeaves(t *testing.T) {
	silent, err := hostile.Silent()
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c, _ := newReal(t, HTTPOptions{})
	within(t, func() {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := c.Accept(ctx, flow.AcceptRequest{Server: "https://" + silent.Addr(), Token: secretToken})
		if !errors.Is(err, flow.ErrInterrupted) || errors.Is(err, flow.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "interrupted before the request was sent") {
			t.Errorf("interrupted while connecting: %v", err)
		}
	})
	arrived := make(chan struct{})
	slow := func(hc *hostile.Conn, r *hostile.Request) {
		close(arrived)
		time.Sleep(200 * time.Millisecond)
		hostile.JSON(200, acceptOK)(hc, r)
	}
	s := hostileServer(t, hostile.Routes{"PUT " + PathAccept: slow})
	within(t, func() {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		raw, err := c.Accept(ctx, flow.AcceptRequest{Server: s.URL, Token: secretToken})
		if err != nil || string(raw) != acceptOK {
			t.Errorf("interrupted once the service had it: %q, %v", raw, err)
		}
	})
}
