package qr

import "sync"

// Cache remembers the last code so that a Bubble Tea View, which runs on
// every frame, does not encode it again each time. Encoding (which tries all
// eight mask patterns) happens only when the text changes; drawing happens
// once per layout — format and quiet zone — that is asked for, so a resize
// that keeps the layout costs a string comparison and a little arithmetic,
// and a screen that tries two layouts on every frame (the hand-off screen:
// beside the text, then above it) draws each only once.
//
// The zero value is ready to use. It is safe for concurrent use: the mutex
// costs nothing noticeable next to a frame, and it spares callers the
// question of which goroutine may call it.
type Cache struct {
	mu sync.Mutex

	text     string
	encoded  bool            // matrix/encErr are for text
	matrix   [][]bool        // the code without quiet zone
	encErr   error           // encoding failure, remembered like a result
	drawings map[layout]Code // drawings of matrix; a handful at most
}

// Get returns what Render(text, f, width, height, ascii) would, reusing a
// previous result when text and the chosen layout have not changed.
func (c *Cache) Get(text string, f Format, width, height int, ascii bool) (Code, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if !c.encoded || text != c.text {
		c.text, c.encoded, c.drawings = text, true, nil
		c.matrix, c.encErr = encode(text)
	}
	if c.encErr != nil {
		return Code{}, c.encErr
	}
	l, err := choose(len(c.matrix), f, width, height, ascii)
	if err != nil {
		return Code{}, err
	}
	code, ok := c.drawings[l]
	if !ok {
		if c.drawings == nil {
			c.drawings = map[layout]Code{}
		}
		code = draw(c.matrix, l)
		c.drawings[l] = code
	}
	return code, nil
}
