package persist

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"enroll/flow"
)

// FuzzLoad feeds arbitrary bytes as the credentials file. Load must not
// panic or fail, must never hand out credentials with an empty required
// field, and must keep every byte of a file it cannot use.
func FuzzLoad(f *testing.F) {
	fsys := &faultFS{NoSync: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil { // only the file is fuzzed
			t.Fatal(err)
		}
		path := filepath.Join(dir, "credentials.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		snap, err := Open(Options{Path: path, Now: fixedNow, FS: fsys}).Load(t.Context())
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		entries, _ := os.ReadDir(dir)
		var files []string
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") { // the lock file
				files = append(files, e.Name())
			}
		}
		switch {
		case snap.Existing != nil:
			checkComplete(t, *snap.Existing)
			if len(files) != 1 || files[0] != "credentials.json" {
				t.Errorf("a usable file was moved: %q", files)
			}
		case len(bytes.TrimSpace(data)) == 0:
			if len(files) != 1 || len(snap.Warnings) != 1 {
				t.Errorf("empty file: files %q, warnings %q", files, snap.Warnings)
			}
		default:
			if len(files) != 1 || files[0] != aside {
				t.Fatalf("corrupt file: directory holds %q; want only %s", files, aside)
			}
			got, err := os.ReadFile(filepath.Join(dir, aside))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("moved-aside bytes differ (%v)", err)
			}
			if len(snap.Warnings) != 1 {
				t.Errorf("warnings %q; want one", snap.Warnings)
			}
		}
	})
}

func checkComplete(t *testing.T, c flow.Credentials) {
	t.Helper()
	if f := missing(c.ID, c.ClientID, c.ClientSecret); f != "" {
		t.Errorf("Load returned credentials without %s: %+v", f, c)
	}
}

func BenchmarkSave(b *testing.B) {
	s := newStore(b, nil)
	mustPrepare(b, s)
	c := testCreds()
	for b.Loop() {
		if err := s.Save(c); err != nil {
			b.Fatal(err)
		}
	}
}
