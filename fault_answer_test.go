package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"

	"enroll/api"
	"enroll/api/emulator"
)

// Rows about a 200 answer to accept that cannot be turned into
// credentials. The emulator really accepted (the invitation is spent and a
// client exists); only the answer is broken on its way, by the front. The
// raw answer must then be kept — journaled, then moved aside to
// credentials.json.pending.unreadable-<time> so it blocks no later run —
// with no partial credentials file and no secret printed.

func answerRows() []faultRow {
	// unreadable accepts through change and checks what every unreadable
	// answer shares; it returns the bytes the front sent.
	unreadable := func(x *fx, front func(sent *[]byte) frontFunc, patterns ...string) []byte {
		t := x.t
		inv := x.svc.invite(emulator.InvitationSpec{})
		var sent []byte
		x.svc.front(api.PathAccept, front(&sent))
		r := x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--json")
		x.exit(r, 7, append([]string{`cannot read`, `credentials\.json\.pending\.unreadable-\d{8}T\d{6}Z`, `"kind": "bad-response"`, `contact support`}, patterns...)...)
		x.state(inv, emulator.StateAccepted)
		x.noCreds()
		x.absent(x.creds + ".pending")
		aside := x.glob("credentials.json.pending.unreadable-*")
		if len(aside) != 1 {
			t.Fatalf("set-aside journals: %q", aside)
		}
		x.mode(aside[0], 0o600)
		want := sent[:min(len(sent), api.MaxBody)] // of a longer answer, the first MiB
		if got := journalRaw(t, aside[0]); !bytes.Equal(got, want) {
			t.Errorf("the set-aside journal holds %d bytes, want the %d bytes read of the %d sent", len(got), len(want), len(sent))
		}
		// It blocks nothing: the next invitation enrolls.
		next := x.svc.invite(emulator.InvitationSpec{})
		x.exit(x.runIn(runOpts{stdin: next.Link}, "accept", "--token-file", "-"), 0, `Enrolled`)
		x.credsIssued()
		return sent
	}
	edit := func(f func(map[string]any)) func(body []byte) []byte {
		return func(body []byte) []byte {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				panic(err)
			}
			f(m)
			b, _ := json.Marshal(m)
			return b
		}
	}
	return []faultRow{
		{"accept answered 200 with invalid JSON", "exit 7 \"cannot read\", the raw answer kept in credentials.json.pending.unreadable-<time>; no file, no secret printed; the next invitation enrolls",
			func(t *testing.T, x *fx) {
				unreadable(x, func(sent *[]byte) frontFunc {
					return committedThen(func(b []byte) []byte { return append(bytes.TrimSpace(b)[:len(bytes.TrimSpace(b))-1], ",,"...) }, sent)
				}, `not valid JSON \(at byte \d+\)`)
			}},
		{"accept answered 200, body cut short by a closed connection", "exit 7; the bytes that arrived are kept in the set-aside journal; no partial file",
			func(t *testing.T, x *fx) {
				unreadable(x, func(sent *[]byte) frontFunc { return committedThenCut(40, sent) }, `answer cut short after 40 bytes`)
			}},
		{"accept answered 200 with a body over the 1 MiB cap", "exit 7; its first 1 MiB is kept in the set-aside journal; nothing printed of it",
			func(t *testing.T, x *fx) {
				pad := bytes.Repeat([]byte("x"), api.MaxBody)
				sent := unreadable(x, func(sent *[]byte) frontFunc {
					return committedThen(edit(func(m map[string]any) { m["padding"] = string(pad) }), sent)
				}, `larger than 1 MiB`)
				if len(sent) <= api.MaxBody {
					t.Fatalf("the answer was only %d bytes", len(sent))
				}
			}},
		{"accept answered 200 for a new device without clientSecret", "exit 7 \"sent no client secret\"; the raw answer set aside, no partial file",
			func(t *testing.T, x *fx) {
				unreadable(x, func(sent *[]byte) frontFunc {
					return committedThen(edit(func(m map[string]any) { delete(m, "clientSecret") }), sent)
				}, `sent no client secret`)
			}},
		{"accept answered 200 to an enrolled device, naming another client (its id, clientId or both; with or without a new secret)", "exit 7; the old file unchanged, the answer set aside",
			func(t *testing.T, x *fx) {
				// Each variant on a device of its own; x stays unused.
				for _, v := range []struct {
					name   string
					change map[string]any
				}{
					{"clientId", map[string]any{"clientId": "somebody-else"}},
					{"id", map[string]any{"id": "another-device-id"}},
					{"both", map[string]any{"id": "another-device-id", "clientId": "somebody-else"}},
					{"clientId with a new secret", map[string]any{"clientId": "somebody-else", "clientSecret": "fresh-secret-0001"}},
					{"id with a new secret", map[string]any{"id": "another-device-id", "clientSecret": "fresh-secret-0001"}},
					{"both with a new secret", map[string]any{"id": "another-device-id", "clientId": "somebody-else", "clientSecret": "fresh-secret-0001"}},
				} {
					t.Run(v.name, func(t *testing.T) {
						y := newFx(t)
						y.also("fresh-secret-0001")
						old := y.enroll()
						inv := y.svc.invite(emulator.InvitationSpec{})
						var sent []byte
						y.svc.front(api.PathAccept, committedThen(edit(func(m map[string]any) { maps.Copy(m, v.change) }), &sent))
						r := y.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
						y.exit(r, 7, `names another client than this device`, `unreadable-`)
						y.credsEqual(old)
						y.state(inv, emulator.StateAccepted)
						y.finish()
					})
				}
			}},
	}
}
