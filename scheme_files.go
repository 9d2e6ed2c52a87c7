package main

// The files behind `enroll scheme`: a freedesktop desktop entry that
// handles x-scheme-handler/NAME, and the default-handler line in
// mimeapps.list. Both are plain text that other programs (the desktop, the
// person's own tools) also edit, so every change keeps what it does not own.
// At the end, the terminal window in which the desktop runs `enroll open`.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"enroll/flow"
)

// schemeSyntax is RFC 3986's scheme grammar in lower case: schemes are
// case-insensitive, and freedesktop MIME types are written in lower case.
var schemeSyntax = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// reservedSchemes belong to browsers, mail, the shell and other programs.
// Registering enroll for one would take links away from them, and for
// javascript:, data: or file: would be an invitation to abuse.
var reservedSchemes = map[string]bool{
	"about": true, "blob": true, "callto": true, "chrome": true, "data": true, "dav": true, "davs": true,
	"feed": true, "file": true, "filesystem": true, "ftp": true, "ftps": true, "geo": true, "git": true,
	"http": true, "https": true, "im": true, "intent": true, "irc": true, "ircs": true, "jar": true,
	"javascript": true, "ldap": true, "ldaps": true, "magnet": true, "mailto": true, "market": true,
	"mms": true, "news": true, "nfs": true, "nntp": true, "resource": true, "rtsp": true, "sftp": true,
	"sip": true, "sips": true, "smb": true, "sms": true, "snmp": true, "ssh": true, "steam": true,
	"svn": true, "tel": true, "telnet": true, "urn": true, "vbscript": true, "view-source": true,
	"vnc": true, "webcal": true, "ws": true, "wss": true, "xmpp": true,
}

// validScheme returns name in its canonical (lower-case) form, or a usage
// error saying why it cannot be registered.
func validScheme(name string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(name))
	switch {
	case s == "":
		return "", fmt.Errorf("%w: the scheme is empty", flow.ErrUsage)
	case len(s) > 64 || !schemeSyntax.MatchString(s):
		return "", fmt.Errorf("%w: %q is not a URL scheme: use a letter, then letters, digits, \"-\", \"+\" or \".\" (at most 64), such as acme-devices",
			flow.ErrUsage, flow.SanitizeMax(name, 70))
	case reservedSchemes[s] || strings.HasPrefix(s, "web+"):
		return "", fmt.Errorf("%w: the scheme %q belongs to other programs; choose your own, such as acme-devices", flow.ErrUsage, s)
	}
	return s, nil
}

// desktopID is the desktop entry's file name. Desktop file IDs allow
// letters, digits, "-", "_" and "."; "+" becomes "_", which no scheme
// contains, so two schemes never share a file.
func desktopID(scheme string) string {
	return "enroll-" + strings.ReplaceAll(scheme, "+", "_") + ".desktop"
}

// execReserved are the characters that make the Desktop Entry
// Specification's Exec parser need an argument quoted.
const execReserved = " \t\n\"'\\><~|&;$*?#()`"

// execLine builds an Exec value from argv and a field code (%u) appended
// unquoted, as the specification requires for field codes.
func execLine(argv []string, fieldCode string) (string, error) {
	if strings.Contains(argv[0], "=") {
		// The specification forbids "=" in the program's path.
		return "", fmt.Errorf("%w: the program path %s contains \"=\", which a desktop entry cannot run; install enroll elsewhere",
			flow.ErrUsage, flow.Sanitize(argv[0]))
	}
	quoted := make([]string, 0, len(argv)+1)
	for _, a := range argv {
		if strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return "", fmt.Errorf("%w: %s contains a control character, which a desktop entry cannot hold", flow.ErrUsage, flow.Sanitize(a))
		}
		a = strings.ReplaceAll(a, "%", "%%") // "%" starts a field code
		if a == "" || strings.ContainsAny(a, execReserved) {
			a = `"` + strings.NewReplacer(`"`, `\"`, "`", "\\`", `$`, `\$`, `\`, `\\`).Replace(a) + `"`
		}
		quoted = append(quoted, a)
	}
	quoted = append(quoted, fieldCode)
	// The string-value escape applies on top of the quoting: a backslash
	// is written twice again (so \" in a quoted argument is \\" on disk).
	return strings.ReplaceAll(strings.Join(quoted, " "), `\`, `\\`), nil
}

// desktopEntry is the handler's desktop entry. NoDisplay keeps it out of
// menus: it only opens links. With a wrapping terminal command in Exec,
// Terminal is false so the desktop does not open a second one.
func desktopEntry(scheme, exec string, terminal bool) string {
	return "[Desktop Entry]\n" +
		"# Written by `enroll scheme install`; `enroll scheme remove --scheme " + scheme + "` deletes it.\n" +
		"Type=Application\n" +
		"Version=1.4\n" +
		"Name=Enroll this device (" + scheme + " links)\n" +
		"Comment=Opens " + scheme + ":// invitation links in the enroll wizard\n" +
		"Exec=" + exec + "\n" +
		fmt.Sprintf("Terminal=%t\n", terminal) +
		"NoDisplay=true\n" +
		"MimeType=x-scheme-handler/" + scheme + ";\n"
}

// writeAtomic replaces path by a complete new file (a temporary file in
// the same directory, renamed over it), so a desktop reading mimeapps.list
// meanwhile sees the old or the new file, never half of one. A symlinked
// file (dotfiles kept in a repository) is written where the link points,
// keeping the link. The mode of an existing file is kept.
func writeAtomic(path string, data []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	perm := fs.FileMode(0o644) // neither file holds anything secret
	if fi, err := os.Stat(path); err == nil {
		if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
			return nil // unchanged: do not disturb it
		}
		perm = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// readIfExists reads a file that may not exist yet.
func readIfExists(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}

// xdgDir is an XDG base directory: the variable if it holds an absolute
// path (the specification says to ignore relative ones), else under HOME.
func xdgDir(e env, key, underHome string) (string, error) {
	if v := e.getenv(key); filepath.IsAbs(v) {
		return filepath.Clean(v), nil
	}
	home := e.getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("%w: neither %s nor HOME is an absolute path, so there is no place to register the handler", flow.ErrUsage, key)
	}
	return filepath.Join(home, underHome), nil
}

// findOnPath looks a program up in the env's PATH (not the process's, so
// tests decide). Relative PATH entries are skipped: they would run whatever
// the current directory holds.
func findOnPath(e env, name string) string {
	for _, dir := range filepath.SplitList(e.getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); filepath.IsAbs(dir) && err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// programPath is the path the desktop entry runs: enroll as found on PATH
// when that is this very executable (a /usr/local/bin/enroll symlink to a
// versioned directory survives upgrades), else the executable itself.
func programPath(e env) (string, error) {
	exe, err := os.Executable()
	if err != nil || !filepath.IsAbs(exe) {
		return "", fmt.Errorf("cannot tell where this enroll executable is: %v", err)
	}
	if p := findOnPath(e, "enroll"); p != "" {
		a, errA := os.Stat(p)
		b, errB := os.Stat(exe)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return p, nil
		}
	}
	return exe, nil
}

// refreshDesktopDatabase runs update-desktop-database on the applications
// directory when it is installed: some desktops find handlers through its
// mimeinfo.cache rather than by reading every desktop entry. Its absence is
// normal (the default in mimeapps.list is enough for most); a failure is
// only a warning.
func refreshDesktopDatabase(ctx context.Context, e env, dir string) {
	tool := findOnPath(e, "update-desktop-database")
	if tool == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, tool, dir).CombinedOutput(); err != nil {
		fmt.Fprintf(e.stderr, "enroll: warning: update-desktop-database %s failed (%v): %s\n",
			flow.Sanitize(dir), err, flow.SanitizeMax(strings.TrimSpace(string(out)), 300))
	}
}

// schemePaths are the applications directory, the desktop entry in it and
// the mimeapps.list of this user.
func schemePaths(e env, scheme string) (apps, desktop, mimeapps string, err error) {
	data, err := xdgDir(e, "XDG_DATA_HOME", filepath.Join(".local", "share"))
	if err != nil {
		return "", "", "", err
	}
	config, err := xdgDir(e, "XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", "", "", err
	}
	apps = filepath.Join(data, "applications")
	return apps, filepath.Join(apps, desktopID(scheme)), filepath.Join(config, "mimeapps.list"), nil
}

// storedHere reports whether stored credentials or a journal exist, whose
// server the wizard then uses.
func storedHere(e env, paths ...string) bool {
	stat := os.Stat
	if e.fs != nil {
		stat = e.fs.Stat
	}
	for _, p := range paths {
		if _, err := stat(p); err == nil {
			return true
		}
	}
	return false
}

// handOver reads in on one goroutine and passes it on through a pipe,
// until waitForEnter closes that pipe: from then on the bytes go to the
// returned channel instead, so a reader still blocked on the pipe gets an
// error rather than the person's Enter. The channel closes at the end of in.
// Input typed ahead that the wizard left unread counts as that Enter too.
func handOver(in io.Reader) *handedOver {
	pr, pw := io.Pipe()
	back := make(chan []byte, 1)
	go func() {
		defer close(back)
		buf := make([]byte, 4096)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				chunk := append([]byte(nil), buf[:n]...)
				if w, werr := pw.Write(chunk); werr != nil {
					back <- chunk[w:]
				}
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return &handedOver{pr, back}
}

type handedOver struct {
	*io.PipeReader
	back chan []byte
}

// waitForEnter asks for Enter and waits for it, the end of the input, or
// the window being closed (SIGHUP cancels ctx).
func waitForEnter(ctx context.Context, e env) {
	fmt.Fprint(e.stderr, "Press Enter to close this window.")
	var back <-chan []byte
	if h, ok := e.stdin.(*handedOver); ok {
		h.PipeReader.Close()
		back = h.back
	} else {
		ch := make(chan []byte, 1)
		go func() {
			defer close(ch)
			buf := make([]byte, 256)
			for {
				n, err := e.stdin.Read(buf)
				if n > 0 {
					ch <- append([]byte(nil), buf[:n]...)
				}
				if err != nil {
					return
				}
			}
		}()
		back = ch
	}
	for {
		select {
		case b, ok := <-back:
			if !ok || strings.Contains(string(b), "\n") || strings.Contains(string(b), "\r") {
				fmt.Fprintln(e.stderr)
				return
			}
		case <-ctx.Done():
			return
		}
	}
}
