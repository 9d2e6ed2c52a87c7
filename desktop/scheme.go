// Package desktop registers enroll as a freedesktop desktop's handler of
// NAME://accept?token=… links: a desktop entry for x-scheme-handler/NAME,
// and the default-handler line in the user's mimeapps.list. Both are plain
// text that other programs (the desktop, the person's own tools) also
// edit, so every change keeps what it does not own.
package desktop

import (
	"fmt"
	"regexp"
	"strings"

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

// ValidScheme returns name in its canonical (lower-case) form, or a usage
// error saying why it cannot be registered.
func ValidScheme(name string) (string, error) {
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

// ID is the desktop entry's file name. Desktop file IDs allow letters,
// digits, "-", "_" and "."; "+" becomes "_", which no scheme contains, so
// two schemes never share a file.
func ID(scheme string) string {
	return "enroll-" + strings.ReplaceAll(scheme, "+", "_") + ".desktop"
}

// execReserved are the characters that make the Desktop Entry
// Specification's Exec parser need an argument quoted.
const execReserved = " \t\n\"'\\><~|&;$*?#()`"

// ExecLine builds an Exec value from argv and a field code (%u) appended
// unquoted, as the specification requires for field codes.
func ExecLine(argv []string, fieldCode string) (string, error) {
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

// entry is the handler's desktop entry. NoDisplay keeps it out of menus:
// it only opens links. With a wrapping terminal command in Exec, Terminal
// is false so the desktop does not open a second one.
func entry(scheme, exec string, terminal bool) string {
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
