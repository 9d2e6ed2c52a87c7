package durable

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, data := range []string{"first", "second, longer"} {
		if err := WriteFile(OSFS{}, p, []byte(data), 0o640, NoGroup); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if err != nil || string(b) != data || fi.Mode().Perm() != 0o640 {
			t.Errorf("%q: read %q, mode %v, %v", data, b, fi.Mode().Perm(), err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestMoveAsideNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var names []string
	for i := range 3 {
		if err := os.WriteFile(p, []byte{byte('a' + i)}, 0o600); err != nil {
			t.Fatal(err)
		}
		name, err := MoveAside(OSFS{}, p, "corrupt", now)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(name))
	}
	want := []string{"f.corrupt-20261206T120000Z", "f.corrupt-20261206T120000Z-2", "f.corrupt-20261206T120000Z-3"}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("move %d: %s, want %s", i, names[i], want[i])
		}
	}
	if Exists(p) {
		t.Error("the file is still there")
	}
}

func TestLogIsExclusiveAndAppends(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	l, err := OpenLog(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLog(p); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
	for _, r := range []string{"a\n", "b\n"} {
		if err := l.Append([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if b, _ := os.ReadFile(p); string(b) != "a\nb\n" {
		t.Errorf("log holds %q", b)
	}
	link := filepath.Join(t.TempDir(), "link")
	_ = os.Symlink(p, link)
	for _, bad := range []string{link, t.TempDir()} {
		if _, err := OpenLog(bad); err == nil {
			t.Errorf("OpenLog(%s) accepted a non-regular file", bad)
		}
	}
}

func TestXDGDir(t *testing.T) {
	for _, tc := range []struct {
		xdg, home, want string
		err             bool
	}{
		{"/x/cfg/", "/home/a", "/x/cfg", false},
		{"rel/cfg", "/home/a", "/home/a/.config", false},
		{"", "/home/a", "/home/a/.config", false},
		{"", "home/a", "", true},
	} {
		env := map[string]string{"XDG_CONFIG_HOME": tc.xdg, "HOME": tc.home}
		got, err := XDGDir(func(k string) string { return env[k] }, "XDG_CONFIG_HOME", ".config")
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%+v: %q, %v", tc, got, err)
		}
	}
}
