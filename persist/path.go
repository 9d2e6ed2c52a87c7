package persist

import (
	"path/filepath"

	"enroll/persist/durable"
)

// rootPath is where a system-wide enrollment lives: root enrolls the device
// itself, so the licensed application finds the file without a home dir.
const rootPath = "/var/lib/enroll/credentials.json"

// DefaultPath returns where the credentials file lives for a user: the
// system location for root, else $XDG_CONFIG_HOME/enroll, else
// $HOME/.config/enroll. It reads nothing but getenv, so it is pure.
//
// Relative XDG_CONFIG_HOME and HOME values are ignored, as the XDG base
// directory specification asks: a path relative to whatever directory enroll
// happens to run in would scatter credentials. When nothing usable is set it
// returns "", and the caller should ask for --credentials.
func DefaultPath(uid int, getenv func(string) string) string {
	if uid == 0 {
		return rootPath
	}
	dir, err := durable.XDGDir(getenv, "XDG_CONFIG_HOME", ".config")
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "enroll", "credentials.json")
}
