package qr

import (
	"errors"
	"fmt"
)

// This file is the QR encoder: text in, module matrix out, at error
// correction level Medium. It makes exactly the choices that
// github.com/skip2/go-qrcode makes (the same segments, version, padding and
// mask, so the same matrix, which encode_test.go checks over every version),
// at a fraction of the cost: that library builds eight full symbols from
// bitsets and polynomials allocated bit by bit, about 1.5 ms and 6,000
// allocations for a 120-byte link, while this lays the function patterns and
// the data path out once and tries the eight masks over one flat grid.

var (
	errNoData  = errors.New("no data to encode")
	errTooLong = errors.New("content too long to encode")
)

// encode returns the module matrix without a border (we draw our own quiet
// zone, whose width depends on the space). Level Medium recovers 15% damage,
// enough for glare on a screen, while keeping long links small.
func encode(text string) ([][]bool, error) {
	data := []byte(text)
	if len(data) == 0 {
		return nil, fmt.Errorf("qr: cannot encode 0 bytes: %w", errNoData)
	}
	// Character count fields grow with the version, so each range of
	// versions is tried in turn, the smallest first.
	for _, r := range versionRanges {
		bits, ok := encodeData(data, r)
		if !ok {
			continue
		}
		for v := r.minV; v <= r.maxV; v++ {
			if dataBits(v) >= bits.n {
				return build(v, bits), nil
			}
		}
	}
	return nil, fmt.Errorf("qr: cannot encode %d bytes: %w", len(data), errTooLong)
}

// Segment modes, ordered: each can hold everything the previous can.
type mode uint8

const (
	modeNumeric mode = iota + 1
	modeAlnum
	modeByte
)

// versionRange is a range of versions sharing character count field sizes.
type versionRange struct {
	minV, maxV            int
	numeric, alnum, bytes int // character count bits
}

var versionRanges = [...]versionRange{
	{1, 9, 10, 9, 8},
	{10, 26, 12, 11, 16},
	{27, 40, 14, 13, 16},
}

func (r versionRange) countBits(m mode) int {
	switch m {
	case modeNumeric:
		return r.numeric
	case modeAlnum:
		return r.alnum
	}
	return r.bytes
}

func modeOf(c byte) mode {
	switch {
	case c >= '0' && c <= '9':
		return modeNumeric
	case c == ' ' || c == '$' || c == '%' || c == '*' || c == '+' || c == '-' || c == '.' || c == '/' || c == ':' || (c >= 'A' && c <= 'Z'):
		return modeAlnum
	}
	return modeByte
}

// segLength is the bits of a segment of n characters, or false when its
// count does not fit the count field.
func (r versionRange) segLength(m mode, n int) (int, bool) {
	cb := r.countBits(m)
	if n > 1<<cb-1 {
		return 0, false
	}
	l := 4 + cb
	switch m {
	case modeNumeric:
		l += 10 * (n / 3)
		if n%3 != 0 {
			l += 1 + 3*(n%3)
		}
	case modeAlnum:
		l += 11*(n/2) + 6*(n%2)
	default:
		l += 8 * n
	}
	return l, true
}

type segment struct {
	mode       mode
	start, end int
}

// encodeData splits data into segments the way go-qrcode does (runs of one
// class, merged forward into a following run of a lower class when that
// saves bits, or one segment of the widest class if that is no longer) and
// writes them out.
func encodeData(data []byte, r versionRange) (bitBuffer, bool) {
	var runs []segment
	highest := mode(0)
	for i, c := range data {
		m := modeOf(c)
		if i == 0 || m != runs[len(runs)-1].mode {
			runs = append(runs, segment{mode: m, start: i})
		}
		runs[len(runs)-1].end = i + 1
		highest = max(highest, m)
	}
	var segs []segment
	total := 0
	for i := 0; i < len(runs); {
		m, n := runs[i].mode, runs[i].end-runs[i].start
		j := i + 1
		for ; j < len(runs); j++ {
			next := runs[j]
			nn := next.end - next.start
			if next.mode > m {
				break
			}
			joined, ok1 := r.segLength(m, n+nn)
			apart1, ok2 := r.segLength(m, n)
			apart2, ok3 := r.segLength(next.mode, nn)
			if !ok1 || !ok2 || !ok3 {
				return bitBuffer{}, false
			}
			if joined >= apart1+apart2 {
				break
			}
			n += nn
		}
		segs = append(segs, segment{mode: m, start: runs[i].start, end: runs[j-1].end})
		i = j
	}
	for _, s := range segs {
		l, ok := r.segLength(s.mode, s.end-s.start)
		if !ok {
			return bitBuffer{}, false
		}
		total += l
	}
	single, ok := r.segLength(highest, len(data))
	if !ok {
		return bitBuffer{}, false
	}
	if single <= total {
		segs = []segment{{mode: highest, start: 0, end: len(data)}}
	}

	var b bitBuffer
	for _, s := range segs {
		part := data[s.start:s.end]
		b.add(uint32(1)<<(s.mode-1), 4) // 0001 numeric, 0010 alphanumeric, 0100 byte
		b.add(uint32(len(part)), r.countBits(s.mode))
		switch s.mode {
		case modeNumeric:
			for i := 0; i < len(part); i += 3 {
				v, n := uint32(0), 1
				for j := i; j < len(part) && j < i+3; j++ {
					v = v*10 + uint32(part[j]-'0')
					n += 3
				}
				b.add(v, n)
			}
		case modeAlnum:
			for i := 0; i < len(part); i += 2 {
				if i+1 < len(part) {
					b.add(alnumValue(part[i])*45+alnumValue(part[i+1]), 11)
				} else {
					b.add(alnumValue(part[i]), 6)
				}
			}
		default:
			for _, c := range part {
				b.add(uint32(c), 8)
			}
		}
	}
	return b, true
}

func alnumValue(c byte) uint32 {
	switch {
	case c >= '0' && c <= '9':
		return uint32(c - '0')
	case c >= 'A' && c <= 'Z':
		return uint32(c-'A') + 10
	}
	switch c {
	case ' ':
		return 36
	case '$':
		return 37
	case '%':
		return 38
	case '*':
		return 39
	case '+':
		return 40
	case '-':
		return 41
	case '.':
		return 42
	case '/':
		return 43
	}
	return 44 // ':'
}

// bitBuffer is a sequence of bits, most significant first.
type bitBuffer struct {
	b []byte
	n int
}

func (b *bitBuffer) add(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if b.n%8 == 0 {
			b.b = append(b.b, 0)
		}
		if v>>i&1 != 0 {
			b.b[b.n/8] |= 0x80 >> (b.n % 8)
		}
		b.n++
	}
}
