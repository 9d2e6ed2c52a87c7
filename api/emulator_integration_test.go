package api_test

// The api client against the real emulator over real loopback HTTP: every
// answer and refusal the emulator can give, mapped to its flow sentinel,
// with no message ever quoting an invitation token, secret or bearer.

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"enroll/api"
	"enroll/api/emulator"
	"enroll/api/emulator/emulatortest"
	"enroll/flow"
)

const adminToken = "admin-token-for-integration-tests"

var kiosks = []string{emulator.GroupKiosks}

type env struct {
	t      *testing.T
	url    string
	em     *emulator.Emulator
	c      *api.Client
	seen   []exchange      // what went over the wire
	now    atomic.Int64    // the emulator's clock, Unix nanoseconds
	sleeps []time.Duration // backoff waits asked for; none is slept
	tokens []string        // invitation tokens and bearers handed out
}

func newEnv(t *testing.T, ho api.HTTPOptions) *env {
	e := &env{t: t}
	e.now.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	run := emulatortest.Start(t, emulator.Options{
		Clock: func() time.Time { return time.Unix(0, e.now.Load()) }, AdminToken: adminToken})
	hc, err := api.NewHTTPClient(ho)
	must(t, err)
	hc.Transport = e.tap(hc.Transport)
	e.url, e.em = run.URL, run.Emulator
	e.c = api.New(api.Options{HTTP: hc, MaxAttempts: 4,
		Sleep: func(_ context.Context, d time.Duration) error { e.sleeps = append(e.sleeps, d); return nil }})
	return e
}

func (e *env) invite(spec emulator.InvitationSpec) string {
	e.t.Helper()
	if spec.Groups == nil {
		spec.Groups = kiosks
	}
	inv, err := e.em.CreateInvitation(spec)
	must(e.t, err)
	e.tokens = append(e.tokens, inv.Token)
	return inv.Token
}

func (e *env) accept(tok, name, bearer string) ([]byte, error) {
	return e.c.Accept(e.t.Context(), flow.AcceptRequest{Server: e.url, Token: tok, Name: name, Bearer: bearer})
}

func (e *env) decline(tok string) error {
	return e.c.Decline(e.t.Context(), flow.DeclineRequest{Server: e.url, Token: tok})
}

func (e *env) auth(c emulator.Client) string {
	e.t.Helper()
	b, err := e.c.Authenticate(e.t.Context(), e.url, flow.Credentials{ClientID: c.ClientID, ClientSecret: c.ClientSecret})
	must(e.t, err)
	e.tokens = append(e.tokens, b)
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// noLeak fails when err's message holds the admin token, any invitation
// token or bearer handed out, any client secret, or any of extra.
func (e *env) noLeak(err error, extra ...string) {
	e.t.Helper()
	if err == nil {
		return
	}
	all := append(append([]string{adminToken}, e.tokens...), extra...)
	for _, c := range e.em.Clients() {
		all = append(all, c.ClientSecret)
	}
	for _, s := range all {
		if s != "" && strings.Contains(err.Error(), s) {
			e.t.Errorf("message leaks a token or secret: %q", err)
			return
		}
	}
}

// exchange is one request as it went out (body read through GetBody, so
// the request itself is untouched) and the status that came back.
type exchange struct {
	path, body string
	status     int
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// tap wraps the client's transport (guard included) to record exchanges.
// RoundTrip runs on the calling goroutine, so no lock is needed.
func (e *env) tap(base http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		x := exchange{path: r.URL.Path}
		if r.GetBody != nil {
			if rc, err := r.GetBody(); err == nil {
				b, _ := io.ReadAll(rc)
				x.body = string(b)
			}
		}
		resp, err := base.RoundTrip(r)
		if err == nil {
			x.status = resp.StatusCode
		}
		e.seen = append(e.seen, x)
		return resp, err
	})
}

func (e *env) last() exchange { return e.seen[len(e.seen)-1] }

func TestEmulatorNewDeviceAccept(t *testing.T) {
	for _, tc := range []struct{ name, sent, want string }{
		{"named", "Press 4", "Press 4"},
		{"unnamed", "", "device-1"}, // the emulator's default name
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, api.HTTPOptions{})
			tok := e.invite(emulator.InvitationSpec{})
			raw, err := e.accept(tok, tc.sent, "")
			must(t, err)
			if body := e.last().body; strings.Contains(body, `"name"`) != (tc.sent != "") {
				t.Errorf("accept body %s: name must be sent only when set", body)
			}
			got, err := e.c.DecodeAccept(raw)
			cl := e.em.Clients()
			if err != nil || len(cl) != 1 {
				t.Fatalf("decode: %v; %d clients", err, len(cl))
			}
			want := flow.Client{ID: cl[0].ID, ClientID: cl[0].ClientID, ClientSecret: cl[0].ClientSecret, Name: tc.want}
			if got != want || got.ClientSecret == "" || !slices.Equal(cl[0].Groups, kiosks) {
				t.Errorf("decoded %+v, emulator has %+v", got, cl[0])
			}
			if st, _ := e.em.Invitation(tok); st.State != emulator.StateAccepted || st.AcceptedBy != got.ID {
				t.Errorf("invitation %s by %q", st.State, st.AcceptedBy)
			}
		})
	}
}

func TestEmulatorExistingDevice(t *testing.T) {
	e := newEnv(t, api.HTTPOptions{})
	dev := e.em.AddClient("kiosk-7", emulator.GroupKiosks)
	bearer := e.auth(dev)
	if x := e.seen; len(x) < 2 || x[0].path != api.PathDiscovery || x[1].path != api.PathToken {
		t.Fatalf("want discovery, then the token endpoint: %+v", x)
	}
	raw, err := e.accept(e.invite(emulator.InvitationSpec{Groups: []string{emulator.GroupLab}}), "", bearer)
	must(t, err)
	got, err := e.c.DecodeAccept(raw)
	if err != nil || got.ClientSecret != "" || got.ID != dev.ID || got.ClientID != dev.ClientID || strings.Contains(string(raw), dev.ClientSecret) {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	if cl := e.em.Clients(); len(cl) != 1 || !slices.Equal(cl[0].Groups, []string{emulator.GroupKiosks, emulator.GroupLab}) {
		t.Errorf("clients %+v", cl)
	}
	wrong := "wrong-secret-0123456789abcdef"
	_, err = e.c.Authenticate(t.Context(), e.url, flow.Credentials{ClientID: dev.ClientID, ClientSecret: wrong})
	if !errors.Is(err, flow.ErrUnauthorized) {
		t.Errorf("wrong secret: %v", err)
	}
	e.noLeak(err, wrong)
}

func TestEmulatorRefusals(t *testing.T) {
	fault := func(f emulator.Fault) func(*env, string) (string, string) {
		return func(e *env, tok string) (string, string) { e.em.FailNext(emulator.OpAccept, f); return tok, "" }
	}
	then := func(f func(*env, string)) func(*env, string) (string, string) {
		return func(e *env, tok string) (string, string) { f(e, tok); return tok, "" }
	}
	long := fault(emulator.Fault{Delay: time.Hour}) // ended by the client's timeout, then by Close
	for _, tc := range []struct {
		name  string
		ho    api.HTTPOptions
		spec  emulator.InvitationSpec
		prep  func(e *env, tok string) (token, bearer string) // after the invitation is made
		want  error
		state emulator.State // afterwards; "" means still open
		acted bool           // the emulator enrolled a client though the device saw an error
	}{
		{name: "unknown token", want: flow.ErrInvalidInvitation,
			prep: func(*env, string) (string, string) { return "no-such-invitation-token-42", "" }},
		{name: "used", want: flow.ErrInvitationUsed, state: emulator.StateAccepted,
			prep: then(func(e *env, tok string) { _, err := e.accept(tok, "", ""); must(e.t, err) })},
		{name: "declined then accept", want: flow.ErrInvitationUsed, state: emulator.StateDeclined,
			prep: then(func(e *env, tok string) { must(e.t, e.decline(tok)) })},
		{name: "expired", want: flow.ErrInvitationExpired,
			prep: then(func(e *env, _ string) { e.now.Add(int64(emulator.DefaultInvitationTTL + time.Second)) })},
		{name: "revoked", want: flow.ErrInvitationExpired, state: emulator.StateRevoked,
			prep: then(func(e *env, tok string) { must(e.t, e.em.Revoke(tok)) })},
		{name: "existing only, new device", spec: emulator.InvitationSpec{ExistingClientsOnly: true}, want: flow.ErrNotForDevice},
		{name: "only another client", want: flow.ErrNotForDevice,
			prep: func(e *env, _ string) (string, string) {
				other := e.em.AddClient("other")
				return e.invite(emulator.InvitationSpec{OnlyClientID: other.ClientID}), e.auth(e.em.AddClient("me"))
			}},
		{name: "down", want: flow.ErrServer, prep: then(func(e *env, _ string) { e.em.SetDown(true) })},
		{name: "429", want: flow.ErrRateLimited,
			prep: fault(emulator.Fault{Status: 429, RetryAfter: "7", Body: `{"code":"slow_down","message":"Too many requests."}`})},
		{name: "500", want: flow.ErrServer, prep: fault(emulator.Fault{Status: 500, Body: "boom"})},
		{name: "400 echoing the token", want: flow.ErrInvalidInvitation,
			prep: func(e *env, tok string) (string, string) {
				return fault(emulator.Fault{Status: 400, Body: `{"code":"bad","message":"token ` + tok + ` is bad"}`})(e, tok)
			}},
		{name: "drop after commit", want: flow.ErrOutcomeUnknown, state: emulator.StateAccepted, acted: true,
			prep: fault(emulator.Fault{DropAfterCommit: true})},
		{name: "drop before commit", want: flow.ErrOutcomeUnknown, prep: fault(emulator.Fault{DropBeforeCommit: true})},
		{name: "delay past Timeout", ho: api.HTTPOptions{Timeout: 100 * time.Millisecond}, want: flow.ErrOutcomeUnknown, prep: long},
		{name: "delay past HeaderTimeout", ho: api.HTTPOptions{HeaderTimeout: 100 * time.Millisecond}, want: flow.ErrOutcomeUnknown, prep: long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.ho)
			tok, bearer := e.invite(tc.spec), ""
			if tc.prep != nil {
				tok, bearer = tc.prep(e, tok)
			}
			calls, clients := e.em.Calls(emulator.OpAccept), len(e.em.Clients())
			raw, err := e.accept(tok, "", bearer)
			if !errors.Is(err, tc.want) || raw != nil {
				t.Fatalf("got %v (%d bytes), want %v", err, len(raw), tc.want)
			}
			e.noLeak(err, tok)
			// A Delay case may time out before the emulator counts the call.
			if n := e.em.Calls(emulator.OpAccept) - calls; n != 1 && tc.ho.Timeout+tc.ho.HeaderTimeout == 0 {
				t.Errorf("accept sent %d times; it is never retried", n)
			}
			if st, ok := e.em.Invitation(tok); ok && st.State != cmp.Or(tc.state, emulator.StateOpen) {
				t.Errorf("invitation %s, want %s", st.State, cmp.Or(tc.state, emulator.StateOpen))
			}
			if n := len(e.em.Clients()) - clients; n != map[bool]int{true: 1}[tc.acted] {
				t.Errorf("%d clients enrolled by this accept", n)
			}
			var se *api.StatusError
			if tc.want == flow.ErrRateLimited && (!errors.As(err, &se) || se.RetryAfter != 7*time.Second) {
				t.Errorf("Retry-After not recorded: %#v", se)
			}
		})
	}
}

func TestEmulatorDecline(t *testing.T) {
	e := newEnv(t, api.HTTPOptions{})
	tok := e.invite(emulator.InvitationSpec{})
	must(t, e.decline(tok))
	if st, _ := e.em.Invitation(tok); st.State != emulator.StateDeclined {
		t.Fatalf("invitation %s after decline", st.State)
	}
	err := e.decline(tok)
	if !errors.Is(err, flow.ErrInvitationUsed) {
		t.Errorf("second decline: %v", err)
	}
	e.noLeak(err)
}

func TestEmulatorTokenRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		warm     bool // an earlier Authenticate learnt the endpoint and the auth style
		failures int
		want     error
		sleeps   int // -1: at least one; until the auth style is known one attempt may take two faults
	}{
		{"fresh client, 2 failures", false, 2, nil, -1},
		{"2 failures", true, 2, nil, 2},
		{"5 failures", true, 5, flow.ErrServer, 3}, // MaxAttempts 4
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, api.HTTPOptions{})
			dev := e.em.AddClient("kiosk")
			if tc.warm {
				e.auth(dev)
			}
			for range tc.failures {
				e.em.FailNext(emulator.OpToken, emulator.Fault{Status: 503, RetryAfter: "2", Body: `{"error":"temporarily_unavailable"}`})
			}
			calls := e.em.Calls(emulator.OpToken)
			b, err := e.c.Authenticate(t.Context(), e.url, flow.Credentials{ClientID: dev.ClientID, ClientSecret: dev.ClientSecret})
			e.noLeak(err)
			if tc.want == nil && (err != nil || b == "") || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %q, %v; want %v", b, err, tc.want)
			}
			if tc.sleeps < 0 {
				if len(e.sleeps) == 0 {
					t.Error("succeeded without a retry")
				}
				return
			}
			if len(e.sleeps) != tc.sleeps || slices.ContainsFunc(e.sleeps, func(d time.Duration) bool { return d != 2*time.Second }) {
				t.Errorf("sleeps %v, want %d of Retry-After's 2s", e.sleeps, tc.sleeps)
			}
			if n := e.em.Calls(emulator.OpToken) - calls; n != tc.sleeps+1 {
				t.Errorf("%d token requests, want %d", n, tc.sleeps+1)
			}
			if tc.want != nil && !strings.Contains(err.Error(), "after 4 attempts") {
				t.Errorf("%q does not say it gave up after MaxAttempts", err)
			}
		})
	}
}

func TestEmulatorSendInvitation(t *testing.T) {
	for _, tc := range []struct {
		name, admin string
		groups      []string
		want        error
	}{
		{"sent", adminToken, kiosks, nil},
		{"wrong admin token", "not-the-admin-token", kiosks, flow.ErrUnauthorized},
		{"unknown group", adminToken, []string{"grp-nope"}, flow.ErrUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, api.HTTPOptions{})
			inv, err := e.c.SendInvitation(t.Context(), e.url, tc.admin, emulator.DefaultOrg,
				api.SendBody{Email: "ops@example.com", GroupIDs: tc.groups})
			e.noLeak(err, tc.admin)
			out := e.em.Outbox()
			if tc.want != nil || err != nil {
				if !errors.Is(err, tc.want) || len(out) != 0 {
					t.Fatalf("got %v (outbox %d), want %v", err, len(out), tc.want)
				}
				return
			}
			if len(out) != 1 || e.last().status != http.StatusCreated {
				t.Fatalf("outbox %d; status %d", len(out), e.last().status)
			}
			p, err := flow.ParseInvitation(inv.Link)
			if err != nil || p.Token != inv.Token || inv.Token != out[0].Token || !slices.Equal(inv.GroupIDs, kiosks) {
				t.Errorf("link parses to %+v (%v); answer %+v; outbox %+v", p, err, inv, out[0])
			}
		})
	}
}
