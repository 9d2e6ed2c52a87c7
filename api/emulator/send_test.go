package emulator

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"enroll/api"
)

func sendRq(org string, b api.SendBody, auth string) rq {
	j, _ := json.Marshal(b)
	return rq{method: "POST", path: sendPath(org), body: string(j), auth: auth}
}

func TestSend(t *testing.T) {
	admin := "Bearer " + testAdmin
	good := api.SendBody{Email: "ops@example.com", Language: "en", GroupIDs: []string{GroupKiosks}}
	with := func(f func(*api.SendBody)) api.SendBody { b := good; f(&b); return b }
	cases := []struct {
		name string
		req  rq
		want int
		code string
	}{
		{"ok", sendRq(DefaultOrg, good, admin), 201, ""},
		{"ok restricted", sendRq(DefaultOrg, with(func(b *api.SendBody) {
			b.ExistingClientsOnly, b.ClientID, b.ValidUntil = true, "c-1", "2026-02-01T00:00:00Z"
		}), admin), 201, ""},
		{"no auth", sendRq(DefaultOrg, good, ""), 401, "unauthorized"},
		{"wrong admin token", sendRq(DefaultOrg, good, "Bearer nope"), 403, "forbidden"},
		{"basic auth", sendRq(DefaultOrg, good, "Basic "+testAdmin), 403, "forbidden"},
		{"unknown org", sendRq("org-x", good, admin), 404, "organization_not_found"},
		{"unknown group", sendRq(DefaultOrg, with(func(b *api.SendBody) { b.GroupIDs = []string{GroupLab, "grp-x"} }), admin), 400, "unknown_group"},
		{"no groups", sendRq(DefaultOrg, with(func(b *api.SendBody) { b.GroupIDs = nil }), admin), 400, "missing_groups"},
		{"bad validUntil", sendRq(DefaultOrg, with(func(b *api.SendBody) { b.ValidUntil = "tomorrow" }), admin), 400, "invalid_valid_until"},
		{"past validUntil", sendRq(DefaultOrg, with(func(b *api.SendBody) { b.ValidUntil = "2026-01-15T09:59:59Z" }), admin), 400, "invalid_valid_until"},
		{"malformed", rq{method: "POST", path: sendPath(DefaultOrg), body: "[", auth: admin}, 400, "invalid_request"},
		{"not json", rq{method: "POST", path: sendPath(DefaultOrg), body: "a=b", ctype: api.ContentTypeForm, auth: admin}, 415, "unsupported_media_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newEmu(t)
			w := do(t, e, tc.req)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if e.Calls(OpSend) != 1 {
				t.Errorf("calls %d", e.Calls(OpSend))
			}
			if tc.want != 201 {
				f := fields(t, w.Body.Bytes())
				if f["code"] != tc.code || f["error"] == "" || f["description"] == "" {
					t.Errorf("body %s, want code %q with error and description", w.Body, tc.code)
				}
				if tc.want == 401 && w.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
				if len(e.Outbox()) != 0 {
					t.Errorf("refused send reached the outbox")
				}
				return
			}
			checkSent(t, e, tc.req, w.Body.Bytes())
		})
	}
}

func checkSent(t *testing.T, e *Emulator, q rq, answer []byte) {
	t.Helper()
	var req api.SendBody
	var got api.InvitationBody
	mustJSON(t, []byte(q.body), &req)
	mustJSON(t, answer, &got)
	out := e.Outbox()
	if len(out) != 1 || out[0].Token != got.Token || out[0].Link != got.Link {
		t.Fatalf("outbox %+v for answer %+v", out, got)
	}
	wantUntil := req.ValidUntil
	if wantUntil == "" {
		wantUntil = wireTime(t0.Add(DefaultInvitationTTL))
	}
	switch {
	case got.OrganizationID != DefaultOrg || got.Email != req.Email || strings.Join(got.GroupIDs, ",") != strings.Join(req.GroupIDs, ","):
		t.Errorf("answer %+v for request %+v", got, req)
	case got.ValidUntil != wantUntil || got.ExistingClientsOnly != req.ExistingClientsOnly || got.ClientID != req.ClientID:
		t.Errorf("answer %+v for request %+v", got, req)
	case got.Link != testBase+"/invitation?token="+got.Token || len(got.Token) != 43 || !uuidRE.MatchString(got.ID):
		t.Errorf("token %q, link %q, id %q", got.Token, got.Link, got.ID)
	}
	if st := state(t, e, got.Token); st.State != StateOpen || st.ID != got.ID {
		t.Errorf("sent invitation state %+v", st)
	}
}

// TestSendThenAccept is the administrator-to-device path through HTTP only.
func TestSendThenAccept(t *testing.T) {
	e, _ := newEmu(t)
	w := do(t, e, sendRq(DefaultOrg, api.SendBody{GroupIDs: []string{GroupLab}}, "Bearer "+testAdmin))
	var inv api.InvitationBody
	mustJSON(t, w.Body.Bytes(), &inv)
	w = do(t, e, acceptRq(inv.Token, "kiosk", ""))
	var c api.ClientBody
	mustJSON(t, w.Body.Bytes(), &c)
	if w.Code != 200 || c.ClientSecret == "" || c.Name != "kiosk" || c.Groups[0] != GroupLab {
		t.Errorf("accept of a sent invitation: %d %s", w.Code, w.Body)
	}
}

func TestControlSurface(t *testing.T) {
	e, clk := newEmu(t)
	admin := "Bearer " + testAdmin
	ctl := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		w := do(t, e, rq{method: method, path: path, body: body, auth: admin})
		var v map[string]any
		if w.Body.Len() > 0 && strings.HasPrefix(w.Body.String(), "{") {
			mustJSON(t, w.Body.Bytes(), &v)
		}
		return w.Code, v
	}
	for _, p := range []string{"/_emulator/clients", "/_emulator/calls", "/_emulator/invitations/x"} {
		if w := do(t, e, rq{method: "GET", path: p, auth: "Bearer nope"}); w.Code != 401 {
			t.Errorf("%s without admin token: %d", p, w.Code)
		}
	}
	code, v := ctl("POST", "/_emulator/invitations", `{"groupIds":["grp-lab"],"token":"tok-1","validUntil":"2026-01-15T11:00:00Z"}`)
	if code != 201 || v["token"] != "tok-1" || v["link"] != testBase+"/invitation?token=tok-1" || v["organizationId"] != DefaultOrg {
		t.Fatalf("create: %d %v", code, v)
	}
	if code, v = ctl("POST", "/_emulator/invitations", `{"groupIds":["grp-lab"],"token":"tok-1"}`); code != 400 {
		t.Errorf("duplicate token: %d %v", code, v)
	}
	if code, _ = ctl("POST", "/_emulator/invitations", `{"groupIds":["grp-lab"],"validUntil":"soon"}`); code != 400 {
		t.Errorf("bad validUntil: %d", code)
	}
	if code, v = ctl("GET", "/_emulator/invitations/tok-1", ""); code != 200 || v["state"] != "open" || v["expired"] != false {
		t.Errorf("state: %d %v", code, v)
	}
	if code, _ = ctl("POST", "/_emulator/faults/accept", `{"status":429,"retryAfter":"2","body":"{\"code\":\"slow_down\"}","delay":"1ms"}`); code != 204 {
		t.Errorf("fault: %d", code)
	}
	if w := do(t, e, acceptRq("tok-1", "", "")); w.Code != 429 || w.Header().Get("Retry-After") != "2" || w.Body.String() != `{"code":"slow_down"}` {
		t.Errorf("faulted accept: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w := do(t, e, acceptRq("tok-1", "dev", ""))
	code, v = ctl("GET", "/_emulator/invitations/tok-1", "")
	if w.Code != 200 || v["state"] != "accepted" || v["acceptedBy"] != e.Clients()[0].ID {
		t.Errorf("after accept: %d %v", w.Code, v)
	}
	lw := do(t, e, rq{method: "GET", path: "/_emulator/clients", auth: admin})
	var list []ControlClient
	mustJSON(t, lw.Body.Bytes(), &list)
	if len(list) != 1 || list[0].Name != "dev" || strings.Contains(lw.Body.String(), e.Clients()[0].ClientSecret) || strings.Contains(lw.Body.String(), "ecret") {
		t.Errorf("clients: %s", lw.Body)
	}
	if code, v = ctl("GET", "/_emulator/calls", ""); v["accept"] != 2.0 || v["send"] != 0.0 {
		t.Errorf("calls: %d %v", code, v)
	}
	for path, want := range map[string]int{
		"/_emulator/revoke/tok-1": 204, "/_emulator/revoke/nope": 404,
		"/_emulator/faults/nope": 404, "/_emulator/invitations/nope": 404,
	} {
		method := "POST"
		if strings.HasPrefix(path, "/_emulator/invitations/") {
			method = "GET"
		}
		if code, _ := ctl(method, path, "{}"); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	if code, _ = ctl("POST", "/_emulator/faults/send", `{"delay":"-1s"}`); code != 400 {
		t.Errorf("negative delay: %d", code)
	}
	if code, _ = ctl("POST", "/_emulator/faults/send", `{"status":42}`); code != 400 {
		t.Errorf("bad status: %d", code)
	}
	if _, v = ctl("GET", "/_emulator/invitations/tok-1", ""); v["state"] != "revoked" {
		t.Errorf("after revoke: %v", v)
	}
	clk.Advance(2 * time.Hour)
	if _, v = ctl("GET", "/_emulator/invitations/tok-1", ""); v["expired"] != true {
		t.Errorf("expired: %v", v)
	}
	if code, _ = ctl("POST", "/_emulator/down", `{"down":true}`); code != 204 {
		t.Errorf("down: %d", code)
	}
	if w := do(t, e, rq{method: "GET", path: api.PathDiscovery}); w.Code != 503 {
		t.Errorf("discovery while down: %d", w.Code)
	}
}
