package qr

import (
	"errors"
	"sync"
	"testing"
	"unsafe"
)

// same reports whether two codes share one drawing (no redraw happened).
func same(a, b Code) bool {
	return a == b && unsafe.StringData(a.Text) == unsafe.StringData(b.Text)
}

func TestCache(t *testing.T) {
	var c Cache
	get := func(text string, f Format, w, h int, ascii bool) Code {
		t.Helper()
		code, err := c.Get(text, f, w, h, ascii)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Render(text, f, w, h, ascii)
		if err != nil || want != code {
			t.Fatalf("Get differs from Render(%q, %s, %d, %d, %v)", text, f, w, h, ascii)
		}
		return code
	}

	a := get(emulatorLink, FormatAuto, 120, 60, false)
	// Resizes that keep the layout reuse the drawing.
	if b := get(emulatorLink, FormatAuto, 130, 55, false); !same(a, b) {
		t.Fatal("redrawn on a resize within the same layout")
	}
	if b := get(emulatorLink, FormatBG, 0, 0, false); !same(a, b) {
		t.Fatal("redrawn when auto and explicit chose the same layout")
	}
	// A layout change redraws; so does the quiet zone shrinking.
	if b := get(emulatorLink, FormatAuto, 80, 24, false); b.Format != FormatSmall {
		t.Fatalf("got %s, want small", b.Format)
	}
	if b := get(emulatorLink, FormatAuto, 200, 46, false); b.Height != 45 {
		t.Fatalf("height %d, want 45 (quiet zone 2)", b.Height)
	}
	// A new text redraws.
	if b := get(goldenLink, FormatAuto, 120, 60, false); b.Text == a.Text {
		t.Fatal("text change not redrawn")
	}
	// Too small is reported, and the cache recovers on a larger size.
	if _, err := c.Get(emulatorLink, FormatAuto, 20, 10, false); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("want ErrTooSmall, got %v", err)
	}
	get(emulatorLink, FormatAuto, 120, 60, false)
}

func TestCacheNoWorkPerFrame(t *testing.T) {
	var c Cache
	if _, err := c.Get(emulatorLink, FormatAuto, 120, 60, false); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() { _, _ = c.Get(emulatorLink, FormatAuto, 121, 61, false) })
	if allocs != 0 {
		t.Errorf("cache hit allocates %v times", allocs)
	}
	// An encoding failure is remembered too, not retried every frame.
	long := makeLink(3000)
	if _, err := c.Get(long, FormatAuto, 0, 0, false); err == nil {
		t.Fatal("want an encoding error")
	}
	allocs = testing.AllocsPerRun(100, func() { _, _ = c.Get(long, FormatAuto, 0, 0, false) })
	if allocs != 0 {
		t.Errorf("cached encoding error allocates %v times", allocs)
	}
}

func TestCacheConcurrent(t *testing.T) {
	var c Cache
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text := []string{emulatorLink, goldenLink}[i%2]
			for j := range 20 {
				if i%4 == 1 {
					c.Prepare(text) // a command encoding ahead while frames draw
				}
				if _, err := c.Peek(text, FormatAuto, 60+j*4, 40, false); err != nil && !errors.Is(err, ErrTooSmall) && !errors.Is(err, ErrNotReady) {
					t.Error(err)
				}
				if _, err := c.Get(text, FormatAuto, 60+j*4, 40, i%3 == 0); err != nil && !errors.Is(err, ErrTooSmall) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// A screen that asks for two layouts on every frame (the hand-off screen
// tries the code beside its text, then above it) gets each drawing once.
func TestCacheKeepsEachLayout(t *testing.T) {
	var c Cache
	small, err := c.Get(emulatorLink, FormatAuto, 80, 24, false)
	if err != nil {
		t.Fatal(err)
	}
	large, err := c.Get(emulatorLink, FormatAuto, 120, 60, false)
	if err != nil || large.Format == small.Format {
		t.Fatalf("want two layouts, got %s and %s (%v)", small.Format, large.Format, err)
	}
	again, _ := c.Get(emulatorLink, FormatAuto, 80, 24, false)
	if !same(small, again) {
		t.Fatal("the first layout was drawn again after the second")
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = c.Get(emulatorLink, FormatAuto, 80, 24, false)
		_, _ = c.Get(emulatorLink, FormatAuto, 120, 60, false)
	})
	if allocs != 0 {
		t.Errorf("alternating layouts allocates %v times a frame", allocs)
	}
}

// Prepare encodes ahead so that Peek, which never encodes, draws the code;
// before it, Peek says the code is not ready, without encoding.
func TestCachePrepare(t *testing.T) {
	var c Cache
	if _, err := c.Peek(emulatorLink, FormatAuto, 120, 60, false); !errors.Is(err, ErrNotReady) {
		t.Fatalf("before Prepare: want ErrNotReady, got %v", err)
	}
	if c.Ready(emulatorLink) {
		t.Fatal("Peek encoded the text")
	}
	c.Prepare(emulatorLink)
	if !c.Ready(emulatorLink) {
		t.Fatal("not ready after Prepare")
	}
	got, err := c.Peek(emulatorLink, FormatAuto, 120, 60, false)
	want, _ := Render(emulatorLink, FormatAuto, 120, 60, false)
	if err != nil || got != want {
		t.Fatalf("Peek after Prepare differs from Render (%v)", err)
	}
	if again, _ := c.Get(emulatorLink, FormatAuto, 120, 60, false); !same(got, again) {
		t.Fatal("Get drew again what Peek drew")
	}
	allocs := testing.AllocsPerRun(100, func() {
		c.Prepare(emulatorLink)
		_, _ = c.Peek(emulatorLink, FormatAuto, 121, 61, false)
	})
	if allocs != 0 {
		t.Errorf("Prepare and Peek of a prepared text allocate %v times", allocs)
	}
	// A failure to encode is prepared too: Peek reports it, not ErrNotReady.
	c.Prepare("")
	if _, err := c.Peek("", FormatAuto, 0, 0, false); err == nil || errors.Is(err, ErrNotReady) {
		t.Fatalf("empty text: want an encoding error, got %v", err)
	}
}

// Codes prepared by commands that raced each other stay ready: the cache
// keeps the last few texts, and drops the least recently used.
func TestCacheKeepsRecentTexts(t *testing.T) {
	var c Cache
	texts := []string{emulatorLink, goldenLink, makeLink(40), makeLink(120)}
	for _, text := range texts {
		c.Prepare(text)
	}
	for _, text := range texts {
		if !c.Ready(text) {
			t.Fatalf("%q dropped among %d texts", text, len(texts))
		}
	}
	// texts[0] is now the least recently used: a fifth text drops it.
	c.Prepare(makeLink(300))
	if c.Ready(texts[0]) || !c.Ready(texts[1]) || !c.Ready(makeLink(300)) {
		t.Fatal("not the least recently used text dropped")
	}
}
