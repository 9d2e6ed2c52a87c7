package qr

import (
	"errors"
	"fmt"
	"testing"
)

// TestChoose is the auto-format table for the emulator link (41×41 modules).
// Sizes per layout, quiet zone 4/3/2:
// large and ascii 98×49, 94×47, 90×45; small 49×25, 47×24, 45×23.
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
		ascii         bool
		want          want
	}{
		{FormatAuto, 0, 0, false, want{FormatLarge, 98, 49, false}},     // unlimited
		{FormatAuto, 200, 60, false, want{FormatLarge, 98, 49, false}},  // roomy
		{FormatAuto, 98, 49, false, want{FormatLarge, 98, 49, false}},   // exact
		{FormatAuto, 97, 49, false, want{FormatLarge, 94, 47, false}},   // quiet 3
		{FormatAuto, 200, 45, false, want{FormatLarge, 90, 45, false}},  // quiet 2
		{FormatAuto, 89, 200, false, want{FormatSmall, 49, 25, false}},  // too narrow for large
		{FormatAuto, 80, 24, false, want{FormatSmall, 47, 24, false}},   // classic terminal
		{FormatAuto, 80, 23, false, want{FormatSmall, 45, 23, false}},   // quiet 2
		{FormatAuto, 44, 23, false, want{"", 45, 23, true}},             // one column short
		{FormatAuto, 45, 22, false, want{"", 45, 23, true}},             // one row short
		{FormatAuto, 0, 20, false, want{"", 45, 23, true}},              // unlimited width only
		{FormatAuto, 200, 60, true, want{FormatASCII, 98, 49, false}},   // ascii terminal
		{FormatAuto, 90, 45, true, want{FormatASCII, 90, 45, false}},    // ascii, quiet 2
		{FormatAuto, 80, 24, true, want{"", 90, 45, true}},              // ascii never falls back to blocks
		{FormatSmall, 200, 60, false, want{FormatSmall, 49, 25, false}}, // explicit small
		{FormatSmall, 200, 60, true, want{FormatSmall, 49, 25, false}},  // explicit wins over ascii
		{FormatLarge, 80, 24, false, want{"", 90, 45, true}},            // explicit large too big
		{FormatASCII, 0, 0, false, want{FormatASCII, 98, 49, false}},    // explicit ascii
		{FormatLarge, -1, -1, false, want{FormatLarge, 98, 49, false}},  // negative = unlimited
		{FormatSmall, 45, 23, false, want{FormatSmall, 45, 23, false}},  // exact minimum
		{FormatSmall, 46, 24, false, want{FormatSmall, 45, 23, false}},  // quiet 3 needs 47
		{FormatAuto, 94, 46, false, want{FormatLarge, 90, 45, false}},   // large q2 beats small q4
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%dx%d/ascii=%v", tt.f, tt.width, tt.height, tt.ascii)
		t.Run(name, func(t *testing.T) {
			code, err := Render(emulatorLink, tt.f, tt.width, tt.height, tt.ascii)
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
		"ascii": FormatASCII, " ASCII ": FormatASCII,
	} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "tiny", "utf8"} {
		_, err := ParseFormat(in)
		if err == nil || err.Error() != fmt.Sprintf("qr: unknown format %q (want auto, small, large or ascii)", in) {
			t.Errorf("ParseFormat(%q): got %v", in, err)
		}
	}
	if _, err := Render("x", "tiny", 0, 0, false); err == nil {
		t.Error("Render accepted an unknown format")
	}
}

func TestEncodeError(t *testing.T) {
	// 3000 bytes exceed version 40 at level Medium (2331 bytes).
	if _, err := Render(makeLink(3000), FormatAuto, 0, 0, false); err == nil || errors.Is(err, ErrTooSmall) {
		t.Fatalf("want an encoding error, got %v", err)
	}
}
