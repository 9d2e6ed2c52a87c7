package persist

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enroll/flow"
)

// fakeSealer stands in for the TPM (package seal tests the real one on
// swtpm): a device is its key, and another device's sealer refuses to
// unseal what this one sealed, as another TPM would.
type fakeSealer struct {
	device    byte  // which "TPM"
	readyErr  error // Ready fails with it
	unsealErr error
	sealErr   error // Seal and Open fail with these, after Ready
	openErr   error
	key       []byte
	readies   int
}

func (f *fakeSealer) Ready(context.Context) error {
	f.readies++
	if f.readyErr != nil {
		return fmt.Errorf("%w: %w", flow.ErrSealUnavailable, f.readyErr)
	}
	f.key = bytes.Repeat([]byte{f.device}, 32)
	return nil
}

func (f *fakeSealer) Seal(plain, aad []byte) (Protection, error) {
	if f.key == nil {
		return Protection{}, errors.New("not ready")
	}
	if f.sealErr != nil {
		return Protection{}, f.sealErr
	}
	a := aead(f.key)
	nonce := make([]byte, a.NonceSize())
	return Protection{Kind: ProtectionTPM2, Public: []byte{f.device}, Private: []byte{f.device}, Nonce: nonce, Ciphertext: a.Seal(nil, nonce, plain, aad)}, nil
}

func (f *fakeSealer) Open(p Protection, aad []byte) ([]byte, error) {
	if f.openErr != nil {
		return nil, f.openErr
	}
	return aead(f.key).Open(nil, p.Nonce, p.Ciphertext, aad)
}

func (f *fakeSealer) Unseal(_ context.Context, p Protection, aad []byte) ([]byte, error) {
	if f.unsealErr != nil {
		return nil, fmt.Errorf("%w: %w", flow.ErrUnsealUnavailable, f.unsealErr)
	}
	if p.Private[0] != f.device {
		return nil, fmt.Errorf("%w: integrity", flow.ErrSealedElsewhere)
	}
	plain, err := aead(bytes.Repeat([]byte{f.device}, 32)).Open(nil, p.Nonce, p.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", flow.ErrSealedChanged, err) // as package seal says it
	}
	return plain, nil
}

func aead(key []byte) cipher.AEAD {
	b, _ := aes.NewCipher(key)
	a, _ := cipher.NewGCM(b)
	return a
}

func sealedStore(t *testing.T, path string, f *fakeSealer, mode SealMode) *Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "enroll", "credentials.json")
	}
	s := Open(Options{Path: path, LockWait: 100 * time.Millisecond, Now: fixedNow, Sealer: f, Seal: mode})
	t.Cleanup(func() { _ = s.Release() })
	return s
}

// noSecretIn fails when any file of dir holds the secret raw, in base64 or
// in hex.
func noSecretIn(t *testing.T, dir string, secret string) {
	t.Helper()
	forms := [][]byte{[]byte(secret), []byte(base64.StdEncoding.EncodeToString([]byte(secret))),
		[]byte(base64.RawURLEncoding.EncodeToString([]byte(secret))), []byte(hex.EncodeToString([]byte(secret)))}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for _, f := range forms {
			if bytes.Contains(b, f) {
				t.Errorf("%s holds the secret (%.12s…)", e.Name(), f)
			}
		}
	}
}

func TestSealedSaveAndLoad(t *testing.T) {
	f := &fakeSealer{device: 1}
	s := sealedStore(t, "", f, SealTPM)
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	if !s.Sealed() {
		t.Error("Sealed() is false after a sealed save")
	}
	data, _ := os.ReadFile(s.Path())
	if err := validate(credentialsSchema(t), data); err != nil {
		t.Errorf("the sealed file does not match the schema: %v\n%s", err, data)
	}
	if !bytes.Contains(data, []byte(`"version": 2`)) || bytes.Contains(data, []byte("clientSecret")) {
		t.Errorf("not a version 2 file:\n%s", data)
	}
	noSecretIn(t, filepath.Dir(s.Path()), testSecret)
	_ = s.Release()

	// A reader on this device: the secret, unsealed in memory.
	r := Open(Options{Path: s.Path(), ReadOnly: true, Sealer: &fakeSealer{device: 1}})
	snap, err := r.Load(t.Context())
	if err != nil || snap.Existing == nil || snap.Existing.ClientSecret != testSecret || !snap.Existing.Sealed {
		t.Fatalf("Load: %+v, %v", snap.Existing, err)
	}

	// On another device, or with no TPM: its own error, and the file is
	// left where it is, byte for byte (never moved aside as corrupt).
	for name, o := range map[string]Options{
		"another device": {Sealer: &fakeSealer{device: 2}},
		"no TPM":         {Sealer: &fakeSealer{device: 1, unsealErr: errors.New("no device")}},
		"no sealer":      {},
		"read-only":      {ReadOnly: true, Sealer: &fakeSealer{device: 2}},
	} {
		o.Path = s.Path()
		_, err := Open(o).Load(t.Context())
		switch name {
		case "another device", "read-only":
			if !errors.Is(err, flow.ErrSealedElsewhere) {
				t.Errorf("%s: %v", name, err)
			}
		default:
			if !errors.Is(err, flow.ErrUnsealUnavailable) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if got, _ := os.ReadFile(s.Path()); !bytes.Equal(got, data) {
			t.Errorf("%s: the file changed", name)
		}
	}
}

// The edited file's fields are bound to its ciphertext: a server changed
// by hand does not get the secret.
func TestSealedFileBoundToItsFields(t *testing.T) {
	f := &fakeSealer{device: 1}
	s := sealedStore(t, "", f, SealTPM)
	mustPrepare(t, s)
	if err := s.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(s.Path())
	writeRaw(t, s.Path(), bytes.Replace(data, []byte("licensing.example.com"), []byte("evil.example.com"), 1), 0o600)
	_, err := Open(Options{Path: s.Path(), ReadOnly: true, Sealer: &fakeSealer{device: 1}}).Load(t.Context())
	if !errors.Is(err, flow.ErrSealedChanged) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("a sealed secret under another server: %v, want ErrSealedChanged naming the file", err)
	}
	if c := flow.Classify(err); c.Exit != flow.ExitDevice || strings.Contains(c.Hint, "reader group") {
		t.Errorf("classified as %+v", c)
	}
}

// A sealed journal this device cannot unseal (another device's, or one
// changed since) is its own failure: it names the journal and the mv that
// moves it aside, since enroll forget will not remove a journal; it is
// never moved or changed by the run.
func TestSealedJournalNotFromHere(t *testing.T) {
	s := sealedStore(t, "", &fakeSealer{device: 1}, SealTPM)
	mustPrepare(t, s)
	raw := []byte(`{"id":"dc-1","clientId":"client-1","clientSecret":"` + testSecret + `"}`)
	if err := s.Journal(flow.Pending{Server: "https://licensing.example.com", Raw: raw}); err != nil {
		t.Fatal(err)
	}
	_ = s.Release()
	jd, _ := os.ReadFile(s.JournalPath())
	// One character of the ciphertext's base64 changed: still a journal
	// that decodes, no longer what was sealed.
	i := bytes.Index(jd, []byte(`"ciphertext": "`)) + len(`"ciphertext": "`)
	changed := bytes.Clone(jd)
	changed[i] = map[bool]byte{true: 'B', false: 'A'}[changed[i] == 'A']
	for name, tc := range map[string]struct {
		journal []byte
		sealer  *fakeSealer
		suffix  string
	}{
		"another device": {jd, &fakeSealer{device: 2}, ".foreign"},
		"changed":        {changed, &fakeSealer{device: 1}, ".changed"},
		// The server is bound too: a recovery would send the secret there.
		"server edited": {bytes.Replace(jd, []byte("licensing.example.com"), []byte("evil.example.com"), 1), &fakeSealer{device: 1}, ".changed"},
	} {
		writeRaw(t, s.JournalPath(), tc.journal, 0o600)
		_, err := sealedStore(t, s.Path(), tc.sealer, SealNone).Load(t.Context())
		want := "mv -n " + s.JournalPath() + " " + s.JournalPath() + tc.suffix
		if !errors.Is(err, flow.ErrJournalElsewhere) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want ErrJournalElsewhere with %q", name, err, want)
		}
		if c := flow.Classify(err); c.Exit != flow.ExitDevice || strings.Contains(c.Hint, "enroll forget`") {
			t.Errorf("%s: classified as %+v", name, c)
		}
		if got, _ := os.ReadFile(s.JournalPath()); !bytes.Equal(got, tc.journal) {
			t.Errorf("%s: the journal changed", name)
		}
	}
	// enroll forget names the same step.
	if err := s.Forget(); !errors.Is(err, flow.ErrPending) || !strings.Contains(err.Error(), "mv -n "+s.JournalPath()) {
		t.Errorf("Forget: %v", err)
	}
}

func TestShellArg(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/enroll/credentials.json.pending": "/var/lib/enroll/credentials.json.pending",
		"/tmp/a b/it's": `'/tmp/a b/it'\''s'`,
		"":              "''",
	} {
		if got := shellArg(in); got != want {
			t.Errorf("shellArg(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPrepareProvesTheTPMFirst(t *testing.T) {
	f := &fakeSealer{device: 1, readyErr: errors.New("no TPM")}
	s := sealedStore(t, "", f, SealTPM)
	err := s.Prepare(t.Context())
	if !errors.Is(err, flow.ErrSealUnavailable) || flow.Classify(err).Exit != flow.ExitStore {
		t.Fatalf("Prepare: %v, want ErrSealUnavailable (exit 6)", err)
	}
	// Nothing held, nothing left: the lock is free and no journal file.
	f.readyErr = nil
	mustPrepare(t, s)
	if n := names(t, filepath.Dir(s.Path())); len(n) != 1 { // the reserved journal file
		t.Errorf("files: %v", n)
	}
	// A plain store never asks the TPM.
	p := sealedStore(t, "", &fakeSealer{readyErr: errors.New("no TPM")}, SealNone)
	mustPrepare(t, p)
}

// The journal of a sealing run holds the answer sealed; a later run
// completes it; a file sealed once stays sealed under --seal none.
func TestSealedJournalAndRecovery(t *testing.T) {
	f := &fakeSealer{device: 1}
	s := sealedStore(t, "", f, SealTPM)
	mustPrepare(t, s)
	raw := []byte(`{"id":"dc-1","clientId":"client-1","clientSecret":"` + testSecret + `"}`)
	if err := s.Journal(flow.Pending{Server: "https://licensing.example.com", Raw: raw, Existing: ptr(testCreds())}); err != nil {
		t.Fatal(err)
	}
	_ = s.Release() // the process died before the commit
	noSecretIn(t, filepath.Dir(s.Path()), testSecret)
	jd, _ := os.ReadFile(s.JournalPath())
	if !bytes.Contains(jd, []byte(`"version": 2`)) {
		t.Errorf("journal:\n%s", jd)
	}

	next := sealedStore(t, s.Path(), &fakeSealer{device: 1}, SealNone)
	snap, err := next.Load(t.Context())
	if err != nil || snap.Pending == nil || !bytes.Equal(snap.Pending.Raw, raw) || snap.Pending.Existing == nil || snap.Pending.Existing.ClientSecret != testSecret {
		t.Fatalf("Load: %+v, %v", snap.Pending, err)
	}
	mustPrepare(t, next)
	if err := next.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	if !next.Sealed() {
		t.Error("a sealed answer was committed in clear")
	}
	noSecretIn(t, filepath.Dir(s.Path()), testSecret)

	// A reader sees that a journal is there without unsealing it.
	_ = next.Release()
	mustPrepare(t, next)
	_ = next.Journal(flow.Pending{Server: "https://licensing.example.com", Raw: raw})
	_ = next.Release()
	snap, err = Open(Options{Path: s.Path(), ReadOnly: true, Sealer: &fakeSealer{device: 1}}).Load(t.Context())
	if err != nil || snap.Pending == nil || snap.Pending.Raw != nil {
		t.Errorf("reader's Load: %+v, %v", snap.Pending, err)
	}
}

func ptr[T any](v T) *T { return &v }
