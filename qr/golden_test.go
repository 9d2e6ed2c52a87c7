package qr

import (
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// TestGolden pins the exact output of each format for a short link.
// Regenerate with: go test ./qr -run Golden -update
func TestGolden(t *testing.T) {
	for _, f := range []Format{FormatSmall, FormatLarge, FormatBG, FormatASCII} {
		t.Run(string(f), func(t *testing.T) {
			code, err := Render(goldenLink, f, 0, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, code.Text)
		})
	}
}
