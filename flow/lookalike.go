package flow

import "golang.org/x/net/idna"

// LookAlike reports a host name written with letters outside ASCII, which
// can imitate another name (a Cyrillic "а" for a Latin "a" looks the same
// on screen), and gives its ASCII form ("xn--…"), which cannot. It is
// shown where a person decides whether to trust a server. ascii is "" when
// the name has no valid ASCII form.
func LookAlike(host string) (ascii string, lookalike bool) {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			a, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", true
			}
			return a, true
		}
	}
	return "", false
}

// LookAlikeWarning is the sentence shown under such a host name.
func LookAlikeWarning(host string) string {
	ascii, ok := LookAlike(host)
	switch {
	case !ok:
		return ""
	case ascii == "":
		return "This name is written with letters outside ASCII that can imitate another name, and it is not a valid international name."
	}
	return "This name is written with letters outside ASCII, which can imitate another name; it is " + Sanitize(ascii) + "."
}
