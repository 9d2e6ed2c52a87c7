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

func (b *bitBuffer) bit(i int) bool { return b.b[i/8]&(0x80>>(i%8)) != 0 }

// Level Medium: error correction codewords per block and number of blocks,
// by version (ISO/IEC 18004 table 9).
var (
	eccPerBlock = [41]int{0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
		26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28}
	eccBlocks = [41]int{0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
		17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49}
)

// rawModules is the number of modules of version v that carry data and
// error correction (everything but the function patterns).
func rawModules(v int) int {
	n := (16*v+128)*v + 64
	if v >= 2 {
		a := v/7 + 2
		n -= (25*a-10)*a - 55
		if v >= 7 {
			n -= 36
		}
	}
	return n
}

func dataBits(v int) int { return 8 * (rawModules(v)/8 - eccPerBlock[v]*eccBlocks[v]) }

// build pads the data to version v, adds error correction, and draws the
// symbol with the mask of least penalty.
func build(v int, data bitBuffer) [][]bool {
	capacity := dataBits(v)
	data.add(0, min(4, capacity-data.n)) // terminator
	data.add(0, (8-data.n%8)%8)
	for pad := uint32(0xEC); data.n < capacity; pad ^= 0xEC ^ 0x11 {
		data.add(pad, 8)
	}
	codewords := interleave(v, data.b)

	size := 4*v + 17
	s := newSymbolGrid(size)
	s.functionPatterns(v)
	path := s.dataPath(rawModules(v))

	// The data bits and their coordinates, once for all masks.
	type module struct {
		at   int
		x, y int16
		dark bool
	}
	mods := make([]module, len(path))
	for i, p := range path {
		dark := i/8 < len(codewords) && codewords[i/8]&(0x80>>(i%8)) != 0
		mods[i] = module{at: p, x: int16(p % size), y: int16(p / size), dark: dark}
	}

	best, bestPenalty := -1, 0
	grid, scratch := make([]bool, size*size), make([]bool, size*size)
	var bestGrid []bool
	for mask := range 8 {
		copy(grid, s.dark)
		s.formatInfo(grid, mask)
		for _, m := range mods {
			grid[m.at] = m.dark != masked(mask, int(m.x), int(m.y))
		}
		if pen := penalty(grid, scratch, size); best < 0 || pen < bestPenalty {
			best, bestPenalty = mask, pen
			bestGrid, grid = grid, bestGrid
			if grid == nil {
				grid = make([]bool, size*size)
			}
		}
	}
	m := make([][]bool, size)
	for y := range m {
		m[y] = bestGrid[y*size : (y+1)*size : (y+1)*size]
	}
	return m
}

// interleave splits the data codewords into blocks, adds each block's
// error correction, and interleaves them as the standard lays them out.
func interleave(v int, data []byte) []byte {
	total := rawModules(v) / 8
	nb, ecc := eccBlocks[v], eccPerBlock[v]
	short := total / nb // codewords of a short block
	numShort := nb - total%nb
	gen := rsGenerator(ecc)
	blocks := make([][]byte, nb)
	checks := make([][]byte, nb)
	for i, k := 0, 0; i < nb; i++ {
		n := short - ecc
		if i >= numShort {
			n++
		}
		blocks[i] = data[k : k+n]
		checks[i] = rsRemainder(blocks[i], gen)
		k += n
	}
	out := make([]byte, 0, total)
	for i := 0; i <= short-ecc; i++ {
		for j := range blocks {
			if i < len(blocks[j]) {
				out = append(out, blocks[j][i])
			}
		}
	}
	for i := range ecc {
		for j := range checks {
			out = append(out, checks[j][i])
		}
	}
	return out // the remainder bits after these are zero: dataPath covers them
}

// GF(256) with the QR polynomial x^8+x^4+x^3+x^2+1.
var gfExp, gfLog = func() (exp [512]byte, log [256]byte) {
	x := 1
	for i := range 255 {
		exp[i], exp[i+255] = byte(x), byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	return exp, log
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// rsGenerator returns the coefficients of ∏(x − αⁱ), i < degree, highest
// degree first, without the leading 1.
func rsGenerator(degree int) []byte {
	g := make([]byte, degree)
	g[degree-1] = 1
	root := byte(1)
	for range degree {
		for j := range g {
			g[j] = gfMul(g[j], root)
			if j+1 < len(g) {
				g[j] ^= g[j+1]
			}
		}
		root = gfMul(root, 2)
	}
	return g
}

func rsRemainder(data, gen []byte) []byte {
	r := make([]byte, len(gen))
	for _, b := range data {
		f := b ^ r[0]
		copy(r, r[1:])
		r[len(r)-1] = 0
		for i, g := range gen {
			r[i] ^= gfMul(g, f)
		}
	}
	return r
}

// symbolGrid holds the function patterns of one version; the data and
// format information are laid over a copy per mask.
type symbolGrid struct {
	size       int
	dark, used []bool
}

func newSymbolGrid(size int) *symbolGrid {
	return &symbolGrid{size: size, dark: make([]bool, size*size), used: make([]bool, size*size)}
}

func (s *symbolGrid) set(x, y int, dark bool) {
	s.dark[y*s.size+x], s.used[y*s.size+x] = dark, true
}

// square draws a w×w pattern of rings at (x, y): dark where ring(dx, dy).
func (s *symbolGrid) square(x, y, w int, ring func(dx, dy int) bool) {
	for dy := range w {
		for dx := range w {
			s.set(x+dx, y+dy, ring(dx, dy))
		}
	}
}

func (s *symbolGrid) functionPatterns(v int) {
	n := s.size
	finder := func(dx, dy int) bool {
		return dx == 0 || dx == 6 || dy == 0 || dy == 6 || (dx >= 2 && dx <= 4 && dy >= 2 && dy <= 4)
	}
	for _, at := range [3][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
		s.square(at[0], at[1], 7, finder)
	}
	// Separators: a light row and column beside each finder.
	for i := range 8 {
		s.set(i, 7, false)
		s.set(7, i, false)
		s.set(n-8+i, 7, false)
		s.set(n-8, i, false)
		s.set(i, n-8, false)
		s.set(7, n-8+i, false)
	}
	centers := alignmentCenters(v)
	for _, x := range centers {
		for _, y := range centers {
			if s.used[y*n+x] {
				continue // under a finder pattern
			}
			s.square(x-2, y-2, 5, func(dx, dy int) bool {
				return dx == 0 || dx == 4 || dy == 0 || dy == 4 || (dx == 2 && dy == 2)
			})
		}
	}
	for i := 8; i < n-7; i++ {
		s.set(i, 6, i%2 == 0)
		s.set(6, i, i%2 == 0)
	}
	// Format information: reserved here, written per mask.
	s.formatInfo(s.dark, 0)
	if v >= 7 {
		rem := v
		for range 12 {
			rem = rem<<1 ^ (rem>>11)*0x1F25
		}
		bits := v<<12 | rem
		for i := range 18 {
			dark := bits>>i&1 != 0
			s.set(i/3, n-11+i%3, dark)
			s.set(n-11+i%3, i/3, dark)
		}
	}
}

func alignmentCenters(v int) []int {
	if v == 1 {
		return nil
	}
	num := v/7 + 2
	step := 26
	if v != 32 {
		step = (v*4 + num*2 + 1) / (num*2 - 2) * 2
	}
	c := make([]int, num)
	c[0] = 6
	for i, pos := num-1, 4*v+10; i >= 1; i, pos = i-1, pos-step {
		c[i] = pos
	}
	return c
}

// formatInfo writes the format information of level Medium and mask into
// grid (and marks it used the first time).
func (s *symbolGrid) formatInfo(grid []bool, mask int) {
	n := s.size
	data := mask // level Medium is 00
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	f := (data<<10 | rem) ^ 0x5412
	put := func(x, y, i int) {
		grid[y*n+x] = f>>i&1 != 0
		s.used[y*n+x] = true
	}
	for i := 0; i <= 7; i++ {
		put(n-1-i, 8, i)
	}
	for i := 0; i <= 5; i++ {
		put(8, i, i)
	}
	put(8, 7, 6)
	put(8, 8, 7)
	put(7, 8, 8)
	for i := 9; i <= 14; i++ {
		put(14-i, 8, i)
	}
	for i := 8; i <= 14; i++ {
		put(8, n-7+i-8, i)
	}
	grid[(n-8)*n+8], s.used[(n-8)*n+8] = true, true // the dark module
}

// dataPath lists the grid offsets that data bits fill, in order: column
// pairs from the right, up then down, skipping the vertical timing pattern.
func (s *symbolGrid) dataPath(bits int) []int {
	n := s.size
	path := make([]int, 0, bits)
	x, y, off, up := n-2, n-1, 1, true
	for len(path) < bits {
		path = append(path, y*n+x+off)
		if len(path) == bits {
			break
		}
		for {
			if off == 1 {
				off = 0
			} else {
				off = 1
				switch {
				case up && y > 0:
					y--
				case up:
					up, x = false, x-2
				case y < n-1:
					y++
				default:
					up, x = true, x-2
				}
			}
			if x == 5 {
				x--
			}
			if !s.used[y*n+x+off] {
				break
			}
		}
	}
	return path
}

func masked(mask, x, y int) bool {
	switch mask {
	case 0:
		return (y+x)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (y+x)%3 == 0
	case 4:
		return (y/2+x/3)%2 == 0
	case 5:
		return (y*x)%2+(y*x)%3 == 0
	case 6:
		return ((y*x)%2+(y*x)%3)%2 == 0
	}
	return ((y+x)%2+(y*x)%3)%2 == 0
}

// penalty scores a masked symbol exactly as go-qrcode does (its reading of
// the standard's four rules, finder-like patterns included), so the same
// mask wins. t is scratch space of the grid's size.
func penalty(g, t []bool, n int) int {
	// Rules 1 and 3 look along rows and along columns: the columns are
	// the rows of the transposed grid.
	for y := range n {
		for x, d := range g[y*n : y*n+n] {
			t[x*n+y] = d
		}
	}
	p := linePenalty(g, n) + linePenalty(t, n)
	// Rule 2: 2×2 blocks of one colour.
	blocks := 0
	for y := 1; y < n; y++ {
		above, row := g[(y-1)*n:y*n], g[y*n:y*n+n]
		for x := 1; x < n; x++ {
			c := row[x]
			blocks += b2i(c == row[x-1]) & b2i(c == above[x]) & b2i(c == above[x-1])
		}
	}
	p += 3 * blocks
	// Rule 4: the share of dark modules away from half.
	darkCount := 0
	for _, d := range g {
		darkCount += b2i(d)
	}
	dev := n*n/2 - darkCount
	if dev < 0 {
		dev = -dev
	}
	return p + 10*(dev/(n*n/20))
}

// linePenalty is rules 1 and 3 along the rows of g: runs of five or more
// modules of one colour, and 1:1:3:1:1 finder-like patterns with four light
// modules on one side.
func linePenalty(g []bool, n int) int {
	p := 0
	for y := range n {
		row := g[y*n : y*n+n]
		last, count := row[0], 1
		var buf int16
		if last {
			buf = 1
		}
		for x := 1; x < len(row); x++ {
			v := row[x]
			// Branch-free: the colours are as good as random.
			count = count*b2i(v == last) + 1
			last = v
			p += 4*b2i(count == 6) + b2i(count > 6)
			buf = buf<<1 | int16(b2i(v))
			switch buf & 0x7ff {
			case 0x05d, 0x5d0:
				p += 40
				buf = 0xFF
			default:
				if x == n-1 && buf&0x7f == 0x5d {
					p += 40
					buf = 0xFF
				}
			}
		}
	}
	return p
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
