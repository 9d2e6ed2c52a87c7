package durable

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

const fallocKeepSize = 0x1 // FALLOC_FL_KEEP_SIZE, linux/falloc.h

// allocate reserves size bytes for f with fallocate(2), keeping its size
// (FALLOC_FL_KEEP_SIZE), so that data written later needs no truncation.
// The filesystem answers at once: ENOSPC or EDQUOT now, not at a later
// write or fsync.
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
	return allocateResult(f.Name(), ferr)
}

// allocateResult sorts fallocate's answer: an answer about space or
// writability is an error; anything else (EOPNOTSUPP where the filesystem
// has no fallocate, but also EINVAL from some FUSE daemons or EPERM from a
// sandbox) says nothing about space and becomes errors.ErrUnsupported, so
// that the caller writes and syncs a block instead.
func allocateResult(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG),
		errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EIO):
		return &os.PathError{Op: "fallocate", Path: name, Err: err}
	}
	return fmt.Errorf("%w: fallocate: %w", errors.ErrUnsupported, err)
}
