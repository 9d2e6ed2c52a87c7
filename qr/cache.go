package qr

import (
	"errors"
	"sync"
)

// ErrNotReady is returned by [Cache.Peek] for a text that is not encoded
// yet: the screen says the code is being prepared.
var ErrNotReady = errors.New("qr: the code is not encoded yet")

// maxTexts is how many texts a Cache keeps encoded. A wizard shows one code
// at a time; the others spare a code prepared by one command from being
// pushed out by another that raced it.
const maxTexts = 4

// Cache remembers codes so that a Bubble Tea View, which runs on every
// frame, does not encode them again each time. Encoding (go-qrcode builds
// all eight mask patterns, about a millisecond for a long link) happens once
// per text, and with [Cache.Prepare] ahead of time, off the render path;
// then [Cache.Peek] in View only draws. Drawing happens once per layout —
// format and quiet zone — that is asked for, so a resize that keeps the
// layout costs a string comparison and a little arithmetic, and a screen
// that tries two layouts on every frame (the hand-off screen: beside the
// text, then above it) draws each only once.
//
// The zero value is ready to use. It is safe for concurrent use: the mutex
// costs nothing noticeable next to a frame, and it spares callers the
// question of which goroutine may call it.
type Cache struct {
	mu      sync.Mutex
	entries []*entry // most recently used first, at most maxTexts
}

// entry is one text's encoding and its drawings.
type entry struct {
	text     string
	matrix   [][]bool        // the code without quiet zone
	err      error           // encoding failure, remembered like a result
	drawings map[layout]Code // drawings of matrix; a handful at most
}

// Get returns what Render(text, f, width, height, ascii) would, reusing a
// previous result when text and the chosen layout have not changed. A text
// not yet encoded is encoded here, which takes as long as the encoding.
func (c *Cache) Get(text string, f Format, width, height int, ascii bool) (Code, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.find(text)
	if e == nil {
		m, err := encode(text)
		e = c.store(text, m, err)
	}
	return e.draw(f, width, height, ascii)
}

// Peek is Get without the encoding: for a text not encoded yet it returns
// ErrNotReady at once, so a frame never waits for the encoder.
func (c *Cache) Peek(text string, f Format, width, height int, ascii bool) (Code, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.find(text)
	if e == nil {
		return Code{}, ErrNotReady
	}
	return e.draw(f, width, height, ascii)
}

// Prepare encodes text into the cache, unless it is there already, so that
// Peek and Get of it only draw. It takes as long as the encoding: call it
// off the render path, in a tea.Cmd say. The lock is not held while it
// encodes, so frames asking the cache meanwhile do not wait.
func (c *Cache) Prepare(text string) {
	c.mu.Lock()
	e := c.find(text)
	c.mu.Unlock()
	if e != nil {
		return
	}
	m, err := encode(text)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store(text, m, err)
}

// Ready reports whether text is encoded (or known not to encode), so that
// Peek of it does not return ErrNotReady.
func (c *Cache) Ready(text string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.find(text) != nil
}

// find returns text's entry, moved to the front, or nil. c.mu is held.
func (c *Cache) find(text string) *entry {
	for i, e := range c.entries {
		if e.text == text {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			return e
		}
	}
	return nil
}

// store puts an encoding in front, dropping the least recently used text
// beyond maxTexts; if text is there already (another Prepare was first),
// that entry stays. c.mu is held.
func (c *Cache) store(text string, m [][]bool, err error) *entry {
	if e := c.find(text); e != nil {
		return e
	}
	e := &entry{text: text, matrix: m, err: err}
	if len(c.entries) < maxTexts {
		c.entries = append(c.entries, nil)
	}
	copy(c.entries[1:], c.entries)
	c.entries[0] = e
	return e
}

// draw returns the entry's code in the layout chosen for the space, drawn
// once per layout.
func (e *entry) draw(f Format, width, height int, ascii bool) (Code, error) {
	if e.err != nil {
		return Code{}, e.err
	}
	l, err := choose(len(e.matrix), f, width, height, ascii, false)
	if err != nil {
		return Code{}, err
	}
	code, ok := e.drawings[l]
	if !ok {
		if e.drawings == nil {
			e.drawings = map[layout]Code{}
		}
		code = draw(e.matrix, l)
		e.drawings[l] = code
	}
	return code, nil
}
