package desktop

// Editing mimeapps.list: only our key in [Default Applications] changes; every other byte is kept.

import (
	"slices"
	"strings"
)

const defaultApps = "Default Applications"

// iniSection returns the name of a "[section]" line.
func iniSection(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if len(t) >= 2 && t[0] == '[' && t[len(t)-1] == ']' {
		return t[1 : len(t)-1], true
	}
	return "", false
}

// iniKey returns the key and value of a "key=value" line; comments and
// blank lines have none.
func iniKey(line string) (key, value string, ok bool) {
	t := strings.TrimSpace(line)
	if t == "" || t[0] == '#' {
		return "", "", false
	}
	k, v, ok := strings.Cut(t, "=")
	return strings.TrimSpace(k), strings.TrimSpace(v), ok
}

// lineEnd is a line's own ending ("\n", "\r\n" or none), which an edited
// line keeps.
func lineEnd(l string) string {
	switch {
	case strings.HasSuffix(l, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(l, "\n"):
		return "\n"
	}
	return "" // a lone CR ends no line for a desktop's parser
}

// editDefaults passes the key's lines in every [Default Applications]
// section, with their values, to edit, which returns the line to put in
// their place ("" drops it); every other byte stays as it is.
func editDefaults(content, key string, edit func(line, value string) string) string {
	lines := strings.SplitAfter(content, "\n")
	out := lines[:0:0]
	in := false
	for _, l := range lines {
		if name, ok := iniSection(l); ok {
			in = name == defaultApps
		} else if k, v, ok := iniKey(l); ok && in && k == key {
			if l = edit(l, v); l == "" {
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// setDefault makes id the default application for key: the first existing
// line is replaced (later duplicates, which would be ignored, are dropped);
// without one the line goes after the last entry of the section, or into a
// new section at the end. It returns the value it replaced.
func setDefault(content, key, id string) (string, string) {
	nl := "\n"
	if strings.Contains(content, "\r\n") {
		nl = "\r\n"
	}
	entry := key + "=" + id + ";"
	previous, done := "", false
	content = editDefaults(content, key, func(l, v string) string {
		if done {
			return ""
		}
		previous, done = v, true
		return entry + lineEnd(l)
	})
	if done {
		return content, previous
	}
	entry += nl
	lines := strings.SplitAfter(content, "\n")
	at, in := -1, false
	for i, l := range lines {
		if name, ok := iniSection(l); ok {
			if in {
				break
			}
			if in = name == defaultApps; in {
				at = i
			}
		} else if _, _, ok := iniKey(l); ok && in {
			at = i
		}
	}
	if at < 0 {
		entry = "[" + defaultApps + "]" + nl + entry
		if strings.TrimSpace(content) != "" {
			entry = nl + entry // a blank line before the new section
		}
		at = len(lines) - 1
	}
	if lines[at] != "" && lineEnd(lines[at]) == "" {
		lines[at] += nl
	}
	return strings.Join(slices.Insert(lines, at+1, entry), ""), ""
}

// removeDefault takes id out of the key's list of defaults, dropping the
// line when nothing else is left in it. A default the person has since
// pointed elsewhere stays as it is, byte for byte.
func removeDefault(content, key, id string) (string, bool) {
	removed := false
	content = editDefaults(content, key, func(l, v string) string {
		var keep []string
		mine := false
		for _, a := range strings.Split(v, ";") {
			switch a = strings.TrimSpace(a); {
			case a == id:
				mine = true
			case a != "":
				keep = append(keep, a)
			}
		}
		switch {
		case !mine:
			return l
		case len(keep) == 0:
			removed = true
			return ""
		}
		removed = true
		return key + "=" + strings.Join(keep, ";") + ";" + lineEnd(l)
	})
	return content, removed
}
