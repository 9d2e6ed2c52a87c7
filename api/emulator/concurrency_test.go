package emulator

import (
	"encoding/json"
	"sync"
	"testing"

	"enroll/api"
)

// TestConcurrentAccepts has many devices accept distinct invitations at
// once over real connections while others read the model; run with -race.
func TestConcurrentAccepts(t *testing.T) {
	const n = 40
	run, _ := listen(t)
	e := run.Emulator
	invs := make([]Invitation, n)
	for i := range invs {
		invs[i] = mustCreate(t, e, InvitationSpec{Groups: []string{GroupKiosks}})
	}
	old := e.AddClient("old", GroupLab)
	bearer := bearerFor(t, e, old)
	shared := mustCreate(t, e, InvitationSpec{Groups: []string{GroupLab}})

	var wg sync.WaitGroup
	secrets := make([]string, n)
	sharedStatus := make([]int, n)
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			resp, body, err := send(t, run, acceptRq(invs[i].Token, "", ""))
			if err != nil {
				errs <- err
				return
			}
			var c api.ClientBody
			if resp.StatusCode != 200 || json.Unmarshal(body, &c) != nil {
				t.Errorf("accept %d: %d %s", i, resp.StatusCode, body)
				return
			}
			secrets[i] = c.ClientSecret
		})
		// Everyone races for the same invitation too: exactly one wins.
		wg.Go(func() {
			resp, _, err := send(t, run, acceptRq(shared.Token, "", bearer))
			if err != nil {
				errs <- err
				return
			}
			sharedStatus[i] = resp.StatusCode
		})
		wg.Go(func() { _ = e.Clients(); _, _ = e.Invitation(invs[i].Token); _ = e.Calls(OpAccept) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for i, inv := range invs {
		if s := state(t, e, inv.Token); s.State != StateAccepted {
			t.Errorf("invitation %d: %q", i, s.State)
		}
		if secrets[i] == "" || seen[secrets[i]] {
			t.Errorf("secret %d empty or repeated", i)
		}
		seen[secrets[i]] = true
	}
	if got := len(e.Clients()); got != n+1 {
		t.Errorf("%d clients, want %d", got, n+1)
	}
	if got := e.Calls(OpAccept); got != 2*n {
		t.Errorf("%d accept calls, want %d", got, 2*n)
	}
	won := map[int]int{}
	for _, code := range sharedStatus {
		won[code]++
	}
	if won[200] != 1 || won[409] != n-1 {
		t.Errorf("the shared invitation answered %v; want one 200 and %d 409", won, n-1)
	}
	if s := state(t, e, shared.Token); s.AcceptedBy != old.ID {
		t.Errorf("shared invitation accepted by %q", s.AcceptedBy)
	}
}
