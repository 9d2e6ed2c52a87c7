package qr

// The symbol: function patterns, format information, the data path, masks and their penalties (ISO/IEC 18004 §7.7–7.9).

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
