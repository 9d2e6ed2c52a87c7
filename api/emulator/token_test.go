package emulator

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enroll/api"
)

func basic(id, secret string) string {
	// What golang.org/x/oauth2 sends: RFC 6749 §2.3.1 form-encodes first.
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func TestToken(t *testing.T) {
	grant := url.Values{"grant_type": {"client_credentials"}}
	cases := []struct {
		name    string
		req     func(c Client) rq
		want    int
		code    string
		wwwAuth bool
	}{
		{name: "basic", req: func(c Client) rq { return formRq(grant, basic(c.ClientID, c.ClientSecret)) }, want: 200},
		{name: "form", req: func(c Client) rq { return formRq(clientForm(c), "") }, want: 200},
		{name: "basic wrong secret", req: func(c Client) rq { return formRq(grant, basic(c.ClientID, "nope")) }, want: 401, code: "invalid_client", wwwAuth: true},
		{name: "basic unknown client", req: func(c Client) rq { return formRq(grant, basic("who", c.ClientSecret)) }, want: 401, code: "invalid_client", wwwAuth: true},
		{name: "basic bad escape", req: func(c Client) rq {
			return formRq(grant, "Basic "+base64.StdEncoding.EncodeToString([]byte(c.ClientID+":%zz")))
		}, want: 401, code: "invalid_client", wwwAuth: true},
		{name: "form wrong secret", req: func(c Client) rq {
			v := clientForm(c)
			v.Set("client_secret", c.ClientSecret+"x")
			return formRq(v, "")
		}, want: 401, code: "invalid_client"},
		{name: "no credentials", req: func(Client) rq { return formRq(grant, "") }, want: 401, code: "invalid_client"},
		{name: "credentials in query only", req: func(c Client) rq {
			q := formRq(grant, "")
			q.path += "?" + clientForm(c).Encode()
			return q
		}, want: 401, code: "invalid_client"},
		{name: "basic and form", req: func(c Client) rq { return formRq(clientForm(c), basic(c.ClientID, c.ClientSecret)) }, want: 400, code: "invalid_request"},
		{name: "no grant type", req: func(c Client) rq {
			v := clientForm(c)
			v.Del("grant_type")
			return formRq(v, "")
		}, want: 400, code: "invalid_request"},
		{name: "password grant", req: func(c Client) rq {
			v := clientForm(c)
			v.Set("grant_type", "password")
			return formRq(v, "")
		}, want: 400, code: "unsupported_grant_type"},
		{name: "json body", req: func(c Client) rq {
			return rq{method: "POST", path: api.PathToken, body: `{"grant_type":"client_credentials"}`}
		}, want: 400, code: "invalid_request"},
		{name: "too large", req: func(c Client) rq {
			v := clientForm(c)
			v.Set("pad", strings.Repeat("x", maxBody))
			return formRq(v, "")
		}, want: 400, code: "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newEmu(t)
			c := e.AddClient("dev", GroupLab)
			w := do(t, e, tc.req(c))
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate") != ""; got != tc.wwwAuth {
				t.Errorf("WWW-Authenticate present %v, want %v", got, tc.wwwAuth)
			}
			f := fields(t, w.Body.Bytes())
			if tc.want != 200 {
				if f["error"] != tc.code || f["error_description"] == "" {
					t.Errorf("body %s, want error %q with description", w.Body, tc.code)
				}
				return
			}
			if len(f["access_token"]) != 43 || f["token_type"] != "Bearer" || !strings.Contains(w.Body.String(), `"expires_in":3600`) {
				t.Errorf("token answer %s", w.Body)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("token answer cacheable: %v", w.Header())
			}
			// The token identifies the client to accept.
			inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupKiosks}})
			if w := do(t, e, acceptRq(inv.Token, "", "Bearer "+f["access_token"])); w.Code != 200 || strings.Contains(w.Body.String(), "clientSecret") {
				t.Errorf("accept with the token: %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestTokenWrongMethod(t *testing.T) {
	e, _ := newEmu(t)
	if w := do(t, e, rq{method: "GET", path: api.PathToken}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET token endpoint: %d", w.Code)
	}
	if w := do(t, e, rq{method: "POST", path: api.PathAccept, body: "{}"}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST accept: %d", w.Code)
	}
	if e.Calls(OpToken) != 0 || e.Calls(OpAccept) != 0 {
		t.Errorf("405s were counted")
	}
}

func TestDiscovery(t *testing.T) {
	e, _ := newEmu(t)
	w := do(t, e, rq{method: "GET", path: api.PathDiscovery})
	f := fields(t, w.Body.Bytes())
	if w.Code != 200 || f["issuer"] != "http://example.com/user" || f["token_endpoint"] != "http://example.com"+api.PathToken {
		t.Errorf("discovery %d %s", w.Code, w.Body)
	}
	if e.Calls(OpDiscovery) != 1 {
		t.Errorf("calls %d", e.Calls(OpDiscovery))
	}
	// With SetBaseURL or without, the endpoint is on the origin asked.
	e2 := New(Options{})
	w = do(t, e2, rq{method: "GET", path: api.PathDiscovery})
	if f := fields(t, w.Body.Bytes()); f["token_endpoint"] != "http://example.com"+api.PathToken {
		t.Errorf("derived base: %s", w.Body)
	}
}

func TestLandingPage(t *testing.T) {
	e, _ := newEmu(t)
	inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})
	if want := testBase + "/invitation?token=" + inv.Token; inv.Link != want {
		t.Fatalf("link %q, want %q", inv.Link, want)
	}
	w := do(t, e, rq{method: "GET", path: strings.TrimPrefix(inv.Link, testBase)})
	switch {
	case w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain"):
		t.Errorf("landing %d %v", w.Code, w.Header())
	case !strings.Contains(w.Body.String(), "Open this link on the device with enroll"):
		t.Errorf("landing body %q", w.Body)
	case strings.Contains(w.Body.String(), inv.Token):
		t.Errorf("landing echoes the token")
	case w.Header().Get("Referrer-Policy") != "no-referrer" || w.Header().Get("Cache-Control") != "no-store":
		t.Errorf("landing headers %v", w.Header())
	}
	if st := state(t, e, inv.Token); st.State != StateOpen {
		t.Errorf("opening the link changed the invitation: %q", st.State)
	}
}
