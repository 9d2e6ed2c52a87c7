package durable

import (
	"fmt"
	"path/filepath"
)

// XDGDir is an XDG base directory: the variable key if it holds an
// absolute path, else underHome below HOME. The base directory
// specification says to ignore relative values: a path relative to
// whatever directory enroll happens to run in would scatter files. It
// reads nothing but getenv.
func XDGDir(getenv func(string) string, key, underHome string) (string, error) {
	if v := getenv(key); filepath.IsAbs(v) {
		return filepath.Clean(v), nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("neither %s nor HOME is an absolute path", key)
	}
	return filepath.Join(home, underHome), nil
}
