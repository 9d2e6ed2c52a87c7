package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set by the linker for releases: -ldflags "-X main.version=v1.2.3".
var version = ""

func cmdVersion(_ context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "version", "", "  enroll version")
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(e.stdout, "enroll %s\n", v)
	return nil
}
