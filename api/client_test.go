package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"enroll/flow"
)

const acceptOK = `{"id":"dc-1","clientId":"cid-1","clientSecret":"SECRET-cs-0b7e41","name":"Press 4","extra":{"x":1}}`

func TestAcceptSendsTokenAndNameAndReturnsRawBytes(t *testing.T) {
	for _, bearer := range []string{"", secretBearer} {
		e := newStubEnv(t)
		e.reg.Register("PUT", PathAccept, jsonResp(201, acceptOK))
		raw, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer + "/", Token: secretToken, Name: "Press 4", Bearer: bearer})
		if err != nil || string(raw) != acceptOK {
			t.Fatalf("got %q, %v", raw, err)
		}
		req := e.reg.Requests()[0]
		var body map[string]any
		if err := json.Unmarshal(req.Body, &body); err != nil || body["token"] != secretToken || body["name"] != "Press 4" || len(body) != 2 {
			t.Errorf("request body %s", req.Body)
		}
		if ct := req.Header.Get("Content-Type"); ct != ContentTypeJSON {
			t.Errorf("Content-Type %q", ct)
		}
		auth, want := req.Header.Get("Authorization"), ""
		if bearer != "" {
			want = "Bearer " + bearer
		}
		if auth != want {
			t.Errorf("Authorization %q, want %q", auth, want)
		}
	}
}

func TestAcceptOmitsEmptyName(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("PUT", PathAccept, jsonResp(200, acceptOK))
	if _, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken}); err != nil {
		t.Fatal(err)
	}
	if got := string(e.reg.Requests()[0].Body); got != `{"token":"`+secretToken+`"}` {
		t.Fatalf("body %s", got)
	}
}

// errReader yields some bytes, then fails: a connection cut mid-answer.
type errReader struct{ data []byte }

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestAcceptReturnsWhatArrivedWhenCutShort(t *testing.T) {
	e := newStubEnv(t)
	part := acceptOK[:30]
	e.reg.Register("PUT", PathAccept, func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(&errReader{[]byte(part)})}, nil
	})
	raw, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken})
	if !errors.Is(err, flow.ErrBadResponse) || err.Error() != "the connection broke after 30 bytes" || string(raw) != part {
		t.Fatalf("got %q, %v", raw, err)
	}
	if _, err := e.c.DecodeAccept(raw); !errors.Is(err, flow.ErrBadResponse) {
		t.Fatalf("decode of a cut answer: %v", err)
	}
}

func TestAcceptOversizedAnswerReturnsTheCap(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("PUT", PathAccept, jsonResp(200, strings.Repeat(" ", 2*MaxBody)))
	raw, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken})
	if !errors.Is(err, flow.ErrBadResponse) || err.Error() != "it is larger than 1 MiB" || len(raw) != MaxBody {
		t.Fatalf("got %d bytes, %v", len(raw), err)
	}
}

func TestTransportFailuresAreNotRetried(t *testing.T) {
	refused := &netOpError{syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name string
		resp responder
		want error
	}{
		{"before-write", failBeforeWrite(refused), flow.ErrNetwork},
		{"after-write", failAfterWrite(io.EOF), flow.ErrOutcomeUnknown},
		{"server-error", jsonResp(503, `{}`), flow.ErrServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStubEnv(t)
			e.reg.Register("PUT", PathAccept, tc.resp)
			e.reg.Register("PUT", PathDecline, tc.resp)
			e.reg.Register("POST", strings.Replace(PathSendTemplate, "{organizationId}", "o", 1), tc.resp)
			ctx := context.Background()
			_, err1 := e.c.Accept(ctx, flow.AcceptRequest{Server: stubServer, Token: secretToken})
			err2 := e.c.Decline(ctx, flow.DeclineRequest{Server: stubServer, Token: secretToken})
			_, err3 := e.c.SendInvitation(ctx, stubServer, secretBearer, "o", SendBody{})
			for _, err := range []error{err1, err2, err3} {
				if !errors.Is(err, tc.want) || strings.Contains(err.Error(), secretToken) {
					t.Errorf("%v, want %v", err, tc.want)
				}
			}
			if tc.name == "before-write" && !errors.Is(err1, syscall.ECONNREFUSED) {
				t.Errorf("cause lost: %v", err1)
			}
			if n := len(e.reg.Requests()); n != 3 {
				t.Errorf("%d requests, want 3 (no retries)", n)
			}
		})
	}
}

type netOpError struct{ err error }

func (e *netOpError) Error() string { return "dial tcp: " + e.err.Error() }
func (e *netOpError) Unwrap() error { return e.err }

func TestDecodeAccept(t *testing.T) {
	const secret = "SECRET-cs-0b7e41"
	c := New(Options{})
	got, err := c.DecodeAccept([]byte(" \n" + acceptOK))
	if err != nil || got != (flow.Client{ID: "dc-1", ClientID: "cid-1", ClientSecret: secret, Name: "Press 4"}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	got, err = c.DecodeAccept([]byte(`{"id":"dc-2","client_id":"cid-2","client_secret":"s2"}`))
	if err != nil || got.ClientID != "cid-2" || got.ClientSecret != "s2" {
		t.Fatalf("aliases: %+v, %v", got, err)
	}
	if got, err = c.DecodeAccept([]byte(`{"id":"dc-3","clientId":"cid-3"}`)); err != nil || got.ClientSecret != "" {
		t.Fatalf("existing device: %+v, %v", got, err)
	}
	for _, tc := range []struct{ raw, want string }{
		{``, "empty"},
		{`[` + acceptOK + `]`, "not a JSON object"},
		{`"` + secret + `"`, "not a JSON object"},
		{`{"id":"dc-1","clientSecret":"` + secret + `"}`, "no clientId"},
		{`{"clientId":"c","clientSecret":"` + secret + `"}`, "no id"},
		{`{"name":"x"}`, "no id and no clientId"},
		{`{"id":" ","clientId":"c"}`, "no id"},
		{`{"id":"d","clientId":"c","clientSecret":"` + secret + `"`, "not valid JSON"},
		{`{"id":"d","clientId":7,"clientSecret":"` + secret + `"}`, "field clientId holds a number"},
		{`{"id":"d","clientId":"c"}` + secret, "not valid JSON (at byte"},
	} {
		_, err := c.DecodeAccept([]byte(tc.raw))
		if !errors.Is(err, flow.ErrBadResponse) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret[:8]) {
			t.Errorf("DecodeAccept(%.30q) = %v, want %q", tc.raw, err, tc.want)
		}
	}
}

func TestSendInvitation(t *testing.T) {
	e := newStubEnv(t)
	path := strings.Replace(PathSendTemplate, "{organizationId}", "org%2F1%20x", 1)
	e.reg.Register("POST", path, jsonResp(201, `{"id":"inv-1","organizationId":"org/1 x","groupIds":["g1"],"token":"t1"}`))
	inv, err := e.c.SendInvitation(context.Background(), stubServer, secretBearer, "org/1 x", SendBody{Email: "a@b.test", GroupIDs: []string{"g1"}})
	if err != nil || inv.ID != "inv-1" || inv.Token != "t1" {
		t.Fatalf("got %+v, %v", inv, err)
	}
	req := e.reg.Requests()[0]
	if req.Header.Get("Authorization") != "Bearer "+secretBearer || !bytes.Contains(req.Body, []byte(`"groupIds":["g1"]`)) {
		t.Errorf("request %+v %s", req.Header, req.Body)
	}
	// A success status without an invitation in its body is a bad answer,
	// however it falls short.
	for name, resp := range map[string]responder{
		"non-JSON":       jsonResp(200, `<html>`),
		"JSON cut short": jsonResp(201, `{"id":"inv-1",`),
		"null":           jsonResp(201, `null`),
		"299":            jsonResp(299, `{"id":"inv-1","token":"t1"}`),
		"a read that fails after the whole object": func(req *http.Request) (*http.Response, error) {
			r, err := jsonResp(201, `{"id":"inv-1","token":"t1"}`)(req)
			r.Body = io.NopCloser(io.MultiReader(r.Body, iotest.ErrReader(io.ErrUnexpectedEOF)))
			return r, err
		},
	} {
		e.reg.Register("POST", path, resp)
		if inv, err := e.c.SendInvitation(context.Background(), stubServer, secretBearer, "org/1 x", SendBody{}); !errors.Is(err, flow.ErrBadResponse) {
			t.Errorf("%s: %+v, %v; want ErrBadResponse", name, inv, err)
		}
	}
	e.reg.Register("POST", path, jsonResp(204, ``))
	if _, err := e.c.SendInvitation(context.Background(), stubServer, secretBearer, "org/1 x", SendBody{}); !errors.Is(err, flow.ErrBadResponse) {
		t.Errorf("204: %v", err)
	}
	for _, args := range [][2]string{{"", secretBearer}, {"o", ""}} {
		if _, err := e.c.SendInvitation(context.Background(), stubServer, args[1], args[0], SendBody{}); !errors.Is(err, flow.ErrUsage) {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// Any 2xx, from 200 to 299, answers an accept (its body is the answer)
// and completes a decline.
func TestEvery2xxIsAnAnswer(t *testing.T) {
	for _, status := range []int{200, 204, 299} {
		e := newStubEnv(t)
		e.reg.Register("PUT", PathAccept, jsonResp(status, acceptOK))
		e.reg.Register("PUT", PathDecline, jsonResp(status, ``))
		if raw, err := e.c.Accept(context.Background(), flow.AcceptRequest{Server: stubServer, Token: secretToken}); err != nil || string(raw) != acceptOK {
			t.Errorf("accept %d: %q, %v", status, raw, err)
		}
		if err := e.c.Decline(context.Background(), flow.DeclineRequest{Server: stubServer, Token: secretToken}); err != nil {
			t.Errorf("decline %d: %v", status, err)
		}
	}
}

// A server that is no https URL is refused as the user's mistake, in
// NormalizeServer's words, before any request: by every call.
func TestBadServerIsUsage(t *testing.T) {
	e := newStubEnv(t)
	const bad = "ftp://x"
	ctx := context.Background()
	for call, f := range map[string]func() error{
		"accept": func() error {
			_, err := e.c.Accept(ctx, flow.AcceptRequest{Server: bad, Token: secretToken})
			return err
		},
		"decline": func() error { return e.c.Decline(ctx, flow.DeclineRequest{Server: bad, Token: secretToken}) },
		"send": func() error {
			_, err := e.c.SendInvitation(ctx, bad, secretBearer, "org1", SendBody{})
			return err
		},
		"discovery": func() error {
			_, err := e.c.DiscoverTokenURL(ctx, bad)
			return err
		},
	} {
		if err := f(); !errors.Is(err, flow.ErrUsage) || !strings.Contains(err.Error(), `--server scheme "ftp" is not supported`) {
			t.Errorf("%s: %v; want NormalizeServer's refusal", call, err)
		}
	}
	if n := len(e.reg.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestVerboseLogShowsNoSecrets(t *testing.T) {
	var log bytes.Buffer
	reg := newRegistry(t)
	c := New(Options{
		HTTP: &http.Client{Transport: &guard{base: reg}},
		Logf: func(f string, a ...any) { log.WriteString(strings.TrimSpace(fmt.Sprintf(f, a...)) + "\n") },
	})
	reg.Register("PUT", PathAccept, jsonResp(200, acceptOK))
	reg.Register("GET", PathDiscovery, jsonResp(404, ``))
	reg.Register("POST", PathToken, jsonResp(200, `{"access_token":"`+secretBearer+`","token_type":"bearer"}`))
	ctx := context.Background()
	if _, err := c.Accept(ctx, flow.AcceptRequest{Server: stubServer, Token: secretToken, Bearer: secretBearer}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(ctx, stubServer, flow.Credentials{ClientID: "cid", ClientSecret: "SECRET-cs-0b7e41"}); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	for _, want := range []string{"PUT enroll.test" + PathAccept + " → 200 OK in ", "POST enroll.test" + PathToken} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{secretToken, secretBearer, "SECRET-cs", "cid-1", "Basic"} {
		if strings.Contains(out, secret) {
			t.Errorf("log leaks %q:\n%s", secret, out)
		}
	}
}
