package qr

import "testing"

// BenchmarkRender is the full cost without a cache: encoding (go-qrcode
// builds all eight masked symbols) plus drawing, for a typical 120-byte
// invitation link.
func BenchmarkRender(b *testing.B) {
	link := makeLink(120)
	for _, f := range []Format{FormatSmall, FormatLarge, FormatBG, FormatASCII, FormatAuto} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(link, f, 0, 0, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode is the encoding alone, skip2/go-qrcode's, for the same
// link: what Cache.Prepare runs off the render path.
func BenchmarkEncode(b *testing.B) {
	link := makeLink(120)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(link); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheHit is what View() pays per frame, resizing within a layout.
func BenchmarkCacheHit(b *testing.B) {
	link := makeLink(120)
	var c Cache
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := c.Get(link, FormatAuto, 200+i%2, 60, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheRedraw is a resize that changes the layout: drawing only,
// the encoded matrix is reused.
func BenchmarkCacheRedraw(b *testing.B) {
	link := makeLink(120)
	var c Cache
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		w := []int{200, 60}[i%2] // large, then small
		if _, err := c.Get(link, FormatAuto, w, 60, false); err != nil {
			b.Fatal(err)
		}
	}
}
