package persist

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"enroll/flow"
)

const aside = "credentials.json.corrupt-20250304T050607Z"

func TestLoadNothingThere(t *testing.T) {
	s := newStore(t, nil)
	snap, err := s.Load(t.Context()) // the directory does not exist
	if err != nil || snap.Existing != nil || snap.Pending != nil || len(snap.Warnings) != 0 {
		t.Fatalf("Load = %+v, %v; want an empty snapshot", snap, err)
	}
	if err := os.MkdirAll(filepath.Dir(s.Path()), 0o700); err != nil {
		t.Fatal(err)
	}
	snap, err = s.Load(t.Context())
	if err != nil || snap.Existing != nil || len(snap.Warnings) != 0 {
		t.Fatalf("Load in an empty directory = %+v, %v", snap, err)
	}
}

func TestLoadAcceptsVersion1(t *testing.T) {
	s := newStore(t, nil)
	writeRaw(t, s.Path(), []byte(`{"version":1,"server":"https://s","id":"i","clientId":"c","clientSecret":"x","future":true,"enrolledAt":"not a time"}`), 0o600)
	snap, err := s.Load(t.Context())
	want := flow.Credentials{Server: "https://s", ID: "i", ClientID: "c", ClientSecret: "x"}
	if err != nil || snap.Existing == nil || *snap.Existing != want || len(snap.Warnings) != 0 {
		t.Fatalf("Load = %+v, %v; want %+v (unknown fields ignored, bad time zero)", snap, err, want)
	}
}

func TestLoadEmpty(t *testing.T) {
	for _, content := range []string{"", " \n\t"} {
		s := newStore(t, nil)
		writeRaw(t, s.Path(), []byte(content), 0o600)
		snap, err := s.Load(t.Context())
		if err != nil || snap.Existing != nil || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "empty") {
			t.Errorf("Load(%q) = %+v, %v; want not enrolled with one warning", content, snap, err)
		}
		if _, err := os.Lstat(s.Path()); err != nil {
			t.Errorf("the empty file was moved: %v", err)
		}
	}
}

func TestLoadCorrupt(t *testing.T) {
	valid := `"id":"i","clientId":"c","clientSecret":"` + testSecret + `"`
	for _, tt := range []struct{ name, content, reason string }{
		{"not json", "{" + valid, "not valid JSON"},
		{"trailing garbage", `{"version":1,` + valid + `} x`, "not valid JSON"},
		{"array", "[]", "not valid JSON"},
		{"null", "null", "version 0"},
		{"no version", "{" + valid + "}", "version 0"},
		{"future version", `{"version":2,` + valid + `}`, "version 2"},
		{"version as string", `{"version":"1",` + valid + `}`, "not valid JSON"},
		{"no id", `{"version":1,"clientId":"c","clientSecret":"` + testSecret + `"}`, "no id"},
		{"no clientId", `{"version":1,"id":"i","clientSecret":"` + testSecret + `"}`, "no clientId"},
		{"blank secret", `{"version":1,"id":"i","clientId":"c","clientSecret":"  "}`, "no clientSecret"},
		{"no server", `{"version":1,` + valid + `}`, "no server"},
		{"invalid utf-8", `{"version":1,` + valid + `,"name":"` + "\xff" + `"}`, "UTF-8"},
		{"too large", `{"version":1,` + valid + `,"name":"` + strings.Repeat("a", 70<<10) + `"}`, "larger than 64 KiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			writeRaw(t, s.Path(), []byte(tt.content), 0o600)
			snap, err := s.Load(t.Context())
			if err != nil || snap.Existing != nil {
				t.Fatalf("Load = %+v, %v; want not enrolled", snap, err)
			}
			if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], tt.reason) || !strings.Contains(snap.Warnings[0], aside) {
				t.Errorf("warnings %q; want one naming %q and %s", snap.Warnings, tt.reason, aside)
			}
			for _, w := range snap.Warnings {
				if strings.Contains(w, testSecret) {
					t.Errorf("a warning shows the secret: %q", w)
				}
			}
			got, err := os.ReadFile(filepath.Join(filepath.Dir(s.Path()), aside))
			if err != nil || string(got) != tt.content {
				t.Errorf("moved-aside bytes differ or missing (%v)", err)
			}
			if _, err := os.Lstat(s.Path()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the corrupt file is still in place: %v", err)
			}
		})
	}
}

func TestLoadCorruptNeverOverwritesAnEarlierOne(t *testing.T) {
	s := newStore(t, nil)
	dir := filepath.Dir(s.Path())
	writeRaw(t, filepath.Join(dir, aside), []byte("earlier"), 0o600)
	writeRaw(t, s.Path(), []byte("later"), 0o600)
	if _, err := s.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{aside: "earlier", aside + "-2": "later"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}

// While another enrollment holds the lock, Load must not move files: that
// enrollment may be committing new credentials at this very moment. Its
// Save then moves the corrupt file aside instead of overwriting it.
func TestLoadCorruptWhileLocked(t *testing.T) {
	s := newStore(t, nil)
	writeRaw(t, s.Path(), []byte("garbage"), 0o600)
	holder := sibling(t, s)
	mustPrepare(t, holder)
	snap, err := s.Load(t.Context())
	if err != nil || snap.Existing != nil || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "left in place") {
		t.Fatalf("Load = %+v, %v; want not enrolled, file left in place", snap, err)
	}
	if err := holder.Save(testCreds()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(filepath.Dir(s.Path()), aside)); string(got) != "garbage" {
		t.Errorf("Save did not keep the corrupt file aside: %q", got)
	}
}

func TestLoadCorruptJournal(t *testing.T) {
	for _, content := range []string{"", "{", `{"version":1,"server":"s"}`, `{"version":1,"raw":"", "existing":{"id":"i"}}`, `{"version":1,"raw":"not base64!"}`} {
		s := newStore(t, nil)
		writeRaw(t, s.JournalPath(), []byte(content), 0o600)
		snap, err := s.Load(t.Context())
		if err != nil || snap.Pending != nil || len(snap.Warnings) != 1 {
			t.Errorf("Load with journal %q = %+v, %v; want no pending and a warning", content, snap, err)
			continue
		}
		got, err := os.ReadFile(s.JournalPath() + ".corrupt-20250304T050607Z")
		if err != nil || string(got) != content {
			t.Errorf("journal %q not moved aside intact: %q, %v", content, got, err)
		}
	}
}

func TestLoadTightensModes(t *testing.T) {
	for _, tt := range []struct {
		name             string
		dirMode, mode    os.FileMode
		wantDir, want    os.FileMode
		warnings         int
		sticky, wantStky bool
	}{
		{"already tight", 0o700, 0o600, 0o700, 0o600, 0, false, false},
		{"file 0644", 0o700, 0o644, 0o700, 0o600, 1, false, false},
		{"file 0700", 0o700, 0o700, 0o700, 0o600, 1, false, false},
		{"file 0400 stays", 0o700, 0o400, 0o700, 0o400, 0, false, false},
		{"dir 0755", 0o755, 0o600, 0o700, 0o600, 1, false, false},
		{"both open", 0o777, 0o666, 0o700, 0o600, 2, false, false},
		{"sticky dir left alone", 0o777, 0o600, 0o777, 0o600, 1, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			mustPrepare(t, s)
			_ = s.Save(testCreds())
			_ = s.Release()
			dir := filepath.Dir(s.Path())
			dm := tt.dirMode
			if tt.sticky {
				dm |= os.ModeSticky
			}
			if err := os.Chmod(dir, dm); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(s.Path(), tt.mode); err != nil {
				t.Fatal(err)
			}
			snap, err := s.Load(t.Context())
			if err != nil || snap.Existing == nil || len(snap.Warnings) != tt.warnings {
				t.Fatalf("Load = %+v, %v; want credentials and %d warnings", snap, err, tt.warnings)
			}
			if m := perm(t, dir); m != tt.wantDir {
				t.Errorf("dir mode %04o, want %04o", m, tt.wantDir)
			}
			if fi, _ := os.Stat(dir); (fi.Mode()&os.ModeSticky != 0) != tt.wantStky {
				t.Errorf("sticky bit = %v, want %v", !tt.wantStky, tt.wantStky)
			}
			if m := perm(t, s.Path()); m != tt.want {
				t.Errorf("file mode %04o, want %04o", m, tt.want)
			}
		})
	}
}

func TestLoadChmodFails(t *testing.T) {
	f := newFaultFS()
	s := newStore(t, f)
	writeRaw(t, s.Path(), []byte(wantFile), 0o644)
	f.Set(func(op, _ string) error {
		if op == "fchmod" {
			return syscall.EPERM
		}
		return nil
	})
	if _, err := s.Load(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) || !errors.Is(err, syscall.EPERM) {
		t.Errorf("Load = %v; want ErrStoreUnavailable wrapping EPERM", err)
	}
	_ = os.Chmod(filepath.Dir(s.Path()), 0o755)
	f.Set(func(op, _ string) error {
		if op == "chmod" {
			return syscall.EPERM
		}
		return nil
	})
	if _, err := s.Load(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) {
		t.Errorf("Load with an unfixable directory = %v; want ErrStoreUnavailable", err)
	}
}

func TestLoadRefusesNonRegular(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(path string) error
	}{
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }},
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"symlink to a valid file", func(p string) error {
			target := p + ".real"
			if err := os.WriteFile(target, []byte(wantFile), 0o600); err != nil {
				return err
			}
			return os.Symlink(target, p)
		}},
		{"dangling symlink", func(p string) error { return os.Symlink("/nonexistent", p) }},
	} {
		for _, which := range []string{"credentials.json", "credentials.json.pending"} {
			t.Run(tt.name+"/"+which, func(t *testing.T) {
				s := newStore(t, nil)
				dir := filepath.Dir(s.Path())
				_ = os.MkdirAll(dir, 0o700)
				target := filepath.Join(dir, which)
				if err := tt.make(target); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { _, err := s.Load(t.Context()); done <- err }()
				select {
				case err := <-done:
					if !errors.Is(err, flow.ErrStoreUnavailable) || !strings.Contains(err.Error(), target) {
						t.Errorf("Load = %v; want ErrStoreUnavailable naming %s", err, target)
					}
				case <-time.After(10 * time.Second): // a failure detector, not a timing assumption
					t.Fatal("Load blocked")
				}
				if fi, err := os.Lstat(target); err != nil || fi.Mode().IsRegular() {
					t.Errorf("the target was changed: %v", err)
				}
			})
		}
	}
}

func TestLoadCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := newStore(t, nil).Load(ctx); !errors.Is(err, flow.ErrInterrupted) {
		t.Errorf("Load = %v; want ErrInterrupted", err)
	}
}

func TestLoadDoesNotShowSecretsInWarnings(t *testing.T) {
	s := newStore(t, nil)
	writeRaw(t, s.Path(), bytes.Replace([]byte(wantFile), []byte(`"version": 1`), []byte(`"version": 7`), 1), 0o666)
	snap, _ := s.Load(t.Context())
	if len(snap.Warnings) != 2 {
		t.Fatalf("warnings %q; want mode and corrupt", snap.Warnings)
	}
	for _, w := range snap.Warnings {
		if strings.Contains(w, testSecret) {
			t.Errorf("warning shows the secret: %q", w)
		}
	}
}

// A --credentials file outside a directory named enroll must not make, say,
// a home directory 0700; a world-writable one is refused instead.
func TestForeignDirectoryModes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		mode    os.FileMode
		refused bool
	}{
		{"0755 left alone with a warning", 0o755, false},
		{"0777 refused", 0o777, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "home")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			s := Open(Options{Path: filepath.Join(dir, "creds.json")})
			snap, err := s.Load(t.Context())
			if tt.refused {
				if !errors.Is(err, flow.ErrStoreUnavailable) {
					t.Fatalf("Load err = %v, want ErrStoreUnavailable", err)
				}
				// Nor will it keep an answer there.
				if err := s.Prepare(t.Context()); !errors.Is(err, flow.ErrStoreUnavailable) {
					t.Fatalf("Prepare err = %v, want ErrStoreUnavailable", err)
				}
				return
			}
			if err != nil || len(snap.Warnings) != 1 {
				t.Fatalf("Load = %+v, %v", snap, err)
			}
			if m := perm(t, dir); m != tt.mode {
				t.Errorf("dir mode %04o, want it unchanged %04o", m, tt.mode)
			}
		})
	}
}
