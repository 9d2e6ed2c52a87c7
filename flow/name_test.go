package flow

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateNameAccepts(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "kiosk-12", "kiosk-12"},
		{"one character", "x", "x"},
		{"trimmed", "  lab 1 \t\r\n", "lab 1"},
		{"inner spaces kept", "Lab printer  2", "Lab printer  2"},
		{"no-break space inside", "a\u00a0b", "a\u00a0b"},
		{"NFC combining acute", "e\u0301", "\u00e9"},
		{"NFC in a word", "Cafe\u0301 kiosk", "Caf\u00e9 kiosk"},
		{"NFC Hangul jamo", "\u1112\u1161\u11ab", "\ud55c"},
		{"non-Latin", "東京-受付", "東京-受付"},
		{"Nordic", "Räksmörgås", "Räksmörgås"},
		{"emoji", "🔧 bench", "🔧 bench"},
		{"emoji with variation selector", "☕\ufe0f bar", "☕\ufe0f bar"},
		{"64 characters", strings.Repeat("é", 64), strings.Repeat("é", 64)},
		{"64 after NFC", strings.Repeat("e\u0301", 64), strings.Repeat("\u00e9", 64)},
		{"64 after trimming", "  " + strings.Repeat("a", 64) + "  ", strings.Repeat("a", 64)},
		{"punctuation", "lab/printer #2 (old)", "lab/printer #2 (old)"},
		{"backslash", `DOMAIN\kiosk`, `DOMAIN\kiosk`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateName(tt.in)
			if err != nil {
				t.Fatalf("ValidateName(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ValidateName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateNameRefuses(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "the name is empty"},
		{"white space only", " \t\r\n\u00a0\u3000", "the name is empty"},
		{"65 characters", strings.Repeat("a", 65), "the name is longer than 64 characters (65)"},
		{"70 characters", strings.Repeat("ä", 70), "the name is longer than 64 characters (70)"},
		{"NUL", "lab\x001", `the name contains a control character \x00 at position 4`},
		{"ESC sequence", "\x1b[31mred", `the name contains a control character \x1b at position 1`},
		{"DEL", "lab\x7f", `a control character \x7f at position 4`},
		{"C1 CSI", "lab\u009b2J", `a control character \x9b at position 4`},
		{"tab inside", "lab\t1", `a tab \x09 at position 4`},
		{"newline inside", "lab\n1", `a line break \x0a at position 4`},
		{"line separator inside", "lab\u20281", `a line break \u2028 at position 4`},
		{"bidi override", "lab\u202eevil", `a text-direction character \u202e at position 4`},
		{"bidi isolate", "\u2066lab", `a text-direction character \u2066 at position 1`},
		{"left-to-right mark", "lab\u200e", `a text-direction character \u200e at position 4`},
		{"Arabic letter mark", "lab\u061c", `a text-direction character \u061c at position 4`},
		{"zero-width space", "abcd\u200bef", `the name contains an invisible character \u200b at position 5`},
		{"zero-width joiner", "ab\u200dc", `an invisible character \u200d at position 3`},
		{"word joiner", "ab\u2060c", `an invisible character \u2060 at position 3`},
		{"byte-order mark", "\ufefflab", `an invisible character \ufeff at position 1`},
		{"soft hyphen", "lab\u00ad1", `an invisible character \xad at position 4`},
		{"invalid UTF-8", "ab\xffcd", `the name is not valid UTF-8 (byte \xff at position 3)`},
		{"truncated UTF-8", "ab\xc3", `not valid UTF-8 (byte \xc3 at position 3)`},
		{"replacement character", "lab\ufffd", `a replacement character (a sign of damaged text) \ufffd at position 4`},
		{"position counts characters", "äöü\x1b", `at position 4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateName(tt.in)
			if err == nil {
				t.Fatalf("ValidateName(%q) = %q, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrBadName) {
				t.Errorf("error %v does not wrap ErrBadName", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateName(%q) error\n %s\nwant it to contain\n %s", tt.in, err, tt.want)
			}
			if got != "" {
				t.Errorf("got %q with the error", got)
			}
			if err.Error() != Sanitize(err.Error()) {
				t.Errorf("error %q is not inert", err)
			}
		})
	}
}

func TestDefaultName(t *testing.T) {
	tests := []struct {
		name, host, want string
	}{
		{"first label", "kiosk-12.shop.example", "kiosk-12"},
		{"single label", "raspberrypi", "raspberrypi"},
		{"white space", " lab-3.local\n", "lab-3"},
		{"empty", "", "device"},
		{"empty first label", ".example.com", "device"},
		{"only a dot", ".", "device"},
		{"control characters left out", "host\x1b[31mname", "host[31mname"},
		{"bidi left out", "\u202elab", "lab"},
		{"only invisible characters", "\u200b\u202e.example", "device"},
		{"invalid UTF-8 left out", "ab\xffcd", "abcd"},
		{"only invalid UTF-8", "\xff\xfe", "device"},
		{"backslash kept", `DOMAIN\host.lan`, `DOMAIN\host`},
		{"NFC", "e\u0301cole.lan", "\u00e9cole"},
		{"cut to 64", strings.Repeat("a", 100), strings.Repeat("a", 64)},
		{"cut to 64 runes", strings.Repeat("ö", 100) + ".lan", strings.Repeat("ö", 64)},
		{"cut leaves trailing space trimmed", strings.Repeat("a", 63) + " b", strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultName(tt.host)
			if got != tt.want {
				t.Errorf("DefaultName(%q) = %q, want %q", tt.host, got, tt.want)
			}
			if v, err := ValidateName(got); err != nil || v != got {
				t.Errorf("DefaultName(%q) = %q, which ValidateName gives as %q, %v", tt.host, got, v, err)
			}
		})
	}
}
