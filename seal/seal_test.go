package seal_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enroll/flow"
	"enroll/persist"
	"enroll/seal"
	"enroll/seal/swtpmtest"
)

func sealerOf(t *testing.T, p *swtpmtest.TPM) *seal.TPM {
	t.Helper()
	dev, err := seal.ParseDevice(p.Setting())
	if err != nil {
		t.Fatal(err)
	}
	return seal.New(dev)
}

func TestSealAndUnsealOnSwtpm(t *testing.T) {
	p := swtpmtest.Start(t)
	s := sealerOf(t, p)
	ctx := context.Background()
	start := time.Now()
	if err := s.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Ready (storage key, seal, load, unseal): %v", time.Since(start))
	secret, aad := []byte("s3cr3t-client-secret"), []byte("bound")
	prot, err := s.Seal(secret, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(prot.Ciphertext, secret) || prot.Kind != persist.ProtectionTPM2 {
		t.Fatalf("protection %+v", prot)
	}
	if back, err := s.Open(prot, aad); err != nil || !bytes.Equal(back, secret) {
		t.Fatalf("Open: %q, %v", back, err)
	}
	// A new sealer (another run) and the same TPM after a reboot: the
	// storage key is created again from its template, and it unseals.
	p.Restart()
	start = time.Now()
	back, err := sealerOf(t, p).Unseal(ctx, prot, aad)
	if err != nil || !bytes.Equal(back, secret) {
		t.Fatalf("Unseal after a restart: %q, %v", back, err)
	}
	t.Logf("Unseal (storage key, load, unseal, decrypt): %v", time.Since(start))
	// Bound to its aad: another file's fields do not open it, nor does an
	// edited ciphertext or nonce. This TPM gives the key back, so it is
	// not another device's: the value was changed since (exit 4, its own
	// hint, never "root or the reader group").
	edited := prot
	edited.Ciphertext = append([]byte{prot.Ciphertext[0] ^ 1}, prot.Ciphertext[1:]...)
	shortNonce := prot
	shortNonce.Nonce = prot.Nonce[1:]
	for name, tc := range map[string]struct {
		p   persist.Protection
		aad []byte
	}{"another aad": {prot, []byte("other")}, "an edited ciphertext": {edited, aad}, "a cut nonce": {shortNonce, aad}} {
		_, err := sealerOf(t, p).Unseal(ctx, tc.p, tc.aad)
		c := flow.Classify(err)
		if !errors.Is(err, flow.ErrSealedChanged) || c.Exit != flow.ExitDevice || strings.Contains(c.Hint, "reader group") || !strings.Contains(c.Hint, "backup") {
			t.Errorf("Unseal with %s: %v (%+v), want ErrSealedChanged", name, err, c)
		}
	}
	// Two values sealed under one key have different nonces.
	prot2, _ := s.Seal(secret, aad)
	if bytes.Equal(prot.Nonce, prot2.Nonce) {
		t.Error("a nonce was used twice")
	}
}

func TestAnotherTPMCannotUnseal(t *testing.T) {
	a, b := swtpmtest.Start(t), swtpmtest.Start(t)
	s := sealerOf(t, a)
	if err := s.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	prot, err := s.Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sealerOf(t, b).Unseal(context.Background(), prot, nil)
	if !errors.Is(err, flow.ErrSealedElsewhere) {
		t.Fatalf("Unseal on another TPM: %v, want ErrSealedElsewhere", err)
	}
	if c := flow.Classify(err); c.Exit != flow.ExitDevice {
		t.Errorf("exit %d, want 4", c.Exit)
	}
}

func TestNoTPM(t *testing.T) {
	ctx := context.Background()
	stopped := swtpmtest.Start(t)
	stopped.Stop()
	for name, setting := range map[string]string{
		"no device":      "/nonexistent/tpmrm0",
		"no socket":      "swtpm:" + filepath.Join(t.TempDir(), "none.sock"),
		"swtpm stopped":  stopped.Setting(),
		"not a device":   "/etc/hostname",
		"not a tpm file": "swtpm:/etc/hostname",
	} {
		t.Run(name, func(t *testing.T) {
			dev, err := seal.ParseDevice(setting)
			if err != nil {
				t.Fatal(err)
			}
			s := seal.New(dev)
			err = s.Ready(ctx)
			if !errors.Is(err, flow.ErrSealUnavailable) || flow.Classify(err).Exit != flow.ExitStore {
				t.Errorf("Ready: %v, want ErrSealUnavailable (exit 6)", err)
			}
			_, err = s.Unseal(ctx, persist.Protection{Kind: persist.ProtectionTPM2, Public: []byte{0}, Private: []byte{0}}, nil)
			if !errors.Is(err, flow.ErrUnsealUnavailable) {
				t.Errorf("Unseal: %v, want ErrUnsealUnavailable", err)
			}
			if _, err := s.Seal([]byte("x"), nil); err == nil {
				t.Error("Seal without a ready key worked")
			}
		})
	}
}

func TestParseDevice(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", seal.DefaultDevice, true},
		{"/dev/tpm0", "/dev/tpm0", true},
		{" swtpm:/run/swtpm.sock ", "swtpm:/run/swtpm.sock", true},
		{"swtpm:run/swtpm.sock", "", false},
		{"tpmrm0", "", false},
		{"tcp:localhost:2321", "", false},
	} {
		d, err := seal.ParseDevice(tc.in)
		if (err == nil) != tc.ok || (tc.ok && d.String() != tc.want) {
			t.Errorf("ParseDevice(%q) = %v, %v", tc.in, d, err)
		}
	}
}
