package emulator

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestDefaults(t *testing.T) {
	a, b := New(Options{}), New(Options{})
	if len(a.AdminToken()) != 43 || a.AdminToken() == b.AdminToken() {
		t.Errorf("admin tokens %q %q: want random, 43 characters", a.AdminToken(), b.AdminToken())
	}
	inv := mustCreate(t, a, InvitationSpec{Groups: []string{GroupKiosks, GroupLab}})
	if raw, err := base64.RawURLEncoding.DecodeString(inv.Token); err != nil || len(raw) != 32 {
		t.Errorf("token %q: want 32 bytes base64url without padding", inv.Token)
	}
	if !uuidRE.MatchString(inv.ID) || inv.Org != DefaultOrg {
		t.Errorf("invitation %+v", inv)
	}
	if d := time.Until(inv.ValidUntil); d < DefaultInvitationTTL-time.Minute || d > DefaultInvitationTTL {
		t.Errorf("default validity %v", d)
	}
	if inv.Link != "/invitation?token="+inv.Token {
		t.Errorf("link without base URL %q", inv.Link)
	}
	c := a.AddClient("")
	if !uuidRE.MatchString(c.ID) || !uuidRE.MatchString(c.ClientID) || len(c.ClientSecret) != 43 || c.Name != "device-1" {
		t.Errorf("client %+v", c)
	}
}

func TestRandIsInjected(t *testing.T) {
	mk := func() *Emulator {
		return New(Options{AdminToken: "a", Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 200))})
	}
	a, b := mk(), mk()
	ia := mustCreate(t, a, InvitationSpec{Groups: []string{GroupLab}})
	ib := mustCreate(t, b, InvitationSpec{Groups: []string{GroupLab}})
	if ia.Token != ib.Token || ia.ID != ib.ID {
		t.Errorf("same random source, different invitations: %+v %+v", ia, ib)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "random source failed") {
			t.Errorf("exhausted random source: recovered %v", r)
		}
	}()
	for range 10 {
		a.AddClient("x")
	}
}

func TestCreateInvitationErrors(t *testing.T) {
	e, _ := newEmu(t)
	mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}, Token: "fixed"})
	cases := []struct {
		spec InvitationSpec
		want error
	}{
		{InvitationSpec{Org: "org-x", Groups: []string{GroupLab}}, ErrUnknownOrganization},
		{InvitationSpec{Groups: []string{"grp-x"}}, ErrUnknownGroup},
		{InvitationSpec{}, ErrNoGroups},
		{InvitationSpec{Groups: []string{GroupLab}, Token: "fixed"}, ErrDuplicateToken},
	}
	for _, tc := range cases {
		if _, err := e.CreateInvitation(tc.spec); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.spec, err, tc.want)
		}
	}
	e.AddOrganization("org-2", "Other", "grp-x")
	e.AddOrganization("org-2", "", "grp-y")
	if _, err := e.CreateInvitation(InvitationSpec{Org: "org-2", Groups: []string{"grp-x", "grp-y", "grp-x"}}); err != nil {
		t.Errorf("added organization: %v", err)
	}
	if _, err := e.CreateInvitation(InvitationSpec{Org: "org-2", Groups: []string{GroupLab}}); !errors.Is(err, ErrUnknownGroup) {
		t.Errorf("group of another organization: %v", err)
	}
}

func TestCopiesAreIsolated(t *testing.T) {
	e, _ := newEmu(t)
	inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})
	inv.Groups[0] = "changed"
	c := e.AddClient("a", GroupLab)
	c.Groups[0] = "changed"
	e.Clients()[0].Groups[0] = "changed"
	st := state(t, e, inv.Token)
	st.Groups[0] = "changed"
	if state(t, e, inv.Token).Groups[0] != GroupLab || e.Clients()[0].Groups[0] != GroupLab {
		t.Errorf("callers can change the model through copies")
	}
}

func TestRevokeAndExpiry(t *testing.T) {
	e, clk := newEmu(t)
	inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}, ValidUntil: t0.Add(time.Hour)})
	if st := state(t, e, inv.Token); st.State != StateOpen || st.Expired {
		t.Errorf("fresh: %+v", st)
	}
	clk.Advance(time.Hour + time.Second)
	if st := state(t, e, inv.Token); st.State != StateOpen || !st.Expired {
		t.Errorf("expired: %+v", st)
	}
	if err := e.Revoke(inv.Token); err != nil {
		t.Fatal(err)
	}
	if st := state(t, e, inv.Token); st.State != StateRevoked {
		t.Errorf("revoked: %+v", st)
	}
	if err := e.Revoke("nope"); !errors.Is(err, ErrUnknownInvitation) {
		t.Errorf("revoke unknown: %v", err)
	}
	if _, ok := e.Invitation("nope"); ok {
		t.Errorf("unknown invitation found")
	}
	// Revoking an accepted invitation leaves the client its groups.
	inv2 := mustCreate(t, e, InvitationSpec{Groups: []string{GroupKiosks}})
	serve(e, acceptRq(inv2.Token, "", ""))
	_ = e.Revoke(inv2.Token)
	st := state(t, e, inv2.Token)
	if st.State != StateRevoked || st.AcceptedBy == "" || len(e.Clients()) != 1 || e.Clients()[0].Groups[0] != GroupKiosks {
		t.Errorf("revoked after accept: %+v %+v", st, e.Clients())
	}
}

func TestFailNextUnknownOpPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for an unknown op")
		}
	}()
	New(Options{}).FailNext("acept", Fault{Status: 500})
}

func TestListen(t *testing.T) {
	run, _ := listen(t)
	if !strings.HasPrefix(run.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q", run.URL)
	}
	if inv := mustCreate(t, run.Emulator, InvitationSpec{Groups: []string{GroupLab}}); !strings.HasPrefix(inv.Link, run.URL+"/invitation?token=") {
		t.Errorf("link %q does not use the listening address", inv.Link)
	}
	if _, err := Listen(strings.TrimPrefix(run.URL, "http://"), Options{}); err == nil {
		t.Error("listening twice on one port succeeded")
	}
}
