package qr

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/skip2/go-qrcode"
)

// reference is the matrix go-qrcode draws, which encode must reproduce.
func reference(text string) ([][]bool, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}

// TestEncodeSameAsGoQRCode checks encode against go-qrcode, module for
// module, for every version (1 to 40), for text that takes each segment
// mode and their mixtures, and at the lengths where a count field or a
// version range changes.
func TestEncodeSameAsGoQRCode(t *testing.T) {
	alphabets := []string{
		"0123456789", // numeric
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:",                  // alphanumeric
		"abcdefghijklmnopqrstuvwxyz0123456789-_",                         // a token: bytes
		"0123456789ABC/:abc",                                             // mixed runs
		"é€\x00\xff☃ab12",                                                // non-ASCII and raw bytes
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", // base64-ish
	}
	seed := uint32(7)
	gen := func(alphabet string, n int) string {
		var b strings.Builder
		for b.Len() < n {
			seed = seed*1664525 + 1013904223
			b.WriteByte(alphabet[int(seed>>24)%len(alphabet)])
		}
		return b.String()[:n]
	}
	texts := []string{"x", "0", "A", emulatorLink, goldenLink, makeLink(120), "6607a545-3e0c-462c-91aa-9d063f5d056a",
		"http://192.168.1.23:41234/h/AAECAwQFBgcICQoLDA0ODw#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}
	for _, a := range alphabets {
		for _, n := range []int{1, 2, 3, 7, 20, 41, 62, 122, 180, 256, 400} {
			texts = append(texts, gen(a, n))
		}
	}
	// Every version: a link that fills it.
	for v := 1; v <= 40; v++ {
		cb := 8
		if v >= 10 {
			cb = 16
		}
		n := (dataBits(v) - 4 - cb) / 8
		texts = append(texts, makeLink(max(n, 1)))
	}
	var mu sync.Mutex
	versions := map[int]bool{}
	t.Run("texts", func(t *testing.T) {
		for i, text := range texts {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				want, werr := reference(text)
				got, gerr := encode(text)
				if (werr != nil) != (gerr != nil) {
					t.Fatalf("%d bytes %.20q: go-qrcode says %v, encode says %v", len(text), text, werr, gerr)
				}
				if werr != nil {
					return
				}
				mu.Lock()
				versions[(len(want)-17)/4] = true
				mu.Unlock()
				if err := sameMatrix(got, want); err != nil {
					t.Fatalf("%d bytes %.40q: %v", len(text), text, err)
				}
			})
		}
	})
	for v := 1; v <= 40; v++ {
		if !versions[v] {
			t.Errorf("version %d was not tried", v)
		}
	}
}

func sameMatrix(got, want [][]bool) error {
	if len(got) != len(want) {
		return fmt.Errorf("size %d, want %d", len(got), len(want))
	}
	for y := range want {
		for x := range want[y] {
			if got[y][x] != want[y][x] {
				return fmt.Errorf("module (%d, %d) differs (version %d)", x, y, (len(want)-17)/4)
			}
		}
	}
	return nil
}

func TestEncodeErrors(t *testing.T) {
	if _, err := encode(""); !errors.Is(err, errNoData) {
		t.Errorf("empty: %v", err)
	}
	if _, err := encode(makeLink(2332)); !errors.Is(err, errTooLong) {
		t.Errorf("2332 bytes: %v", err)
	}
	if _, err := encode(strings.Repeat("7", 5597)); !errors.Is(err, errTooLong) { // numeric capacity at M is 5596
		t.Errorf("numeric: %v", err)
	}
}

// BenchmarkEncode is the encoder alone, next to go-qrcode's for the same
// 120-byte link.
func BenchmarkEncode(b *testing.B) {
	link := makeLink(120)
	b.Run("enroll", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encode(link); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-qrcode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reference(link); err != nil {
				b.Fatal(err)
			}
		}
	})
}
