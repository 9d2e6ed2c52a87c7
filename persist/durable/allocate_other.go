//go:build !linux

package durable

import (
	"errors"
	"os"
)

// allocate is not available here; the probe writes and syncs instead.
func allocate(*os.File, int64) error { return errors.ErrUnsupported }
