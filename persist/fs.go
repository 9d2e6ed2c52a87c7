package persist

import "enroll/persist/durable"

// FS is the part of the filesystem the store uses, so that tests (here and
// in the CLI) can inject faults such as a full disk; OSFS is the real one
// and the default. The lock always uses the real filesystem.
type (
	FS        = durable.FS
	File      = durable.File
	OSFS      = durable.OSFS
	Allocator = durable.Allocator
)

// noGroup is the gid of a store that shares with nobody.
const noGroup = durable.NoGroup
