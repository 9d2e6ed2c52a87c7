package qr

import "sync"

// Cache remembers the last code so that a Bubble Tea View, which runs on
// every frame, does not encode it again each time. Encoding (which tries all
// eight mask patterns) happens only when the text changes; drawing happens
// only when the chosen layout — format and quiet zone — changes, so a resize
// that keeps the layout costs a string comparison and a little arithmetic.
//
// The zero value is ready to use. It is safe for concurrent use: the mutex
// costs nothing noticeable next to a frame, and it spares callers the
// question of which goroutine may call it.
type Cache struct {
	mu sync.Mutex

	text    string
	encoded bool     // matrix/encErr are for text
	matrix  [][]bool // the code without quiet zone
	encErr  error    // encoding failure, remembered like a result
	drawn   bool     // code is valid for lay
	lay     layout   // layout of code
	code    Code     // last drawing
}

// Get returns what Render(text, f, width, height, ascii) would, reusing the
// previous result when text and the chosen layout have not changed.
func (c *Cache) Get(text string, f Format, width, height int, ascii bool) (Code, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if !c.encoded || text != c.text {
		c.text, c.encoded, c.drawn = text, true, false
		c.matrix, c.encErr = encode(text)
	}
	if c.encErr != nil {
		return Code{}, c.encErr
	}
	l, err := choose(len(c.matrix), f, width, height, ascii)
	if err != nil {
		return Code{}, err
	}
	if !c.drawn || l != c.lay {
		c.code, c.lay, c.drawn = draw(c.matrix, l), l, true
	}
	return c.code, nil
}
