package persist

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"enroll/flow"
)

// Once the TPM has proved it unseals (Prepare), sealing runs in memory and
// should not fail; should it all the same, nothing is written in clear or
// half sealed: Save and Journal report that nothing was stored.
func TestSealingThatFailsStoresNothing(t *testing.T) {
	errSeal := errors.New("sealing failed")
	for _, tt := range []struct {
		name    string
		sealErr error
		openErr error
		write   func(s *Store) error
	}{
		{"the secret cannot be sealed", errSeal, nil, func(s *Store) error { return s.Save(testCreds()) }},
		{"the sealed secret does not open again", nil, errSeal, func(s *Store) error { return s.Save(testCreds()) }},
		{"the answer cannot be sealed", errSeal, nil, func(s *Store) error {
			return s.Journal(flow.Pending{Server: testCreds().Server, Raw: []byte(`{"clientSecret":"` + testSecret + `"}`)})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSealer{device: 1}
			s := sealedStore(t, "", f, SealTPM)
			mustPrepare(t, s)
			f.sealErr, f.openErr = tt.sealErr, tt.openErr
			if err := tt.write(s); !errors.Is(err, flow.ErrNotStored) || !errors.Is(err, errSeal) {
				t.Errorf("= %v; want ErrNotStored wrapping the sealer's error", err)
			}
			_ = s.Release()
			holds(t, s)
			noSecretIn(t, filepath.Dir(s.Path()), testSecret)
		})
	}
}

// What a sealed value holds is checked once unsealed: a credentials file
// whose sealed secret is blank or not UTF-8 holds no client secret, and a
// sealed journal without an answer holds nothing to finish.
func TestSealedValuesThatHoldNothing(t *testing.T) {
	c := testCreds()
	seal := func(f *fakeSealer, plain, aad []byte) *Protection {
		if err := f.Ready(t.Context()); err != nil {
			t.Fatal(err)
		}
		p, err := f.Seal(plain, aad)
		if err != nil {
			t.Fatal(err)
		}
		return &p
	}
	for _, tc := range []struct {
		name    string
		journal bool
		plain   string
		want    string
	}{
		{"a blank secret", false, " \n", "is not a client secret"},
		{"a secret that is not UTF-8", false, "s3cr\xff", "is not a client secret"},
		{"a journal without an answer", true, `{"existing":null}`, "does not hold an answer"},
	} {
		f := &fakeSealer{device: 1}
		path := filepath.Join(t.TempDir(), "enroll", "credentials.json")
		var data []byte
		if tc.journal {
			path += ".pending"
			data, _ = marshal(journalJSON{Version: sealedVersion, Server: c.Server, ReceivedAt: formatTime(testTime),
				Protection: seal(f, []byte(tc.plain), journalAAD(c.Server))})
		} else {
			j := toJSON(c)
			j.Version, j.ClientSecret, j.Protection = sealedVersion, "", seal(f, []byte(tc.plain), credentialsAAD(c.Server, c.ID, c.ClientID))
			data, _ = marshal(j)
		}
		writeRaw(t, path, data, 0o600)
		_, err := Open(Options{Path: strings.TrimSuffix(path, ".pending"), Sealer: f}).Load(t.Context())
		if !errors.Is(err, flow.ErrUnreadable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load = %v; want ErrUnreadable saying it %s", tc.name, err, tc.want)
		}
	}
}
