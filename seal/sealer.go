package seal

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-tpm/tpm2/transport"

	"enroll/flow"
	"enroll/persist"
)

// keySize is the data key's: AES-256.
const keySize = 32

// TPM seals with a device's TPM; it satisfies persist.Sealer. Each value
// is encrypted under the data key (AES-256-GCM, a random nonce each time);
// the TPM keeps only the data key, sealed.
type TPM struct {
	dev Device

	mu sync.Mutex
	// key, public and private are the data key Ready made and proved,
	// in memory for this run, and its sealed form.
	key             []byte
	public, private []byte
}

var _ persist.Sealer = (*TPM)(nil)

// New returns a sealer for dev. It touches nothing until used.
func New(dev Device) *TPM { return &TPM{dev: dev} }

// Device is where the sealer finds the TPM.
func (s *TPM) Device() Device { return s.dev }

// withTPM runs f with the TPM opened and the storage key created, and
// closes both.
func (s *TPM) withTPM(ctx context.Context, f func(t transport.TPM, k *srk) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := s.dev.open()
	if err != nil {
		return err
	}
	defer func() { _ = t.Close() }()
	k, err := createSRK(t)
	if err != nil {
		return fmt.Errorf("the TPM at %s: %w", s.dev, err)
	}
	defer flush(t, k.handle)
	return f(t, k)
}

// Ready makes a new data key, seals it, and unseals it again to prove that
// this TPM gives it back: the preflight before an invitation is spent.
// Once ready, the sealer seals without the TPM.
func (s *TPM) Ready(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return nil
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("%w: %w", flow.ErrSealUnavailable, err)
	}
	var public, private []byte
	err := s.withTPM(ctx, func(t transport.TPM, k *srk) error {
		var err error
		if public, private, err = k.create(t, key); err != nil {
			return err
		}
		back, err := k.unseal(t, public, private)
		if err != nil {
			return err
		}
		if !bytes.Equal(back, key) {
			return errors.New("the TPM unsealed another value than it sealed")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", flow.ErrSealUnavailable, err)
	}
	s.key, s.public, s.private = key, public, private
	return nil
}

// Seal encrypts plaintext under the data key Ready made.
func (s *TPM) Seal(plaintext, aad []byte) (persist.Protection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		return persist.Protection{}, fmt.Errorf("%w: the data key is not ready", flow.ErrSealUnavailable)
	}
	aead, err := gcm(s.key)
	if err != nil {
		return persist.Protection{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return persist.Protection{}, err
	}
	return persist.Protection{
		Kind:   persist.ProtectionTPM2,
		Public: bytes.Clone(s.public), Private: bytes.Clone(s.private),
		Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plaintext, aad),
	}, nil
}

// Open decrypts what Seal encrypted, with the data key in memory.
func (s *TPM) Open(p persist.Protection, aad []byte) ([]byte, error) {
	s.mu.Lock()
	key := s.key
	s.mu.Unlock()
	if key == nil {
		return nil, errors.New("the data key is not ready")
	}
	return decrypt(key, p, aad)
}

// Unseal asks the TPM for p's data key and decrypts p with it.
func (s *TPM) Unseal(ctx context.Context, p persist.Protection, aad []byte) ([]byte, error) {
	if p.Kind != persist.ProtectionTPM2 {
		return nil, fmt.Errorf("%w: protection kind %q", flow.ErrUnreadable, flow.SanitizeMax(p.Kind, 40))
	}
	var key []byte
	err := s.withTPM(ctx, func(t transport.TPM, k *srk) error {
		var err error
		key, err = k.unseal(t, p.Public, p.Private)
		return err
	})
	switch {
	case errors.Is(err, errForeign):
		return nil, fmt.Errorf("%w: %w", flow.ErrSealedElsewhere, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", flow.ErrUnsealUnavailable, err)
	}
	plain, err := decrypt(key, p, aad)
	if err != nil {
		// This TPM sealed the key, so the ciphertext or the fields it is
		// bound to (server, id, clientId) were changed since.
		return nil, fmt.Errorf("%w: this TPM unsealed the data key, but the sealed value does not decrypt with it", flow.ErrSealedChanged)
	}
	return plain, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func decrypt(key []byte, p persist.Protection, aad []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(p.Nonce) != aead.NonceSize() {
		return nil, errors.New("the nonce has the wrong size")
	}
	return aead.Open(nil, p.Nonce, p.Ciphertext, aad)
}
