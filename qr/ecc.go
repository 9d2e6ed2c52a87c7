package qr

// Error correction at level Medium: block layout, interleaving and Reed-Solomon over GF(256) (ISO/IEC 18004 §7.5–7.6).

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
