package durable

import (
	"errors"
	"syscall"
	"testing"
)

// Only an answer about space or writability refuses; any other fallocate
// error falls back to writing a block, as a filesystem without fallocate.
func TestAllocateResult(t *testing.T) {
	for _, tt := range []struct {
		errno       syscall.Errno
		unsupported bool
	}{
		{syscall.ENOSPC, false}, {syscall.EDQUOT, false}, {syscall.EFBIG, false},
		{syscall.EROFS, false}, {syscall.EIO, false},
		{syscall.EOPNOTSUPP, true}, {syscall.ENOSYS, true}, {syscall.EINVAL, true},
		{syscall.EPERM, true}, {syscall.ENODEV, true},
	} {
		err := allocateResult("/x/.credentials.json.pending.tmp-1", tt.errno)
		if !errors.Is(err, tt.errno) || errors.Is(err, errors.ErrUnsupported) != tt.unsupported {
			t.Errorf("%v: %v; want unsupported=%v, wrapping the errno", tt.errno, err, tt.unsupported)
		}
	}
	if err := allocateResult("x", nil); err != nil {
		t.Errorf("nil: %v", err)
	}
}
