package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the linker for releases (see release/build):
// -ldflags "-X main.version=v1.2.3 -X main.commit=… -X main.date=…".
var version, commit, date = "", "", ""

// buildInfo is what `enroll version` reports.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// currentBuild reads the linker's stamps, else what the Go toolchain
// recorded (a `go install` version, the VCS revision of a checkout).
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && commit == "" && b.Commit != "" && !strings.HasSuffix(b.Commit, "-dirty") {
			b.Commit += "-dirty"
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

func cmdVersion(_ context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "version", "[--json]", "  enroll version --json", useJSON)
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	b := currentBuild()
	if c.json {
		writeJSON(e.stdout, b)
		return nil
	}
	fmt.Fprintf(e.stdout, "enroll %s\n", b.Version)
	if b.Commit != "" {
		fmt.Fprintf(e.stdout, "  commit  %s\n", b.Commit)
	}
	if b.Date != "" {
		fmt.Fprintf(e.stdout, "  built   %s\n", b.Date)
	}
	fmt.Fprintf(e.stdout, "  go      %s %s/%s\n", b.Go, b.OS, b.Arch)
	return nil
}
