// Package seal keeps the client secret on its device (issue 18): a data
// key sealed by the device's TPM 2.0, and the secret encrypted under it
// with AES-256-GCM. It satisfies persist.Sealer; the store keeps what it
// returns as the file's protection object and knows nothing of TPMs.
//
// The TPM is spoken to through go-tpm's tpm2 API: the kernel's resource
// manager (/dev/tpmrm0) on a device, swtpm's Unix socket in tests. Nothing
// here marshals a TPM command by hand.
package seal

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

// DefaultDevice is the kernel's TPM resource manager: it multiplexes the
// TPM between processes and flushes what a process leaves loaded, so no
// handle of ours outlives a run. (/dev/tpm0, the raw device, allows one
// user at a time and is usually busy with tpm2-abrmd or systemd.)
const DefaultDevice = "/dev/tpmrm0"

// swtpmPrefix names swtpm's Unix socket (swtpm socket --server
// type=unixio,path=PATH): an emulated TPM, for tests and emulated devices.
const swtpmPrefix = "swtpm:"

// Device is where the TPM is: a character device, or swtpm's socket.
type Device struct {
	setting string
	socket  bool
	err     error // BadDevice's
}

// BadDevice is a setting that could not be read: every use of it fails
// with err.
func BadDevice(err error) Device { return Device{err: err} }

// ParseDevice reads the ENROLL_TPM setting: "" for DefaultDevice, an
// absolute path to the TPM's character device, or swtpm:PATH.
func ParseDevice(setting string) (Device, error) {
	s := strings.TrimSpace(setting)
	switch {
	case s == "":
		return Device{setting: DefaultDevice}, nil
	case strings.HasPrefix(s, swtpmPrefix):
		p := strings.TrimPrefix(s, swtpmPrefix)
		if !filepath.IsAbs(p) {
			return Device{}, fmt.Errorf("the TPM setting %q names swtpm's socket by a relative path; give an absolute one", s)
		}
		return Device{setting: s, socket: true}, nil
	case filepath.IsAbs(s):
		return Device{setting: s}, nil
	}
	return Device{}, fmt.Errorf("the TPM setting %q is neither a device path (such as %s) nor swtpm:/PATH/TO/SOCKET", s, DefaultDevice)
}

// String is the setting, as a person would give it.
func (d Device) String() string {
	if d.setting == "" {
		return DefaultDevice
	}
	return d.setting
}

func (d Device) path() string { return strings.TrimPrefix(d.String(), swtpmPrefix) }

// open connects to the TPM. Its errors say what a person can fix: no TPM,
// or no permission to use it (the tss group).
func (d Device) open() (transport.TPMCloser, error) {
	if d.err != nil {
		return nil, d.err
	}
	var (
		t   transport.TPMCloser
		err error
	)
	if d.socket {
		t, err = linuxudstpm.Open(d.path())
	} else {
		t, err = linuxtpm.Open(d.path())
	}
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("this device has no TPM at %s", d)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("this user may not use the TPM at %s (root, or a member of its group, usually tss, may)", d)
	}
	return nil, fmt.Errorf("the TPM at %s cannot be opened: %w", d, err)
}
