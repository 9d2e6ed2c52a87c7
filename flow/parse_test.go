package flow

import (
	"errors"
	"strings"
	"testing"
)

// parseTok uses every character class of the token alphabet, '+' and '/'
// included, so that decoding mistakes show.
const parseTok = "k3Y-Inv_Tok.en~9+8/7="

// pathTok is a token that can stand in a path segment unescaped.
const pathTok = "Abc123-_.~xyz"

func TestParseInvitationAccepts(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl-_x"
	link := "https://idp.example.com/invitation?token=" + parseTok
	web := func(tok string, src Source) Invitation {
		return Invitation{Token: tok, Source: src, Origin: "https://idp.example.com", Host: "idp.example.com"}
	}
	bare := Invitation{Token: parseTok, Source: SourceToken}
	tests := []struct {
		name string
		in   string
		want Invitation
	}{
		// The bare token and what wraps a paste.
		{"bare token", parseTok, bare},
		{"bare JWT-like token", jwt, Invitation{Token: jwt, Source: SourceToken}},
		{"bare token 8 chars", "abcdefgh", Invitation{Token: "abcdefgh", Source: SourceToken}},
		{"bare token 2048 chars", strings.Repeat("a", 2048), Invitation{Token: strings.Repeat("a", 2048), Source: SourceToken}},
		{"surrounding white space", " \t" + parseTok + " \n", bare},
		{"CRLF", parseTok + "\r\n", bare},
		{"bracketed paste", "\x1b[200~" + parseTok + "\x1b[201~", bare},
		{"bracketed paste with newline", "\x1b[200~" + parseTok + "\r\n\x1b[201~\r", bare},
		{"byte-order mark from a token file", "\ufeff" + parseTok + "\n", bare},
		{"double-quoted token", `"` + parseTok + `"`, bare},
		{"angle-bracketed token", "<" + parseTok + ">", bare},
		{"typographic quotes", "“" + parseTok + "”", bare},
		{"scanner symbology prefix and Enter", "]Q1" + parseTok + "\r", bare},
		{"query part alone", "token=" + parseTok, Invitation{Token: parseTok, Source: SourceQuery}},
		{"query part with question mark", "?invitationToken=" + parseTok, Invitation{Token: parseTok, Source: SourceQuery}},

		// https links.
		{"https token param", link, web(parseTok, SourceQuery)},
		{"https invitationToken param", "https://idp.example.com/x?invitationToken=" + parseTok, web(parseTok, SourceQuery)},
		{"https t param", "https://idp.example.com/x?t=" + parseTok, web(parseTok, SourceQuery)},
		{"https code param", "https://idp.example.com/x?code=" + parseTok, web(parseTok, SourceQuery)},
		{"param name case", "https://idp.example.com/x?InvitationTOKEN=" + parseTok, web(parseTok, SourceQuery)},
		{"other params around", "https://idp.example.com/x?lang=fi&token=" + parseTok + "&utm_source=mail", web(parseTok, SourceQuery)},
		{"token beats code", "https://idp.example.com/x?code=zzzzzzzzzz&token=" + parseTok, web(parseTok, SourceQuery)},
		{"percent-escaped token", "https://idp.example.com/x?token=k3Y-Inv_Tok.en~9%2B8%2F7%3D", web(parseTok, SourceQuery)},
		{"literal plus is not a space", "https://idp.example.com/x?token=ab+cd+efgh", web("ab+cd+efgh", SourceQuery)},
		{"HTML-escaped ampersand", "https://idp.example.com/x?lang=fi&amp;token=" + parseTok, web(parseTok, SourceQuery)},
		{"same token twice", "https://idp.example.com/x?token=" + parseTok + "&token=" + parseTok, web(parseTok, SourceQuery)},
		{"same token in query and fragment", link + "#token=" + parseTok, web(parseTok, SourceQuery)},
		{"same token escaped and not", link + "&token=k3Y-Inv_Tok.en~9%2B8%2F7%3D", web(parseTok, SourceQuery)},
		{"token in fragment", "https://idp.example.com/accept#token=" + parseTok, web(parseTok, SourceFragment)},
		{"token in fragment route", "https://idp.example.com/app#/accept?token=" + parseTok, web(parseTok, SourceFragment)},
		{"invitations path", "https://idp.example.com/x/invitations/" + pathTok, web(pathTok, SourcePath)},
		{"invitation path trailing slash", "https://idp.example.com/invitation/" + pathTok + "/", web(pathTok, SourcePath)},
		{"invitations path escaped slash", "https://idp.example.com/invitations/k3Y-Inv_Tok.en~9+8%2F7=", web(parseTok, SourcePath)},
		{"invitations path in fragment route", "https://idp.example.com/#/invitations/" + pathTok, web(pathTok, SourceFragment)},
		{"query wins over path", "https://idp.example.com/invitations/accept-invitation?token=" + parseTok, web(parseTok, SourceQuery)},
		{"upper-case scheme and host", "HTTPS://IDP.Example.COM/x?token=" + parseTok, web(parseTok, SourceQuery)},
		{"default port dropped", "https://idp.example.com:443/x?token=" + parseTok, web(parseTok, SourceQuery)},
		{"port kept", "https://idp.example.com:8443/x?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "https://idp.example.com:8443", Host: "idp.example.com"}},
		{"https IPv6", "https://[2001:DB8::1]:8443/x?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "https://[2001:db8::1]:8443", Host: "2001:db8::1"}},

		// Loopback http: the emulator and tests.
		{"emulator link", "http://127.0.0.1:43117/invitation?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "http://127.0.0.1:43117", Host: "127.0.0.1"}},
		{"http localhost", "http://LocalHost:8080/invitation?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "http://localhost:8080", Host: "localhost"}},
		{"http 127/8", "http://127.8.9.10/invitation?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "http://127.8.9.10", Host: "127.8.9.10"}},
		{"http IPv6 loopback", "http://[::1]:9000/invitation?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "http://[::1]:9000", Host: "::1"}},
		{"http IPv6 loopback long form", "http://[0:0:0:0:0:0:0:1]:80/invitation?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "http://[::1]", Host: "::1"}},

		// Custom-scheme links.
		{"custom scheme", "enroll://accept?token=" + parseTok, Invitation{Token: parseTok, Source: SourceScheme}},
		{"custom scheme with dots", "com.example.enroll://accept?invitationToken=" + parseTok, Invitation{Token: parseTok, Source: SourceScheme}},
		{"custom scheme fragment", "enroll://accept#token=" + parseTok, Invitation{Token: parseTok, Source: SourceScheme}},

		// Links in surrounding text.
		{"link in mail text", "Hello,\r\n\r\nOpen this: <" + link + "> thanks\r\n", web(parseTok, SourceQuery)},
		{"link in double quotes", `href="` + link + `"`, web(parseTok, SourceQuery)},
		{"link in single quotes", "'" + link + "'", web(parseTok, SourceQuery)},
		{"link in parentheses", "(see " + link + ")", web(parseTok, SourceQuery)},
		{"markdown link", "[Accept](" + link + ")", web(parseTok, SourceQuery)},
		{"link in square brackets", "[" + link + "]", web(parseTok, SourceQuery)},
		{"trailing full stop", "Accept it at " + link + ".", web(parseTok, SourceQuery)},
		{"trailing punctuation", "Here: " + link + "!?;,", web(parseTok, SourceQuery)},
		{"scanner symbology prefix", "]Q1" + link + "\r\n", web(parseTok, SourceQuery)},
		{"scanner text prefix", "QR:" + link + "\t", web(parseTok, SourceQuery)},
		{"prefix glued to scheme", "SCAN" + link, web(parseTok, SourceQuery)},
		{"4096 bytes", link + strings.Repeat(" ", 4096-len(link)), web(parseTok, SourceQuery)},
		{"bracketed paste link", "\x1b[200~" + link + "\x1b[201~", web(parseTok, SourceQuery)},
		{"first link without token skipped", "Help: https://help.example.com/faq\nAccept: " + link, web(parseTok, SourceQuery)},
		{"first link with token wins", link + " or https://other.example.com/x?token=zzzzzzzzzz", web(parseTok, SourceQuery)},
		{"unsafe link before a good one", "javascript:alert(1) " + link, web(parseTok, SourceQuery)},
		{"control characters outside the link", "\x1b[1mAccept\x1b[0m " + link, web(parseTok, SourceQuery)},

		// Look-alike hosts parse; the host is shown as it is.
		{"punycode host", "https://xn--pple-43d.com/x?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "https://xn--pple-43d.com", Host: "xn--pple-43d.com"}},
		{"unicode look-alike host", "https://\u0430pple.COM/x?token=" + parseTok,
			Invitation{Token: parseTok, Source: SourceQuery, Origin: "https://\u0430pple.com", Host: "\u0430pple.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInvitation(tt.in)
			if err != nil {
				t.Fatalf("ParseInvitation(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseInvitation(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseInvitationRefuses(t *testing.T) {
	link := "https://idp.example.com/invitation?token="
	tests := []struct {
		name   string
		in     string
		want   string // part of the message
		secret string // must not be in the message; parseTok when empty
	}{
		{"empty", "", "the invitation is empty", ""},
		{"white space only", " \r\n\t", "the invitation is empty", ""},
		{"bracketed paste of nothing", "\x1b[200~\x1b[201~", "the invitation is empty", ""},
		{"4097 bytes", strings.Repeat("a", 4097), "the input is longer than 4096 bytes; an invitation link is far shorter", strings.Repeat("a", 20)},
		{"4097 bytes of link", link + parseTok + strings.Repeat("x", 4097-len(link+parseTok)), "longer than 4096 bytes", ""},

		// Characters that hide or rewrite text.
		{"NUL", "k3Y-Inv\x00_Tok.en", `a control character \x00`, "_Tok.en"},
		{"ESC", parseTok + "\x1b[31m", `a control character \x1b`, ""},
		{"C1 CSI", "k3Y-Inv\u009b_Tok.en", `a control character \x9b`, "_Tok.en"},
		{"DEL", "k3Y-Inv\x7f_Tok.en", `a control character \x7f`, "_Tok.en"},
		{"bidi override", "k3Y-Inv\u202e_Tok.en", `a text-direction character \u202e`, "_Tok.en"},
		{"bidi isolate", "k3Y-Inv\u2066_Tok.en", `a text-direction character \u2066`, "_Tok.en"},
		{"zero-width space", "k3Y-Inv\u200b_Tok.en", `an invisible character \u200b`, "_Tok.en"},
		{"zero-width joiner", "k3Y-Inv\u200d_Tok.en", `an invisible character \u200d`, "_Tok.en"},
		{"BOM inside", "k3Y-Inv\ufeff_Tok.en", `an invisible character \ufeff`, "_Tok.en"},
		{"line break inside", "k3Y-Inv\n_Tok.en", `a line break \x0a`, "_Tok.en"},
		{"tab inside", "k3Y-Inv\t_Tok.en", `a tab \x09`, "_Tok.en"},
		{"invalid UTF-8", "k3Y-Inv\xff_Tok.en", `not valid UTF-8 (byte \xff)`, "_Tok.en"},
		{"ESC in a link's token", link + "k3Y-Inv\x1b_Tok.en", `a control character \x1b`, "_Tok.en"},
		{"escaped ESC in a link's token", link + "k3Y-Inv%1B_Tok.en", `a control character \x1b`, "_Tok.en"},
		{"escaped bidi in a link's token", link + "k3Y-Inv%E2%80%AE_Tok.en", `a text-direction character \u202e`, "_Tok.en"},
		{"zero-width in a link's token", link + "k3Y-Inv\u200b_Tok.en", `an invisible character \u200b`, "_Tok.en"},
		{"escaped invalid UTF-8", link + "k3Y-Inv%FF_Tok.en", `not valid UTF-8 (byte \xff)`, "_Tok.en"},

		// Unsafe links.
		{"javascript", "javascript:alert('" + parseTok + "')", "javascript: links are not accepted", ""},
		{"javascript mixed case", "JaVaScRiPt:alert(1)//?token=" + parseTok, "javascript: links are not accepted", ""},
		{"javascript with slashes", "javascript://%0Aalert(1)?token=" + parseTok, "javascript: links are not accepted", ""},
		{"file", "file:///etc/passwd?token=" + parseTok, "file: links are not accepted", ""},
		{"data", "data:text/html;base64,PHNjcmlwdD4=?token=" + parseTok, "data: links are not accepted", ""},
		{"vbscript", "vbscript:msgbox(1)", "vbscript: links are not accepted", ""},
		{"blob", "blob:https://idp.example.com/0b2f?token=" + parseTok, "blob: links are not accepted", ""},
		{"javascript in text", "Click: javascript:go(1)", "javascript: links are not accepted", ""},
		{"user info", "https://idp.example.com@evil.example/invitation?token=" + parseTok,
			"the link hides its real host behind a user name before \"@\"; it goes to evil.example", ""},
		{"user info without token", "https://good@evil.example/", "hides its real host", ""},
		{"user and password", "https://idp.example.com:" + pathTok + "@evil.example/x", "it goes to evil.example", pathTok},
		{"password with a slash", "https://idp.example.com:" + parseTok + "@evil.example/x", "the link has no invitation token in it", "inv_tok"},
		{"http not loopback", "http://idp.example.com/invitation?token=" + parseTok,
			"insecure http link to idp.example.com; only https is accepted", ""},
		{"http look-alike loopback", "http://localhost.evil.example/x?token=" + parseTok, "insecure http link", ""},
		{"http 0.0.0.0", "http://0.0.0.0:8080/x?token=" + parseTok, "insecure http link", ""},
		{"http IPv6 not loopback", "http://[::2]/x?token=" + parseTok, "insecure http link to ::2", ""},
		{"http IPv6 with zone", "http://[::1%25lo]/x?token=" + parseTok, "not a valid IPv6 address", ""},
		{"broken IPv6", "https://[::1/x?token=" + parseTok, "not a valid IPv6 address", ""},

		// Ambiguous or broken links.
		{"different tokens", link + parseTok + "&token=zzzzzzzzzz", `two different values for its "token" parameter`, ""},
		{"different tokens other order", link + "zzzzzzzzzz&token=" + parseTok, `two different values`, ""},
		{"different tokens query and fragment", link + parseTok + "#token=zzzzzzzzzz", `two different values`, ""},
		{"different tokens name case", link + parseTok + "&TOKEN=zzzzzzzzzz", `two different values`, ""},
		{"different codes", "https://idp.example.com/x?code=" + parseTok + "&code=zzzzzzzzzz", `"code" parameter`, ""},
		{"broken escape", link + "k3Y%zzInv_Tok.en", "broken %-escape", "Inv_Tok.en"},
		{"broken escape in path", "https://idp.example.com/invitations/Inv_Tok.en%z", "broken %-escape", "Inv_Tok.en"},
		{"no token", "https://idp.example.com/help", "the link to idp.example.com has no invitation token in it", ""},
		{"empty token param", link, "has no invitation token", ""},
		{"no token in mail text", "Questions? See https://help.example.com/faq.", "the link to help.example.com has no invitation token", ""},
		{"app link without token", "enroll://accept", "the app link has no invitation token in it", ""},
		{"IPv6 bracket kept", "[http://[::1]]", "the link to ::1 has no invitation token", ""},
		{"refusal beats no token", "See https://help.example.com/faq or http://evil.example/x?token=" + parseTok, "insecure http link to evil.example", ""},
		{"no host", "https:///invitation?token=" + parseTok, "the link has no host", ""},
		{"bad host character", "https://idp!example.com/x?token=" + parseTok, `host contains a character that is not allowed: "!"`, ""},
		{"backslash host trick", `https://evil.example\.idp.example.com/x?token=` + parseTok, `not allowed: "\"`, ""},
		{"ESC in host", "https://idp\x1b.example.com/x?token=" + parseTok, `host contains a control character \x1b`, ""},
		{"bidi in host", "https://moc.\u202eelpmaxe/x?token=" + parseTok, `host contains a text-direction character \u202e`, ""},
		{"invalid UTF-8 in host", "https://idp\xff.example.com/x?token=" + parseTok, `host is not valid UTF-8 (byte \xff)`, ""},
		{"port too big", "https://idp.example.com:99999/x?token=" + parseTok, "port is not a number from 1 to 65535", ""},
		{"port zero", "https://idp.example.com:0/x?token=" + parseTok, "port is not a number", ""},
		{"port with sign", "https://idp.example.com:+80/x?token=" + parseTok, "port is not a number", ""},

		// Token alphabet and length.
		{"prose around a bare token", "Your code: " + parseTok, `characters that are not allowed: " ", ":"`, ""},
		{"bad character in a link's token", link + "k3Y-Inv%21_Tok.en", `not allowed: "!"`, "_Tok.en"},
		{"non-ASCII letter", "k3Y-Inv\u00e9_Tok.en", `not allowed: "é"`, "_Tok.en"},
		{"quote character", `k3Y-Inv"_Tok.en`, `not allowed: "\""`, "_Tok.en"},
		{"backslash", `k3Y-Inv\_Tok.en`, `not allowed: "\"`, "_Tok.en"},
		{"too short", "Zq7x", "the token is too short (4 characters; at least 8)", "Zq7x"},
		{"too short in link", link + "Zq7x", "too short", "Zq7x"},
		{"too long", strings.Repeat("Q", 2049), "the token is too long (2049 characters; at most 2048)", strings.Repeat("Q", 9)},
		{"bare query with different values", "token=" + parseTok + "&token=zzzzzzzzzz", "two different values", ""},
		{"bare query with empty value", "token=", "the text has no invitation token in it", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInvitation(tt.in)
			if err == nil {
				t.Fatalf("ParseInvitation(%q) = %+v, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("ParseInvitation(%q) error\n %s\nwant it to contain\n %s", tt.in, msg, tt.want)
			}
			secret := tt.secret
			if secret == "" {
				secret = parseTok
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q shows the token", msg)
			}
			if got != (Invitation{}) {
				t.Errorf("got %+v with the error, want the zero Invitation", got)
			}
		})
	}
}

// TestParseInvitationNeverEchoesInput checks every message against a
// canary token placed in each spot a token can take.
func TestParseInvitationNeverEchoesInput(t *testing.T) {
	const canary = "CanaryTOKEN\x1b"
	spots := []string{
		"%s", "https://idp.example.com/x?token=%s", "http://idp.example.com/x?token=%s",
		"https://idp.example.com/x#token=%s", "https://idp.example.com/invitations/%s",
		"enroll://accept?token=%s", "https://a@b/x?token=%s", "token=%s", "javascript:%s",
		"https://idp.example.com/x?token=ok%s&token=other1234",
	}
	for _, spot := range spots {
		in := strings.Replace(spot, "%s", canary, 1)
		_, err := ParseInvitation(in)
		if err == nil {
			t.Errorf("ParseInvitation(%q) accepted a token with ESC", in)
			continue
		}
		if strings.Contains(err.Error(), "CanaryTOKEN") {
			t.Errorf("ParseInvitation(%q) error %q shows the token", in, err)
		}
	}
}

func BenchmarkParseInvitation(b *testing.B) {
	mail := "Hello,\r\n\r\nYou have been invited to add this device to the group \"Lab printers\" of Example Oy.\r\n" +
		"Questions? See https://help.example.com/faq.\r\n\r\n" +
		"Open this: <https://idp.example.com/invitation?lang=en&token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl-_x> thanks\r\n" +
		"The invitation is valid until 2025-12-31.\r\n"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseInvitation(mail); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLookAlike(t *testing.T) {
	for _, tc := range []struct {
		host, ascii string
		lookalike   bool
	}{
		{"idp.acme.example", "", false},
		{"idp.\u0430cme.example", "idp.xn--cme-5cd.example", true}, // Cyrillic а
		{"xn--cme-8cd.example", "", false},                         // already ASCII: shown as it is
		{"b\u00fccher.example", "xn--bcher-kva.example", true},
	} {
		ascii, ok := LookAlike(tc.host)
		if ascii != tc.ascii || ok != tc.lookalike {
			t.Errorf("LookAlike(%q) = %q, %v; want %q, %v", tc.host, ascii, ok, tc.ascii, tc.lookalike)
		}
		if warn := LookAlikeWarning(tc.host); (warn != "") != tc.lookalike || (tc.ascii != "" && !strings.Contains(warn, tc.ascii)) {
			t.Errorf("LookAlikeWarning(%q) = %q", tc.host, warn)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true, "0:0:0:0:0:0:0:1": true,
		"localhost.": false, "localhost.example.com": false, "127.0.0.1.nip.io": false, "127.0.0.256": false,
		"127.1": false, "::ffff:127.0.0.1": false, "::1%lo": false, "10.0.0.1": false, "": false, "[::1]": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
