package emulator

import (
	"slices"
	"strings"
	"testing"
	"time"

	"enroll/api"
)

// acceptCase runs against a fresh emulator holding one registered device
// ("old", in grp-lab) and one invitation to grp-kiosks shaped by spec.
type acceptCase struct {
	name  string
	spec  InvitationSpec
	prep  func(e *Emulator, clk *fakeClock, inv Invitation) // before the call
	req   func(inv Invitation, bearer string) rq            // bearer: the old device's
	want  int
	code  string // "code" (accept's shape) or "error" (401) of the answer
	after State  // the invitation's state afterwards
}

func TestAccept(t *testing.T) {
	plain := func(inv Invitation, _ string) rq { return acceptRq(inv.Token, "", "") }
	named := func(inv Invitation, _ string) rq { return acceptRq(inv.Token, "Lobby kiosk", "") }
	asOld := func(inv Invitation, b string) rq { return acceptRq(inv.Token, "", b) }
	raw := func(body, ctype string) func(Invitation, string) rq {
		return func(inv Invitation, _ string) rq {
			return rq{method: "PUT", path: api.PathAccept, ctype: ctype,
				body: strings.ReplaceAll(body, "TOKEN", inv.Token)}
		}
	}
	cases := []acceptCase{
		{name: "new device", req: plain, want: 200, after: StateAccepted},
		{name: "new device named", req: named, want: 200, after: StateAccepted},
		{name: "unknown fields ignored", req: raw(`{"token":"TOKEN","color":"red","n":1}`, ""), want: 200, after: StateAccepted},
		{name: "existing device", req: asOld, want: 200, after: StateAccepted},
		{name: "existing device renamed", req: func(inv Invitation, b string) rq { return acceptRq(inv.Token, "New name", b) }, want: 200, after: StateAccepted},
		{name: "bearer unknown", req: func(inv Invitation, _ string) rq { return acceptRq(inv.Token, "", "Bearer nope") }, want: 401, code: "invalid_token", after: StateOpen},
		{name: "bearer empty", req: func(inv Invitation, _ string) rq { return acceptRq(inv.Token, "", "Bearer ") }, want: 401, code: "invalid_token", after: StateOpen},
		{name: "not bearer", req: func(inv Invitation, _ string) rq { return acceptRq(inv.Token, "", "Basic eDp5") }, want: 401, code: "invalid_token", after: StateOpen},
		{name: "bearer expired", prep: func(_ *Emulator, c *fakeClock, _ Invitation) { c.Advance(AccessTokenTTL) }, req: asOld, want: 401, code: "invalid_token", after: StateOpen},
		{name: "bearer just valid", prep: func(_ *Emulator, c *fakeClock, _ Invitation) { c.Advance(AccessTokenTTL - time.Second) }, req: asOld, want: 200, after: StateAccepted},
		{name: "unknown token", req: func(Invitation, string) rq { return acceptRq("no-such-token", "", "") }, want: 404, code: "invitation_not_found", after: StateOpen},
		{name: "empty token", req: func(Invitation, string) rq { return acceptRq("", "x", "") }, want: 400, code: "invalid_request", after: StateOpen},
		{name: "malformed body", req: raw(`{"token":`, ""), want: 400, code: "invalid_request", after: StateOpen},
		{name: "trailing data", req: raw(`{"token":"TOKEN"} {}`, ""), want: 400, code: "invalid_request", after: StateOpen},
		{name: "wrong type", req: raw(`{"token":42}`, ""), want: 400, code: "invalid_request", after: StateOpen},
		{name: "not json", req: raw(`token=TOKEN`, api.ContentTypeForm), want: 415, code: "unsupported_media_type", after: StateOpen},
		{name: "too large", req: raw(`{"token":"TOKEN","name":"`+strings.Repeat("x", maxBody)+`"}`, ""), want: 413, code: "body_too_large", after: StateOpen},
		{name: "control char in name", req: func(inv Invitation, _ string) rq { return acceptRq(inv.Token, "a\x1b[2Jb", "") }, want: 400, code: "invalid_name", after: StateOpen},
		{name: "blank name", req: func(inv Invitation, _ string) rq { return acceptRq(inv.Token, "   ", "") }, want: 400, code: "invalid_name", after: StateOpen},
		{name: "name too long", req: func(inv Invitation, _ string) rq {
			return acceptRq(inv.Token, strings.Repeat("é", maxNameRunes+1), "")
		}, want: 400, code: "invalid_name", after: StateOpen},
		{name: "already accepted", prep: acceptFirst, req: plain, want: 409, code: "invitation_used", after: StateAccepted},
		{name: "declined", prep: declineFirst, req: plain, want: 409, code: "invitation_declined", after: StateDeclined},
		{name: "revoked", prep: revokeFirst, req: plain, want: 410, code: "invitation_revoked", after: StateRevoked},
		{name: "expired", spec: InvitationSpec{ValidUntil: t0.Add(-time.Second)}, req: plain, want: 410, code: "invitation_expired", after: StateOpen},
		{name: "valid until now", spec: InvitationSpec{ValidUntil: t0}, req: plain, want: 200, after: StateAccepted},
		{name: "expired by clock", prep: func(_ *Emulator, c *fakeClock, _ Invitation) { c.Advance(DefaultInvitationTTL + time.Second) }, req: plain, want: 410, code: "invitation_expired", after: StateOpen},
		{name: "existing only, new device", spec: InvitationSpec{ExistingClientsOnly: true}, req: plain, want: 422, code: "existing_clients_only", after: StateOpen},
		{name: "existing only, existing device", spec: InvitationSpec{ExistingClientsOnly: true}, req: asOld, want: 200, after: StateAccepted},
		{name: "for another client", spec: InvitationSpec{OnlyClientID: "someone-else"}, req: asOld, want: 422, code: "client_not_allowed", after: StateOpen},
		{name: "for a client, new device", spec: InvitationSpec{OnlyClientID: "someone-else"}, req: plain, want: 422, code: "client_not_allowed", after: StateOpen},
		{name: "for this clientId", spec: InvitationSpec{OnlyClientID: "OLD-CLIENTID"}, req: asOld, want: 200, after: StateAccepted},
		{name: "for this id", spec: InvitationSpec{OnlyClientID: "OLD-ID"}, req: asOld, want: 200, after: StateAccepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runAccept(t, tc) })
	}
}

func acceptFirst(e *Emulator, _ *fakeClock, inv Invitation)  { serve(e, acceptRq(inv.Token, "", "")) }
func declineFirst(e *Emulator, _ *fakeClock, inv Invitation) { serve(e, declineRq(inv.Token)) }
func revokeFirst(e *Emulator, _ *fakeClock, inv Invitation)  { _ = e.Revoke(inv.Token) }

func runAccept(t *testing.T, tc acceptCase) {
	e, clk := newEmu(t)
	old := e.AddClient("old", GroupLab)
	bearer := bearerFor(t, e, old)
	spec := tc.spec
	spec.Groups = []string{GroupKiosks}
	spec.OnlyClientID = strings.NewReplacer("OLD-CLIENTID", old.ClientID, "OLD-ID", old.ID).Replace(spec.OnlyClientID)
	inv := mustCreate(t, e, spec)
	if tc.prep != nil {
		tc.prep(e, clk, inv)
	}
	before := e.Clients()
	q := tc.req(inv, bearer)
	w := do(t, e, q)
	if w.Code != tc.want {
		t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
	}
	if got := state(t, e, inv.Token).State; got != tc.after {
		t.Errorf("state %q, want %q", got, tc.after)
	}
	if tc.want != 200 {
		f := fields(t, w.Body.Bytes())
		if got := f["code"] + f["error"]; got != tc.code {
			t.Errorf("code %q, want %q (%s)", got, tc.code, w.Body)
		}
		if tc.want == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate: %v", w.Header())
		}
		if !slices.EqualFunc(before, e.Clients(), sameClient) {
			t.Errorf("a refused accept changed the clients")
		}
		return
	}
	var got api.ClientBody
	mustJSON(t, w.Body.Bytes(), &got)
	checkAccepted(t, e, inv, old, q, got)
}

// checkAccepted checks a 200 answer against the emulator's model.
func checkAccepted(t *testing.T, e *Emulator, inv Invitation, old Client, q rq, got api.ClientBody) {
	t.Helper()
	clients := e.Clients()
	existing := q.auth != ""
	var stored Client
	for _, c := range clients {
		if c.ID == got.ID {
			stored = c
		}
	}
	switch {
	case stored.ID == "":
		t.Fatalf("answered client %q not stored", got.ID)
	case existing && (got.ID != old.ID || got.ClientSecret != "" || len(clients) != 1):
		t.Errorf("existing device: got %+v, %d clients", got, len(clients))
	case existing && !slices.Equal(stored.Groups, []string{GroupLab, GroupKiosks}):
		t.Errorf("existing device groups %v", stored.Groups)
	case !existing && (got.ClientSecret == "" || got.ClientSecret != stored.ClientSecret || len(clients) != 2):
		t.Errorf("new device: secret %q stored %q, %d clients", got.ClientSecret, stored.ClientSecret, len(clients))
	case !existing && !slices.Equal(stored.Groups, inv.Groups):
		t.Errorf("new device groups %v, want %v", stored.Groups, inv.Groups)
	case got.ClientID != stored.ClientID || got.Name != stored.Name || !slices.Equal(got.Groups, stored.Groups):
		t.Errorf("answer %+v differs from stored %+v", got, stored)
	}
	var body api.AcceptBody
	mustJSON(t, []byte(q.body), &body)
	switch {
	case body.Name != "" && stored.Name != body.Name:
		t.Errorf("name %q, want %q", stored.Name, body.Name)
	case body.Name == "" && existing && stored.Name != "old":
		t.Errorf("existing device renamed to %q without a name", stored.Name)
	case body.Name == "" && !existing && !strings.HasPrefix(stored.Name, "device-"):
		t.Errorf("default name %q", stored.Name)
	}
	if st := state(t, e, inv.Token); st.AcceptedBy != stored.ID {
		t.Errorf("acceptedBy %q, want %q", st.AcceptedBy, stored.ID)
	}
}

func sameClient(a, b Client) bool {
	return a.ID == b.ID && a.Name == b.Name && slices.Equal(a.Groups, b.Groups)
}

func TestDecline(t *testing.T) {
	plain := func(inv Invitation) rq { return declineRq(inv.Token) }
	cases := []struct {
		name  string
		spec  InvitationSpec
		prep  func(*Emulator, *fakeClock, Invitation)
		req   func(Invitation) rq
		want  int
		code  string
		after State
	}{
		{name: "ok", req: plain, want: 204, after: StateDeclined},
		{name: "limited to a client, declined by anyone", spec: InvitationSpec{OnlyClientID: "x", ExistingClientsOnly: true}, req: plain, want: 204, after: StateDeclined},
		{name: "unknown", req: func(Invitation) rq { return declineRq("nope") }, want: 404, code: "invitation_not_found", after: StateOpen},
		{name: "empty token", req: func(Invitation) rq { return declineRq("") }, want: 400, code: "invalid_request", after: StateOpen},
		{name: "malformed", req: func(Invitation) rq { return rq{method: "PUT", path: api.PathDecline, body: "{"} }, want: 400, code: "invalid_request", after: StateOpen},
		{name: "not json", req: func(Invitation) rq { return rq{method: "PUT", path: api.PathDecline, body: "x", ctype: "text/plain"} }, want: 415, code: "unsupported_media_type", after: StateOpen},
		{name: "accepted", prep: acceptFirst, req: plain, want: 409, code: "invitation_used", after: StateAccepted},
		{name: "declined", prep: declineFirst, req: plain, want: 409, code: "invitation_declined", after: StateDeclined},
		{name: "revoked", prep: revokeFirst, req: plain, want: 410, code: "invitation_revoked", after: StateRevoked},
		{name: "expired", spec: InvitationSpec{ValidUntil: t0.Add(-time.Minute)}, req: plain, want: 410, code: "invitation_expired", after: StateOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, clk := newEmu(t)
			spec := tc.spec
			spec.Groups = []string{GroupLab}
			inv := mustCreate(t, e, spec)
			if tc.prep != nil {
				tc.prep(e, clk, inv)
			}
			w := do(t, e, tc.req(inv))
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if got := state(t, e, inv.Token).State; got != tc.after {
				t.Errorf("state %q, want %q", got, tc.after)
			}
			if tc.want == 204 {
				if w.Body.Len() != 0 {
					t.Errorf("204 with body %q", w.Body)
				}
				return
			}
			if f := fields(t, w.Body.Bytes()); f["error"] != tc.code || f["errorDescription"] == "" {
				t.Errorf("body %s, want error %q with errorDescription", w.Body, tc.code)
			}
		})
	}
}
