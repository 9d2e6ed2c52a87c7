package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"enroll/flow"
	"enroll/persist/durable"
)

// Options say what to register, and where: Getenv supplies PATH, HOME and
// the XDG variables (not the process's, so tests decide).
type Options struct {
	Scheme string // the link scheme, validated by Install and Remove
	Server string // the service's URL, put into Exec; "" for none
	// Credentials and CAFile are put into Exec when set, made absolute:
	// the desktop starts the handler in another directory.
	Credentials, CAFile string
	// Terminal wraps the handler ("xterm -e", split at spaces) for
	// desktops that ignore Terminal=true.
	Terminal string
	// Program is the enroll executable the entry runs; "" finds it
	// (ProgramPath).
	Program string
	Getenv  func(string) string
	Root    bool      // run as root: new directories are 0755, not 0700
	Warn    io.Writer // update-desktop-database's failures
}

// Registration is what Install wrote.
type Registration struct {
	Scheme      string `json:"scheme"`
	DesktopFile string `json:"desktopFile,omitempty"`
	Mimeapps    string `json:"mimeapps,omitempty"`
	Exec        string `json:"exec,omitempty"`
	// Previous is the default handler Install replaced, "" if none or
	// its own.
	Previous string `json:"-"`
}

// Install writes the desktop entry and makes it the default handler of
// the scheme. Failures to write are not usage errors: the OS's reason.
func Install(ctx context.Context, o Options) (Registration, error) {
	scheme, err := ValidScheme(o.Scheme)
	if err != nil {
		return Registration{}, err
	}
	prog := o.Program
	if prog == "" {
		if prog, err = ProgramPath(o.Getenv); err != nil {
			return Registration{}, err
		}
	}
	argv := append(strings.Fields(o.Terminal), prog, "open", "--wait")
	if o.Server != "" {
		argv = append(argv, "--server", o.Server)
	}
	for _, f := range []struct{ flag, path string }{{"--credentials", o.Credentials}, {"--ca-file", o.CAFile}} {
		if f.path != "" {
			abs, err := filepath.Abs(f.path)
			if err != nil {
				return Registration{}, err
			}
			argv = append(argv, f.flag, abs)
		}
	}
	// "--" ends the flags: whatever the link holds is never read as one.
	execValue, err := ExecLine(append(argv, "--"), "%u")
	if err != nil {
		return Registration{}, err
	}
	apps, desktop, mimeapps, err := paths(o.Getenv, scheme)
	if err != nil {
		return Registration{}, err
	}
	// New directories are private, as XDG asks, except for root, whose use
	// of this is a system-wide install through XDG_DATA_HOME=/usr/share.
	perm := os.FileMode(0o700)
	if o.Root {
		perm = 0o755
	}
	for _, dir := range []string{apps, filepath.Dir(mimeapps)} {
		if err := os.MkdirAll(dir, perm); err != nil {
			return Registration{}, fmt.Errorf("cannot create %s: %w", flow.Sanitize(dir), err)
		}
	}
	if err := writeShared(desktop, []byte(entry(scheme, execValue, o.Terminal == ""))); err != nil {
		return Registration{}, fmt.Errorf("cannot write the desktop entry: %w", err)
	}
	old, err := readIfExists(mimeapps)
	if err != nil {
		return Registration{}, fmt.Errorf("cannot read %s: %w", flow.Sanitize(mimeapps), err)
	}
	updated, previous := setDefault(old, "x-scheme-handler/"+scheme, ID(scheme))
	if err := writeShared(mimeapps, []byte(updated)); err != nil {
		return Registration{}, fmt.Errorf("cannot write %s: %w", flow.Sanitize(mimeapps), err)
	}
	refresh(ctx, o, apps)
	if strings.TrimSuffix(previous, ";") == ID(scheme) {
		previous = ""
	}
	return Registration{Scheme: scheme, DesktopFile: desktop, Mimeapps: mimeapps, Exec: execValue, Previous: previous}, nil
}

// Remove deletes the desktop entry and the default-handler line, if they
// are there; the Registration names what it removed.
func Remove(ctx context.Context, o Options) (Registration, error) {
	scheme, err := ValidScheme(o.Scheme)
	if err != nil {
		return Registration{}, err
	}
	apps, desktop, mimeapps, err := paths(o.Getenv, scheme)
	if err != nil {
		return Registration{}, err
	}
	res := Registration{Scheme: scheme}
	switch err := os.Remove(desktop); {
	case err == nil:
		res.DesktopFile = desktop
		refresh(ctx, o, apps)
	case !errors.Is(err, fs.ErrNotExist):
		return Registration{}, fmt.Errorf("cannot remove the desktop entry: %w", err)
	}
	old, err := readIfExists(mimeapps)
	if err != nil {
		return Registration{}, fmt.Errorf("cannot read %s: %w", flow.Sanitize(mimeapps), err)
	}
	if updated, removed := removeDefault(old, "x-scheme-handler/"+scheme, ID(scheme)); removed {
		if err := writeShared(mimeapps, []byte(updated)); err != nil {
			return Registration{}, fmt.Errorf("cannot write %s: %w", flow.Sanitize(mimeapps), err)
		}
		res.Mimeapps = mimeapps
	}
	return res, nil
}

// paths are the applications directory, the desktop entry in it and the
// mimeapps.list of this user.
func paths(getenv func(string) string, scheme string) (apps, desktop, mimeapps string, err error) {
	data, err := durable.XDGDir(getenv, "XDG_DATA_HOME", filepath.Join(".local", "share"))
	if err == nil {
		var config string
		if config, err = durable.XDGDir(getenv, "XDG_CONFIG_HOME", ".config"); err == nil {
			apps = filepath.Join(data, "applications")
			return apps, filepath.Join(apps, ID(scheme)), filepath.Join(config, "mimeapps.list"), nil
		}
	}
	return "", "", "", fmt.Errorf("%w: %v, so there is no place to register the handler", flow.ErrUsage, err)
}

// writeShared replaces a file other programs also read, atomically (a
// desktop reading mimeapps.list meanwhile sees the old or the new file).
// A symlinked file (dotfiles kept in a repository) is written where the
// link points, keeping the link; an existing file keeps its mode, and an
// unchanged one is not touched.
func writeShared(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	perm := fs.FileMode(0o644) // neither file holds anything secret
	if fi, err := os.Stat(path); err == nil {
		if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
			return nil
		}
		perm = fi.Mode().Perm()
	}
	return durable.WriteFile(durable.OSFS{}, path, data, perm, durable.NoGroup)
}

// readIfExists reads a file that may not exist yet.
func readIfExists(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}

// findOnPath looks a program up in getenv's PATH. Relative PATH entries
// are skipped: they would run whatever the current directory holds.
func findOnPath(getenv func(string) string, name string) string {
	for _, dir := range filepath.SplitList(getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); filepath.IsAbs(dir) && err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// ProgramPath is the path the desktop entry runs: enroll as found on PATH
// when that is this very executable (a /usr/local/bin/enroll symlink to a
// versioned directory survives upgrades), else the executable itself.
func ProgramPath(getenv func(string) string) (string, error) {
	exe, err := os.Executable()
	if err != nil || !filepath.IsAbs(exe) {
		return "", fmt.Errorf("cannot tell where this enroll executable is: %v", err)
	}
	if p := findOnPath(getenv, "enroll"); p != "" {
		a, errA := os.Stat(p)
		b, errB := os.Stat(exe)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return p, nil
		}
	}
	return exe, nil
}

// refresh runs update-desktop-database on the applications directory when
// it is installed: some desktops find handlers through its mimeinfo.cache
// rather than by reading every desktop entry. Its absence is normal (the
// default in mimeapps.list is enough for most); a failure is a warning.
func refresh(ctx context.Context, o Options, dir string) {
	tool := findOnPath(o.Getenv, "update-desktop-database")
	if tool == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, tool, dir).CombinedOutput(); err != nil && o.Warn != nil {
		fmt.Fprintf(o.Warn, "enroll: warning: update-desktop-database %s failed (%v): %s\n",
			flow.Sanitize(dir), err, flow.SanitizeMax(strings.TrimSpace(string(out)), 300))
	}
}
