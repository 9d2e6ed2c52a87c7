package persist

import (
	"errors"
	"os"
	"syscall"
)

// allocate reserves size bytes for f with fallocate(2), keeping its size
// (FALLOC_FL_KEEP_SIZE), so that data written later needs no truncation.
// The filesystem answers at once: ENOSPC or EDQUOT now, not at a later
// write or fsync.
const fallocKeepSize = 0x1 // FALLOC_FL_KEEP_SIZE, linux/falloc.h

func allocate(f *os.File, size int64) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Fallocate(int(fd), fallocKeepSize, 0, size)
			if ferr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	switch {
	case ferr == nil:
		return nil
	case errors.Is(ferr, syscall.EOPNOTSUPP), errors.Is(ferr, syscall.ENOSYS):
		return errors.ErrUnsupported
	}
	return &os.PathError{Op: "fallocate", Path: f.Name(), Err: ferr}
}
