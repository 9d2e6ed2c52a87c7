package seal

import (
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// The TPM's part: a primary storage key created from the TCG's ECC P-256
// SRK template each time (the same template on the same TPM gives the same
// key, so nothing has to be made persistent and no handle has to survive
// a reboot), and under it a sealed data object (keyedhash, no sign or
// decrypt use) holding the data key.
//
// No PCR policy: the object's only authorization is its empty auth value,
// so a kernel or firmware update cannot make the secret unreadable (README
// says what a PCR policy would add). fixedTPM and fixedParent keep the
// object from being duplicated to another TPM; its private area is
// encrypted under the SRK, which another TPM (or this one after a clear)
// cannot re-create, so Load fails there with an integrity error.
//
// The data key crosses the bus between CPU and TPM encrypted: Create and
// Unseal run in an HMAC session salted with the SRK's public key, with
// parameter encryption (AES-128-CFB), against someone listening on the bus.

// srkTemplate is the storage key's template: ECC, because a TPM derives an
// ECC primary key in milliseconds where RSA-2048 may take seconds.
var srkTemplate = tpm2.ECCSRKTemplate

// sealedTemplate is the data object's public area.
var sealedTemplate = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgKeyedHash,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM:     true,
		FixedParent:  true,
		UserWithAuth: true,
		// Its auth value is empty: a dictionary-attack lockout would only
		// let a local user lock the licence out.
		NoDA: true,
	},
}

// srk is a storage root key loaded for one run.
type srk struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	public tpm2.TPMTPublic
}

func createSRK(t transport.TPM) (*srk, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(srkTemplate),
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("creating the storage key: %w", err)
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		flush(t, rsp.ObjectHandle)
		return nil, fmt.Errorf("reading the storage key: %w", err)
	}
	return &srk{handle: rsp.ObjectHandle, name: rsp.Name, public: *pub}, nil
}

// session encrypts the parameters of one command in the given direction.
func (k *srk) session(dir tpm2.AuthOption) tpm2.Session {
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, dir, tpm2.Salted(k.handle, k.public))
}

func (k *srk) parent() tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: k.session(tpm2.AESEncryption(128, tpm2.EncryptIn))}
}

// create seals data under the SRK and returns the object's public and
// private areas, as TPM2B structures.
func (k *srk) create(t transport.TPM, data []byte) (public, private []byte, err error) {
	rsp, err := tpm2.Create{
		ParentHandle: k.parent(),
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: data}),
		}},
		InPublic: tpm2.New2B(sealedTemplate),
	}.Execute(t)
	if err != nil {
		return nil, nil, fmt.Errorf("sealing the data key: %w", err)
	}
	return tpm2.Marshal(rsp.OutPublic), tpm2.Marshal(rsp.OutPrivate), nil
}

// errForeign marks an object this TPM refuses to load: it was sealed by
// another TPM (or by this one before it was cleared).
var errForeign = errors.New("this TPM cannot load the sealed key")

// unseal loads a sealed object under the SRK and returns its data.
func (k *srk) unseal(t transport.TPM, public, private []byte) ([]byte, error) {
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](public)
	if err != nil {
		return nil, fmt.Errorf("%w: its public area cannot be read: %w", errForeign, err)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](private)
	if err != nil {
		return nil, fmt.Errorf("%w: its private area cannot be read: %w", errForeign, err)
	}
	loaded, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: tpm2.PasswordAuth(nil)},
		InPublic:     *pub,
		InPrivate:    *priv,
	}.Execute(t)
	if err != nil {
		var rc tpm2.TPMRC
		if errors.As(err, &rc) && !rc.IsWarning() {
			// Integrity (another SRK), a size or a value the TPM refuses:
			// whatever the code, these areas were not made by this TPM's
			// storage key. A warning (busy, out of memory) is not that.
			return nil, fmt.Errorf("%w: %w", errForeign, err)
		}
		return nil, fmt.Errorf("loading the sealed key: %w", err)
	}
	defer flush(t, loaded.ObjectHandle)
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{
		Handle: loaded.ObjectHandle, Name: loaded.Name,
		Auth: k.session(tpm2.AESEncryption(128, tpm2.EncryptOut)),
	}}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("unsealing the data key: %w", err)
	}
	return rsp.OutData.Buffer, nil
}

// flush unloads a transient object. The resource manager would flush it
// at close anyway; swtpm's socket, which has none, would not.
func flush(t transport.TPM, h tpm2.TPMHandle) {
	_, _ = tpm2.FlushContext{FlushHandle: h}.Execute(t)
}
