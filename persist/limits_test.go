package persist

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"enroll/flow"
)

// padded returns the ASCII padding that makes encode's output exactly size
// bytes: the field it goes into (a name, a server) grows one byte per
// character.
func padded(t *testing.T, size int, encode func(pad string) ([]byte, error)) string {
	t.Helper()
	b, err := encode("")
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("n", size-len(b))
	if b, err = encode(pad); err != nil || len(b) != size {
		t.Fatalf("padding to %d bytes: %d, %v", size, len(b), err)
	}
	return pad
}

// The largest credentials file is written and read back; one byte more is
// refused before anything is written.
func TestCredentialsSizeLimitIsExact(t *testing.T) {
	c := testCreds()
	name := padded(t, maxCredentialsSize, func(pad string) ([]byte, error) {
		c := c
		c.Name = pad
		return encodeCredentials(c, fixedNow(), nil)
	})
	s := newStore(t, nil)
	mustPrepare(t, s)
	c.Name = name
	if err := s.Save(c); err != nil {
		t.Fatalf("Save of exactly %d bytes: %v", maxCredentialsSize, err)
	}
	if snap, err := sibling(t, s).Load(t.Context()); err != nil || snap.Existing == nil || snap.Existing.Name != name {
		t.Fatalf("Load of exactly %d bytes: %v, %v", maxCredentialsSize, err, snap.Warnings)
	}
	c.Name += "n"
	if err := s.Save(c); !errors.Is(err, flow.ErrNotStored) || !strings.Contains(err.Error(), "more than a credentials file may hold") {
		t.Errorf("Save of one byte more = %v; want it refused", err)
	}
}

// The largest journal is kept and read back; one byte more is refused.
func TestJournalSizeLimitIsExact(t *testing.T) {
	raw := bytes.Repeat([]byte("r"), 1<<20)
	p := flow.Pending{Raw: raw, ReceivedAt: testTime}
	p.Server = "https://" + padded(t, maxJournalSize, func(pad string) ([]byte, error) {
		p := p
		p.Server = "https://" + pad
		return encodeJournal(p, fixedNow(), nil)
	})
	s := newStore(t, nil)
	mustPrepare(t, s)
	if err := s.Journal(p); err != nil {
		t.Fatalf("Journal of exactly %d bytes: %v", maxJournalSize, err)
	}
	if snap, err := sibling(t, s).Load(t.Context()); err != nil || snap.Pending == nil || !bytes.Equal(snap.Pending.Raw, raw) {
		t.Fatalf("Load of exactly %d bytes: %v, %v", maxJournalSize, err, snap.Warnings)
	}
	p.Server += "n"
	if err := s.Journal(p); !errors.Is(err, flow.ErrNotStored) || !strings.Contains(err.Error(), "too large to journal") {
		t.Errorf("Journal of one byte more = %v; want it refused", err)
	}
}
