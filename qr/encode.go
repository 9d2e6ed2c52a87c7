package qr

import (
	"fmt"

	"github.com/skip2/go-qrcode"
)

// encode returns the module matrix of text, drawn by github.com/skip2/go-qrcode
// at error correction level Medium, without its border: we draw our own
// quiet zone, whose width depends on the space. Medium recovers 15% damage,
// enough for glare on a screen, while keeping long links small.
//
// go-qrcode builds all eight masked symbols to choose one, about a
// millisecond for a 120-byte link: as much as a frame's budget, so screens
// encode ahead, off the render path ([Cache.Prepare]).
func encode(text string) ([][]bool, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: cannot encode %d bytes: %w", len(text), err)
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}
