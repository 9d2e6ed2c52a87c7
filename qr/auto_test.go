package qr

import (
	"errors"
	"fmt"
	"testing"
)

// TestChoose is the auto-format table for the emulator link (41×41 modules).
// Sizes per layout, quiet zone 4/3/2: bg, large and ascii 98×49, 94×47,
// 90×45; bg narrow 49×49, 47×47, 45×45; small 49×25, 47×24, 45×23.
func TestChoose(t *testing.T) {
	if m, _ := encode(emulatorLink); len(m) != 41 {
		t.Fatalf("emulator link is %d modules, table assumes 41", len(m))
	}
	type want struct {
		format        Format
		width, height int // the code's size, or the minimum when too small
		tooSmall      bool
	}
	tests := []struct {
		f             Format
		width, height int
		ascii, plain  bool
		want          want
	}{
		{FormatAuto, 0, 0, false, false, want{FormatBG, 98, 49, false}},       // unlimited
		{FormatAuto, 200, 60, false, false, want{FormatBG, 98, 49, false}},    // roomy
		{FormatAuto, 98, 49, false, false, want{FormatBG, 98, 49, false}},     // exact
		{FormatAuto, 97, 49, false, false, want{FormatBG, 94, 47, false}},     // quiet 3
		{FormatAuto, 200, 45, false, false, want{FormatBG, 90, 45, false}},    // quiet 2
		{FormatAuto, 94, 46, false, false, want{FormatBG, 90, 45, false}},     // wide q2 beats narrow q4
		{FormatAuto, 89, 200, false, false, want{FormatSmall, 49, 25, false}}, // too narrow for bg: half blocks, never bg narrow
		{FormatAuto, 200, 44, false, false, want{FormatSmall, 49, 25, false}}, // too low for a row a module
		{FormatAuto, 80, 24, false, false, want{FormatSmall, 47, 24, false}},  // classic terminal
		{FormatAuto, 80, 23, false, false, want{FormatSmall, 45, 23, false}},  // quiet 2
		{FormatAuto, 44, 23, false, false, want{"", 45, 23, true}},            // one column short
		{FormatAuto, 45, 22, false, false, want{"", 45, 23, true}},            // one row short
		{FormatAuto, 0, 20, false, false, want{"", 45, 23, true}},             // unlimited width only
		// No block glyphs (the Linux console, no UTF-8): background colour only.
		{FormatAuto, 200, 60, true, false, want{FormatBG, 98, 49, false}},
		{FormatAuto, 90, 45, true, false, want{FormatBG, 90, 45, false}},
		{FormatAuto, 128, 47, true, false, want{FormatBG, 94, 47, false}},
		{FormatAuto, 80, 45, true, false, want{FormatBG, 45, 45, false}},  // narrow: one cell a module
		{FormatAuto, 89, 200, true, false, want{FormatBG, 49, 49, false}}, // narrow, quiet 4
		{FormatAuto, 89, 200, true, false, want{FormatBG, 49, 49, false}},
		{FormatAuto, 80, 24, true, false, want{"", 45, 45, true}}, // never falls back to glyphs
		// No escape sequence (a pipe, a file, TERM=dumb): half blocks only,
		// which decode off the screen in every font where full blocks do not.
		{FormatAuto, 0, 0, false, true, want{FormatSmall, 49, 25, false}},
		{FormatLarge, 0, 0, false, true, want{FormatLarge, 98, 49, false}},
		{FormatAuto, 80, 24, false, true, want{FormatSmall, 47, 24, false}},
		{FormatAuto, 0, 0, true, true, want{FormatASCII, 98, 49, false}},
		{FormatBG, 0, 0, false, true, want{FormatBG, 98, 49, false}},
		// Explicit formats.
		{FormatSmall, 200, 60, false, false, want{FormatSmall, 49, 25, false}}, // explicit small
		{FormatSmall, 200, 60, true, false, want{FormatSmall, 49, 25, false}},  // explicit wins over ascii
		{FormatLarge, 80, 24, false, false, want{"", 90, 45, true}},            // explicit large too big
		{FormatASCII, 0, 0, false, false, want{FormatASCII, 98, 49, false}},    // explicit ascii
		{FormatLarge, -1, -1, false, false, want{FormatLarge, 98, 49, false}},  // negative = unlimited
		{FormatSmall, 45, 23, false, false, want{FormatSmall, 45, 23, false}},  // exact minimum
		{FormatSmall, 46, 24, false, false, want{FormatSmall, 45, 23, false}},  // quiet 3 needs 47
		{FormatBG, 60, 50, false, false, want{FormatBG, 49, 49, false}},        // explicit bg, narrow
		{FormatBG, 80, 24, false, false, want{"", 45, 45, true}},               // explicit bg too big
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%dx%d/ascii=%v/plain=%v", tt.f, tt.width, tt.height, tt.ascii, tt.plain)
		t.Run(name, func(t *testing.T) {
			code, err := Render(emulatorLink, tt.f, tt.width, tt.height, tt.ascii)
			if tt.plain {
				code, err = RenderPlain(emulatorLink, tt.f, tt.width, tt.height, tt.ascii)
			}
			if tt.want.tooSmall {
				var small *TooSmallError
				if !errors.Is(err, ErrTooSmall) || !errors.As(err, &small) {
					t.Fatalf("want *TooSmallError, got %v", err)
				}
				if small.NeedWidth != tt.want.width || small.NeedHeight != tt.want.height {
					t.Fatalf("need %d×%d, want %d×%d", small.NeedWidth, small.NeedHeight, tt.want.width, tt.want.height)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{code.Format, code.Width, code.Height, false}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"auto": FormatAuto, "small": FormatSmall, "large": FormatLarge,
		"bg": FormatBG, " BG ": FormatBG, "ascii": FormatASCII, " ASCII ": FormatASCII,
	} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "tiny", "utf8"} {
		_, err := ParseFormat(in)
		if err == nil || err.Error() != fmt.Sprintf("qr: unknown format %q (want auto, small, large, bg or ascii)", in) {
			t.Errorf("ParseFormat(%q): got %v", in, err)
		}
	}
	if _, err := Render("x", "tiny", 0, 0, false); err == nil {
		t.Error("Render accepted an unknown format")
	}
	if got := FormatNames(); got != "auto, small, large, bg or ascii" {
		t.Errorf("FormatNames() = %q", got)
	}
}

func TestEncodeError(t *testing.T) {
	// 3000 bytes exceed version 40 at level Medium (2331 bytes).
	if _, err := Render(makeLink(3000), FormatAuto, 0, 0, false); err == nil || errors.Is(err, ErrTooSmall) {
		t.Fatalf("want an encoding error, got %v", err)
	}
}
