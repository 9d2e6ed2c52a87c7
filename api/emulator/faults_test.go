package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"enroll/api"
)

// These run over real loopback connections: a dropped connection is only
// observable by a real client.

func TestFaultDropAfterCommit(t *testing.T) {
	for _, tc := range []struct {
		op    string
		req   func(tok string) rq
		after State
	}{
		{OpAccept, func(tok string) rq { return acceptRq(tok, "", "") }, StateAccepted},
		{OpDecline, declineRq, StateDeclined},
	} {
		t.Run(tc.op, func(t *testing.T) {
			run, _ := listen(t)
			e := run.Emulator
			inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})
			e.FailNext(tc.op, Fault{DropAfterCommit: true})
			if resp, _, err := send(t, run, tc.req(inv.Token)); err == nil {
				t.Fatalf("got an answer %d, want a dropped connection", resp.StatusCode)
			}
			if st := state(t, e, inv.Token); st.State != tc.after {
				t.Errorf("state %q, want %q: the change must be committed", st.State, tc.after)
			}
			if tc.op == OpAccept && (len(e.Clients()) != 1 || state(t, e, inv.Token).AcceptedBy != e.Clients()[0].ID) {
				t.Errorf("clients %+v", e.Clients())
			}
			if n := e.Calls(tc.op); n != 1 {
				t.Errorf("%d calls: the client must not have retried", n)
			}
			// The retry the client should make now meets a used invitation.
			resp, _, err := send(t, run, tc.req(inv.Token))
			if err != nil || resp.StatusCode != http.StatusConflict {
				t.Errorf("retry: %v %v", resp, err)
			}
		})
	}
}

func TestFaultDropBeforeCommit(t *testing.T) {
	run, _ := listen(t)
	e := run.Emulator
	inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})
	e.FailNext(OpAccept, Fault{DropBeforeCommit: true})
	if _, _, err := send(t, run, acceptRq(inv.Token, "", "")); err == nil {
		t.Fatal("got an answer, want a dropped connection")
	}
	if s := state(t, e, inv.Token); s.State != StateOpen || len(e.Clients()) != 0 {
		t.Errorf("state %q, %d clients: nothing may change", s.State, len(e.Clients()))
	}
	if resp, _, err := send(t, run, acceptRq(inv.Token, "", "")); err != nil || resp.StatusCode != 200 {
		t.Errorf("second try: %v %v", resp, err)
	}
}

func TestFaultStatusQueue(t *testing.T) {
	run, _ := listen(t)
	e := run.Emulator
	c := e.AddClient("dev", GroupLab)
	e.FailNext(OpToken, Fault{Status: 500, Body: "boom"})
	e.FailNext(OpToken, Fault{Status: 429, RetryAfter: "7", Body: `{"error":"slow_down"}`})
	q := formRq(clientForm(c), "")
	for i, want := range []struct {
		status     int
		body, ct   string
		retryAfter string
	}{
		{500, "boom", "text/plain", ""},
		{429, `{"error":"slow_down"}`, "application/json", "7"},
		{200, `"access_token"`, "application/json", ""},
	} {
		resp, body, err := send(t, run, q)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case resp.StatusCode != want.status || !strings.Contains(string(body), want.body):
			t.Errorf("#%d: %d %s, want %d %s", i, resp.StatusCode, body, want.status, want.body)
		case !strings.HasPrefix(resp.Header.Get("Content-Type"), want.ct) || resp.Header.Get("Retry-After") != want.retryAfter:
			t.Errorf("#%d: headers %v", i, resp.Header)
		}
	}
	if n := e.Calls(OpToken); n != 3 {
		t.Errorf("calls %d", n)
	}
}

func TestFaultStatusChangesNothing(t *testing.T) {
	e, _ := newEmu(t)
	inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})
	e.FailNext(OpAccept, Fault{Status: 503})
	if w := do(t, e, acceptRq(inv.Token, "", "")); w.Code != 503 || w.Body.Len() != 0 {
		t.Errorf("faulted accept: %d %q", w.Code, w.Body)
	}
	if s := state(t, e, inv.Token); s.State != StateOpen || len(e.Clients()) != 0 {
		t.Errorf("a status fault changed state: %q", s.State)
	}
}

func TestFaultDelay(t *testing.T) {
	run, _ := listen(t)
	e := run.Emulator
	inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})
	// A client that gives up first: the handler must notice and not commit.
	e.FailNext(OpAccept, Fault{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r, _ := http.NewRequestWithContext(ctx, "PUT", run.URL+api.PathAccept, strings.NewReader(`{"token":"`+inv.Token+`"}`))
	r.Header.Set("Content-Type", api.ContentTypeJSON)
	if _, err := http.DefaultClient.Do(r); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed accept: %v, want a timeout", err)
	}
	if s := state(t, e, inv.Token); s.State != StateOpen {
		t.Errorf("state %q after the client gave up", s.State)
	}
	// A short delay is followed by normal handling.
	e.FailNext(OpAccept, Fault{Delay: time.Millisecond})
	if resp, _, err := send(t, run, acceptRq(inv.Token, "", "")); err != nil || resp.StatusCode != 200 {
		t.Errorf("after a short delay: %v %v", resp, err)
	}
}

func TestDown(t *testing.T) {
	e, _ := newEmu(t)
	inv := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})
	e.FailNext(OpAccept, Fault{Status: 418})
	e.SetDown(true)
	for _, q := range []rq{
		acceptRq(inv.Token, "", ""),
		declineRq(inv.Token),
		formRq(clientForm(Client{ClientID: "a", ClientSecret: "b"}), ""),
		sendRq(DefaultOrg, api.SendBody{GroupIDs: []string{GroupLab}}, "Bearer "+testAdmin),
		{method: "GET", path: api.PathDiscovery},
	} {
		w := do(t, e, q)
		if w.Code != 503 || w.Body.String() != `{"error":"server_error"}` {
			t.Errorf("%s %s while down: %d %s", q.method, q.path, w.Code, w.Body)
		}
	}
	if w := do(t, e, rq{method: "GET", path: "/invitation"}); w.Code != 200 {
		t.Errorf("landing page while down: %d", w.Code)
	}
	if st := state(t, e, inv.Token); st.State != StateOpen {
		t.Errorf("state %q while down", st.State)
	}
	e.SetDown(false)
	if w := do(t, e, acceptRq(inv.Token, "", "")); w.Code != 418 {
		t.Errorf("the queued fault must wait for the service: %d", w.Code)
	}
	if w := do(t, e, acceptRq(inv.Token, "", "")); w.Code != 200 {
		t.Errorf("back up: %d %s", w.Code, w.Body)
	}
	if n := e.Calls(OpAccept); n != 3 {
		t.Errorf("calls %d, want 3 (down ones count)", n)
	}
}

func TestDropWithoutHijackAborts(t *testing.T) {
	// With a ResponseRecorder there is no connection to drop; the handler
	// aborts the way net/http servers understand.
	e, _ := newEmu(t)
	e.FailNext(OpDiscovery, Fault{DropBeforeCommit: true})
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	serve(e, rq{method: "GET", path: api.PathDiscovery})
}
