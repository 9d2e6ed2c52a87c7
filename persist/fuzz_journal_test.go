package persist

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"enroll/flow"
)

// FuzzLoadJournal feeds arbitrary bytes as the journal of an interrupted
// enrollment, beside a good credentials file. Load must not panic or fail;
// a journal it hands out must name its existing client completely (a
// recovery writes it back as the credentials); one it cannot use must be
// moved aside with every byte kept, and the credentials file left alone.
// The seed corpus is in testdata/fuzz/FuzzLoadJournal.
func FuzzLoadJournal(f *testing.F) {
	good, err := encodeJournal(flow.Pending{Server: "https://licensing.example.com", Raw: []byte(`{"id":"d"}`), InvitationDigest: "ab"}, testTime, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	creds, err := encodeCredentials(testCreds(), testTime, nil)
	if err != nil {
		f.Fatal(err)
	}
	fsys := &faultFS{NoSync: true}
	const journalAside = "credentials.json.pending.corrupt-20250304T050607Z"
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "credentials.json")
		if err := os.WriteFile(path, creds, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".pending", data, 0o600); err != nil {
			t.Fatal(err)
		}
		snap, err := Open(Options{Path: path, Now: fixedNow, FS: fsys}).Load(t.Context())
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if snap.Existing == nil || snap.Existing.ClientSecret != testSecret {
			t.Fatal("the credentials file was not read")
		}
		for _, w := range snap.Warnings {
			if strings.Contains(w, testSecret) {
				t.Fatalf("a warning holds the secret: %q", w)
			}
		}
		if p := snap.Pending; p != nil {
			if p.Existing != nil {
				if f := missing(p.Existing.ID, p.Existing.ClientID, p.Existing.ClientSecret); f != "" {
					t.Fatalf("a pending journal's existing client has no %s", f)
				}
			}
			if p.Raw == nil {
				t.Fatal("a pending journal without its answer")
			}
			return
		}
		got, err := os.ReadFile(filepath.Join(dir, journalAside))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("an unusable journal was not kept byte for byte (%v)", err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, creds) {
			t.Fatal("the credentials file changed")
		}
	})
}

// The journal holds any answer the client accepts: api.MaxBody, 1 MiB, of
// bytes that are not JSON (base64 in the journal, 4/3 of it). It used to be
// refused as too large, and an over-cap answer was then printed instead of
// kept.
func TestJournalHoldsAMebibyteAnswer(t *testing.T) {
	s := newStore(t, nil)
	mustPrepare(t, s)
	raw := bytes.Repeat([]byte{0xff, '"', '\\', 0x1b}, (1<<20)/4)
	if err := s.Journal(flow.Pending{Server: "https://licensing.example.com", Raw: raw}); err != nil {
		t.Fatalf("Journal: %v", err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load(t.Context())
	if err != nil || snap.Pending == nil || !bytes.Equal(snap.Pending.Raw, raw) {
		t.Fatalf("Load after Journal: %v, pending %v", err, snap.Pending != nil)
	}
	var j journalJSON
	b, _ := os.ReadFile(s.JournalPath())
	if json.Unmarshal(b, &j) != nil || j.Raw == nil {
		t.Fatal("the journal is not JSON")
	}
}
