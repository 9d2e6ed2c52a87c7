package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"enroll/flow"
)

// checkAnswer refuses an accept answer that cannot be stored as the
// service issued it and read back by enroll (DESIGN §5): a kept field whose
// JSON text is not valid UTF-8 (encoding/json would quietly put U+FFFD in
// its place, storing a secret that differs from the issued one), a field
// over its size (MaxAnswerID, MaxAnswerSecret, MaxAnswerName), or an id,
// client id or secret of a shape no client credential has. Its messages
// name fields, never values: the answer holds the secret.
func checkAnswer(obj []byte, cb ClientBody) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(obj, &fields); err != nil {
		return kindErr(flow.ErrBadResponse, nil, "accept: the answer is not valid JSON%s", jsonWhere(err))
	}
	for key, lit := range fields {
		// encoding/json matches keys without regard to case.
		if kept(key) && !faithful(lit) {
			return kindErr(flow.ErrBadResponse, nil, "accept: the answer's %s is not valid UTF-8, so it cannot be stored as the service issued it",
				flow.SanitizeMax(key, 40))
		}
	}
	for _, f := range []struct {
		name, value string
		max         int
		vschar      bool
	}{
		{"id", cb.ID, MaxAnswerID, true},
		{"clientId", cb.ClientID, MaxAnswerID, true},
		{"clientSecret", cb.ClientSecret, MaxAnswerSecret, true},
		{"name", cb.Name, MaxAnswerName, false},
	} {
		switch {
		case len(f.value) > f.max:
			return kindErr(flow.ErrBadResponse, nil, "accept: the answer's %s is %d bytes long; enroll stores at most %d", f.name, len(f.value), f.max)
		case f.vschar && !vschar(f.value):
			return kindErr(flow.ErrBadResponse, nil, "accept: the answer's %s holds characters a client credential cannot (RFC 6749: printable ASCII)", f.name)
		case f.vschar && f.value != strings.TrimSpace(f.value):
			return kindErr(flow.ErrBadResponse, nil, "accept: the answer's %s begins or ends with white space", f.name)
		}
	}
	return nil
}

// kept reports whether key is one of the answer's fields that enroll keeps.
func kept(key string) bool {
	for _, k := range []string{"id", "clientId", "client_id", "clientSecret", "client_secret", "name"} {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

// vschar reports whether s is RFC 6749 VSCHAR text: %x20-7E.
func vschar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// faithful reports whether a JSON value decodes without loss: a string
// literal must be valid UTF-8 and its \u escapes must not be lone
// surrogates, which encoding/json replaces with U+FFFD. Other values are
// the type check's business. lit is valid JSON (it was decoded already).
func faithful(lit []byte) bool {
	if len(lit) < 2 || lit[0] != '"' {
		return true
	}
	s := lit[1 : len(lit)-1]
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\' && s[i+1] == 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if !utf16.IsSurrogate(r) {
				continue
			}
			if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' || utf16.DecodeRune(r, hex4(s[i+2:i+6])) == utf8.RuneError {
				return false
			}
			i += 6
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				return false
			}
			i += n
		}
	}
	return true
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}
