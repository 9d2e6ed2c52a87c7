package flow

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const edgeToken = "abcdefgh12345678"

// Inputs that hold an invitation, however oddly wrapped.
func TestParseEdgesThatRead(t *testing.T) {
	for in, want := range map[string]Invitation{
		// An unsafe scheme's name in the query is data, not a link.
		"https://idp.example.com/invitation?token=" + edgeToken + "&next=javascript:void": {Token: edgeToken, Source: SourceQuery, Origin: "https://idp.example.com", Host: "idp.example.com"},
		"https://idp.example.com/i?next=data:text&token=" + edgeToken:                     {Token: edgeToken, Source: SourceQuery, Origin: "https://idp.example.com", Host: "idp.example.com"},
		"Your link:\u2003https://idp.example.com/i?token=" + edgeToken + "\u2003Thanks":   {Token: edgeToken, Source: SourceQuery, Origin: "https://idp.example.com", Host: "idp.example.com"},
		"Link\u00a0https://idp.example.com/i?token=" + edgeToken + "\u00a0(valid a week)": {Token: edgeToken, Source: SourceQuery, Origin: "https://idp.example.com", Host: "idp.example.com"},
		":https://idp.example.com/i?token=" + edgeToken:                                   {Token: edgeToken, Source: SourceQuery, Origin: "https://idp.example.com", Host: "idp.example.com"},
		// Custom schemes may hold letters, digits, "+", "-" and ".".
		"com.example.app://accept?token=" + edgeToken:        {Token: edgeToken, Source: SourceScheme},
		"my-app2://accept?token=" + edgeToken:                {Token: edgeToken, Source: SourceScheme},
		"x+enroll://accept?token=" + edgeToken:               {Token: edgeToken, Source: SourceScheme},
		"see 1my.app://accept?token=" + edgeToken:            {Token: edgeToken, Source: SourceScheme},
		"https://idp.example.com:1/i?token=" + edgeToken:     {Token: edgeToken, Source: SourceQuery, Origin: "https://idp.example.com:1", Host: "idp.example.com"},
		"https://idp.example.com:65535/i?token=" + edgeToken: {Token: edgeToken, Source: SourceQuery, Origin: "https://idp.example.com:65535", Host: "idp.example.com"},
		"]Q1" + edgeToken:     {Token: edgeToken, Source: SourceToken},
		`"` + edgeToken + `"`: {Token: edgeToken, Source: SourceToken},
		"«" + edgeToken + "»": {Token: edgeToken, Source: SourceToken},
	} {
		got, err := ParseInvitation(in)
		if err != nil || got != want {
			t.Errorf("ParseInvitation(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

// Inputs that must be refused, and the reason they give: the reason is
// the person's only clue.
func TestParseEdgesThatAreRefused(t *testing.T) {
	for in, want := range map[string]string{
		// Unsafe schemes are refused wherever the link begins in a word.
		"Click:javascript:alert(1)":                 "javascript: links are not accepted",
		"x!javascript:alert(1)":                     "javascript: links are not accepted",
		"1javascript://x?token=" + edgeToken:        "javascript: links are not accepted",
		"9://javascript:alert":                      "javascript: links are not accepted",
		"https://a.example/ javascript:alert(1)":    "javascript: links are not accepted",
		"javascript:alert(1) https://b.example/":    "javascript: links are not accepted",
		"https://a.example/ and https://b.example/": "the link to a.example has no invitation token",
		// Unbalanced or empty quotes are not unwrapped.
		`"` + edgeToken: "not allowed",
		edgeToken + `"`: "not allowed",
		`'` + edgeToken: "not allowed",
		`"`:             "not allowed",
		`""`:            "too short (0 characters",
		"]Q1":           "the invitation is empty",
		"]Q1 ":          "the invitation is empty",
		// Ports outside 1–65535.
		"https://idp.example.com:0/i?token=" + edgeToken:      "port is not a number from 1 to 65535",
		"https://idp.example.com:65536/i?token=" + edgeToken:  "port is not a number from 1 to 65535",
		"https://idp.example.com:000443/i?token=" + edgeToken: "port is not a number from 1 to 65535",
		"https://idp.example.com:4a3/i?token=" + edgeToken:    "port is not a number from 1 to 65535",
		// An empty user name still hides the host; an empty host is none.
		"https://@evil.example/i?token=" + edgeToken: "it goes to evil.example",
		"https://:443/i?token=" + edgeToken:          "the link has no host",
		// The bidi controls, to both ends of both ranges, are named as
		// such, not as merely invisible.
		edgeToken + "\u202a": "a text-direction character",
		edgeToken + "\u202e": "a text-direction character",
		edgeToken + "\u2066": "a text-direction character",
		edgeToken + "\u2069": "a text-direction character",
		// At most five distinct characters are named.
		"ab!c#d$e%f^g&h*ij": `not allowed: "!", "#", "$", "%", "^" (only`,
		// Schemes are compared without case, to the letters A and Z.
		"JAVASCRIPT:alert(1)": "javascript: links are not accepted",
		"VBSCRIPT:MsgBox(1)":  "vbscript: links are not accepted",
	} {
		_, err := ParseInvitation(in)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseInvitation(%q) = %v; want %q", in, err, want)
		}
	}
}

// A word that is only an unsafe scheme's name with its colon is prose.
func TestFindLinksProse(t *testing.T) {
	for text, want := range map[string][]string{
		"the data: below":       nil,
		"metadata:x":            nil, // a scheme's name inside a word
		"file: see":             nil,
		"data:x":                {"data:x"},
		"(javascript:x)":        {"javascript:x"},
		"a://b":                 {"a://b"},
		"://b":                  nil,
		"no colon here at all.": nil,
	} {
		if got := findLinks(text); !slices.Equal(got, want) {
			t.Errorf("findLinks(%q) = %q, want %q", text, got, want)
		}
	}
}

// asciiLower changes exactly the 26 ASCII capitals, and no byte around them,
// so byte offsets found in its result hold in the original.
func TestASCIILower(t *testing.T) {
	for in, want := range map[string]string{
		"@AZ[":   "@az[",
		"`az{":   "`az{",
		"HTTPS":  "https",
		"Ä\xc3Z": "Ä\xc3z",
	} {
		if got := asciiLower(in); got != want || len(got) != len(in) {
			t.Errorf("asciiLower(%q) = %q, want %q", in, got, want)
		}
	}
}
