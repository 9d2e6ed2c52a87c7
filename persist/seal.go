package persist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"enroll/flow"
)

// Sealing (issue 18): with a Sealer, the client secret is kept encrypted
// under a data key that only this device's TPM can unseal, in a version 2
// file; the journal likewise, so the raw answer never reaches the disk in
// clear. The store knows nothing of TPMs: it asks a Sealer (package seal)
// to seal and unseal bytes, and keeps what it gets as the file's
// "protection" object.

// Protection is a sealed value as the files keep it: the kind of sealing,
// the sealed data key as the TPM gave it (its public and private areas),
// and the value encrypted under that key (AES-256-GCM: nonce, ciphertext
// with its tag). JSON writes the byte slices in base64.
type Protection struct {
	Kind       string `json:"kind"`
	Public     []byte `json:"public"`
	Private    []byte `json:"private"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// ProtectionTPM2 is the one kind there is: a data key sealed by a TPM 2.0
// under its storage root key.
const ProtectionTPM2 = "tpm2"

// Sealer binds values to this device.
//
// Ready creates a data key sealed to the device and proves that the
// device unseals it, once per Sealer; afterwards Seal and Open use that
// key in memory and need no device, so nothing after the accept call can
// fail for the TPM's sake. Unseal asks the device for the data key of a
// sealed value and decrypts it. Their errors wrap flow.ErrSealUnavailable
// (Ready), flow.ErrUnsealUnavailable, flow.ErrSealedElsewhere or, when
// the device gives the key back but the value does not decrypt under it
// (changed since it was sealed), flow.ErrSealedChanged (Unseal).
type Sealer interface {
	Ready(ctx context.Context) error
	Seal(plaintext, aad []byte) (Protection, error)
	Open(p Protection, aad []byte) ([]byte, error)
	Unseal(ctx context.Context, p Protection, aad []byte) ([]byte, error)
}

// SealMode is whether writes seal. A file that is sealed already stays
// sealed whatever the mode: a later write never undoes it silently.
type SealMode int

const (
	SealNone SealMode = iota // write the secret in clear (version 1)
	SealTPM                  // seal it; Prepare fails (exit 6) without a usable TPM
)

// sealedVersion is the version of a file whose secrets are sealed.
const sealedVersion = 2

// credentialsAAD binds a sealed secret to the identity beside it: the
// ciphertext of one file does not open under another's server or client,
// so an edited server field cannot lead the secret elsewhere.
func credentialsAAD(server, id, clientID string) []byte {
	return []byte("enroll credentials 2\x00" + server + "\x00" + id + "\x00" + clientID)
}

// journalAAD binds a sealed answer to the server beside it, where a
// recovery commits it and the secret then goes.
func journalAAD(server string) []byte { return []byte("enroll journal 2\x00" + server) }

// sealedJournal is what the ciphertext of a version 2 journal holds.
type sealedJournal struct {
	Raw      []byte     `json:"raw"`
	Existing *credsJSON `json:"existing"`
}

// checkProtection says why p cannot be a sealed value ("" when it can).
func checkProtection(p *Protection) string {
	switch {
	case p == nil:
		return "it is version 2 without a protection object"
	case p.Kind != ProtectionTPM2:
		return fmt.Sprintf("its protection kind %q is not supported", flow.SanitizeMax(p.Kind, 40))
	case len(p.Public) == 0 || len(p.Private) == 0 || len(p.Nonce) == 0 || len(p.Ciphertext) == 0:
		return "its protection object is incomplete"
	}
	return ""
}

// wantSeal says whether this write seals: asked for, or sealed on disk.
// Callers hold s.mu.
func (s *Store) wantSeal() bool { return s.sealMode == SealTPM || s.sealedOnDisk }

// readySealer readies the data key before the invitation is spent.
// Callers hold s.mu.
func (s *Store) readySealer(ctx context.Context) error {
	s.sealing = false
	if !s.wantSeal() {
		return nil
	}
	if s.sealer == nil {
		return fmt.Errorf("%w: no TPM is configured", flow.ErrSealUnavailable)
	}
	if err := s.sealer.Ready(ctx); err != nil {
		if !errors.Is(err, flow.ErrSealUnavailable) {
			err = fmt.Errorf("%w: %w", flow.ErrSealUnavailable, err)
		}
		return err
	}
	s.sealing = true
	return nil
}

// Sealed reports whether the last Save sealed the secret, or, before any
// Save, whether the file Load found is sealed.
func (s *Store) Sealed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sealedOnDisk
}

// unsealCredentials puts the secret of a sealed file into c.
func (s *Store) unsealCredentials(ctx context.Context, c *storedCreds) error {
	if c.prot == nil {
		return nil
	}
	if s.sealer == nil {
		return fmt.Errorf("%w: %s is sealed to a TPM and no TPM is configured", flow.ErrUnsealUnavailable, s.path)
	}
	secret, err := s.sealer.Unseal(ctx, *c.prot, credentialsAAD(c.Server, c.ID, c.ClientID))
	switch {
	case errors.Is(err, flow.ErrSealedChanged):
		return fmt.Errorf("%w: %s: its ciphertext, nonce, server, id or clientId was edited since it was sealed (%s)", flow.ErrSealedChanged, s.path, flow.Message(err))
	case err != nil:
		return fmt.Errorf("%w (%s)", err, s.path)
	}
	if !utf8.Valid(secret) || strings.TrimSpace(string(secret)) == "" {
		return fmt.Errorf("%w: the sealed secret in %s is not a client secret", flow.ErrUnreadable, s.path)
	}
	c.ClientSecret = string(secret)
	return nil
}

// unsealJournal fills in the answer (and the enrolled client) of a sealed
// journal.
func (s *Store) unsealJournal(ctx context.Context, p *flow.Pending, prot *Protection) error {
	if s.sealer == nil {
		return fmt.Errorf("%w: the journal %s is sealed to a TPM and no TPM is configured", flow.ErrUnsealUnavailable, s.JournalPath())
	}
	plain, err := s.sealer.Unseal(ctx, *prot, journalAAD(p.Server))
	switch jp := s.JournalPath(); {
	case errors.Is(err, flow.ErrSealedElsewhere):
		// Copied with the disk from a device interrupted while enrolling:
		// only that device could finish it, and enroll forget will not
		// remove a journal, so the person is given the one step to take.
		// The command comes before the TPM's detail, which may be long:
		// messages are cut at 400 characters.
		return fmt.Errorf("%w: %s was sealed by another device's TPM; move it aside, as root: mv -n %s %s (%s)",
			flow.ErrJournalElsewhere, jp, shellArg(jp), shellArg(jp+".foreign"), flow.Message(err))
	case errors.Is(err, flow.ErrSealedChanged):
		return fmt.Errorf("%w: %s was changed after it was sealed; move it aside, as root: mv -n %s %s (%s)",
			flow.ErrJournalElsewhere, jp, shellArg(jp), shellArg(jp+".changed"), flow.Message(err))
	case err != nil:
		return fmt.Errorf("%w (%s)", err, jp)
	}
	var inner sealedJournal
	if reason := unmarshal(plain, &inner); reason != "" || inner.Raw == nil {
		return fmt.Errorf("%w: the sealed journal %s does not hold an answer", flow.ErrUnreadable, s.JournalPath())
	}
	p.Raw = inner.Raw
	if e := inner.Existing; e != nil {
		if f := missing(e.ID, e.ClientID, e.ClientSecret); f != "" {
			return fmt.Errorf("%w: the sealed journal's existing client has no %s", flow.ErrUnreadable, f)
		}
		c := e.credentials()
		p.Existing = &c
	}
	return nil
}

// writeSealer is the sealer of this run's writes, nil when they are plain.
// Callers hold s.mu.
func (s *Store) writeSealer() Sealer {
	if s.sealing {
		return s.sealer
	}
	return nil
}

// shellArg quotes a path for a command a person copies into a shell.
func shellArg(p string) string {
	if p != "" && strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,=") == "" {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// ProveJournal unseals a sealed journal as enroll accept would before
// finishing it, and forgets what it read: doctor's proof that this device
// can finish it. sealed is false, and err nil, when there is no journal,
// it is not sealed, or it cannot be read here (Load says why). Only a
// read-only store proves, so that nothing on disk changes.
func (s *Store) ProveJournal(ctx context.Context) (sealed bool, err error) {
	if !s.readOnly {
		return false, errors.New("persist: ProveJournal on a writable store")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok, err := s.readRegular(s.JournalPath(), maxJournalSize, nil)
	if err != nil || !ok {
		return false, nil
	}
	j, reason := decodeJournal(data)
	if reason != "" || j.prot == nil {
		return false, nil
	}
	return true, s.unsealJournal(ctx, &j.Pending, j.prot)
}
