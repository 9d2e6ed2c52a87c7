package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// The screenshot test's plumbing: a virtual X display (Xvfb), xterm on it
// running enroll, keys typed with xdotool, the screen captured with xwd
// and read by zbarimg at full and half size.

// xdisplay is an Xvfb server; xvfb picks a free display number itself.
type xdisplay struct {
	name string // ":N"
	cmd  *exec.Cmd
}

func startXvfb(t *testing.T) *xdisplay {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "2400x1500x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	if err := cmd.Start(); err != nil {
		t.Fatalf("Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
		r.Close()
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb did not start")
		}
		return &xdisplay{name: ":" + n, cmd: cmd}
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not say its display within 20 s")
	}
	return nil
}

// x runs an X client on the display and returns its standard output.
func (d *xdisplay) x(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+d.name)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// theme is an xterm colour scheme: its background, foreground and the
// palette's black (0) and white (7), which codes are drawn with.
type theme struct{ name, bg, fg, black, white string }

var themes = []theme{
	{"dark", "#002b36", "#839496", "#073642", "#eee8d5"},  // Solarized dark
	{"light", "#fdf6e3", "#657b83", "#073642", "#eee8d5"}, // Solarized light
	{"vga", "#000000", "#aaaaaa", "#000000", "#aaaaaa"},   // the Linux console's palette: grey on black
}

// xfont is a font xterm draws with (Xft), at a size in points.
type xfont struct {
	family string
	size   int
}

func (f xfont) String() string { return fmt.Sprintf("%s %d", f.family, f.size) }

// xterm is one xterm window running enroll with args; everything it
// writes is logged, so the test knows what is on screen.
type xterm struct {
	t      *testing.T
	d      *xdisplay
	cmd    *exec.Cmd
	log    string
	mark   int
	wid    string
	exited chan struct{}
}

// startXterm opens a cols×rows xterm at the top left corner of the screen
// running `enroll args` with vars on top of a made-up environment (the test
// binary is enroll when its argv[0] says so; see TestMain).
func startXterm(t *testing.T, d *xdisplay, f xfont, th theme, cols, rows int, vars []string, args ...string) *xterm {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	x := &xterm{t: t, d: d, log: filepath.Join(dir, "xterm.log"), exited: make(chan struct{})}
	// xterm sets TERM for its child, and takes LANG for itself: the
	// child's come through other names.
	script := `export TERM="$SHOT_TERM" LANG="$SHOT_LANG"; exec -a enroll "$0" "$@"`
	xargs := []string{"-geometry", fmt.Sprintf("%dx%d+0+0", cols, rows), "-fa", f.family, "-fs", strconv.Itoa(f.size),
		"-bg", th.bg, "-fg", th.fg, "-xrm", "XTerm*color0: " + th.black, "-xrm", "XTerm*color7: " + th.white,
		"-xrm", "XTerm*cursorBlink: false", "-l", "-lf", x.log, "-hold", "-e", "bash", "-c", script, exe}
	x.cmd = exec.Command("xterm", append(xargs, args...)...)
	vars = slices.Clone(vars)
	for i, v := range vars {
		if rest, ok := strings.CutPrefix(v, "TERM="); ok {
			vars[i] = "SHOT_TERM=" + rest
		} else if rest, ok := strings.CutPrefix(v, "LANG="); ok {
			vars[i] = "SHOT_LANG=" + rest
		}
	}
	x.cmd.Env = append([]string{
		"LANG=C.UTF-8", "DISPLAY=" + d.name, "PATH=/usr/bin:/bin", "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"TMPDIR=" + dir, "ENROLL_DEFAULTS=" + filepath.Join(dir, "no-defaults"), "NO_PROXY=127.0.0.1",
		"GORACE=atexit_sleep_ms=0 " + os.Getenv("GORACE"),
	}, vars...)
	if err := x.cmd.Start(); err != nil {
		t.Fatalf("xterm: %v", err)
	}
	go func() { _ = x.cmd.Wait(); close(x.exited) }()
	t.Cleanup(func() { _ = x.cmd.Process.Kill(); <-x.exited })
	for deadline := time.Now().Add(20 * time.Second); x.wid == ""; time.Sleep(50 * time.Millisecond) {
		if out, err := d.x("xdotool", "search", "--onlyvisible", "--pid", strconv.Itoa(x.cmd.Process.Pid)); err == nil {
			x.wid = strings.Fields(string(out))[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("no xterm window after 20 s")
		}
	}
	// Keys go to the window under the pointer (there is no window manager).
	if _, err := d.x("xdotool", "mousemove", "4", "4"); err != nil {
		t.Fatal(err)
	}
	return x
}

// screen is what enroll has written since the last mark, without escapes.
func (x *xterm) raw() string {
	b, _ := os.ReadFile(x.log)
	return string(b[min(x.mark, len(b)):])
}

// waitFor waits until each of texts has been written since the last mark,
// then until the output has been quiet for a moment, and marks the end.
func (x *xterm) waitFor(texts ...string) {
	x.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, missing := ansi.Strip(x.raw()), false
		for _, text := range texts {
			missing = missing || !strings.Contains(s, text)
		}
		if !missing {
			break
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("still waiting for %q; enroll wrote:\n%s", texts, s[max(0, len(s)-1500):])
		}
		time.Sleep(30 * time.Millisecond)
	}
	x.quiet()
}

// quiet waits until nothing has been written for 400 ms (a frame is whole).
func (x *xterm) quiet() {
	last, since := -1, time.Now()
	for time.Since(since) < 400*time.Millisecond {
		time.Sleep(50 * time.Millisecond)
		if n := len(x.raw()); n != last {
			last, since = n, time.Now()
		}
	}
}

// next marks everything written so far as seen.
func (x *xterm) next() {
	b, _ := os.ReadFile(x.log)
	x.mark = len(b)
}

// key presses a key as a person does: alone, after a pause longer than
// the wizard's quiet window (400 ms) for command keys.
func (x *xterm) key(name string) {
	x.t.Helper()
	time.Sleep(600 * time.Millisecond)
	x.next()
	if _, err := x.d.x("xdotool", "key", name); err != nil {
		x.t.Fatal(err)
	}
}

// resize makes the window cols×rows cells; enroll gets SIGWINCH.
func (x *xterm) resize(cols, rows int) {
	x.t.Helper()
	x.next()
	if _, err := x.d.x("xdotool", "windowsize", "--usehints", "--sync", x.wid, strconv.Itoa(cols), strconv.Itoa(rows)); err != nil {
		x.t.Fatal(err)
	}
}

// capture is the xterm window as an image.
func (x *xterm) capture() image.Image {
	x.t.Helper()
	out, err := x.d.x("xwd", "-silent", "-id", x.wid)
	if err != nil {
		x.t.Fatal(err)
	}
	img, err := readXWD(out)
	if err != nil {
		x.t.Fatal(err)
	}
	return img
}

// readXWD reads an X window dump of 24 or 32 bits a pixel (TrueColor), what
// xwd writes for Xvfb's default visual.
func readXWD(b []byte) (image.Image, error) {
	if len(b) < 100 {
		return nil, fmt.Errorf("xwd: %d bytes", len(b))
	}
	be := binary.BigEndian
	header, w, h := int(be.Uint32(b[0:])), int(be.Uint32(b[16:])), int(be.Uint32(b[20:]))
	byteOrder, bpp, stride := be.Uint32(b[28:]), be.Uint32(b[44:]), int(be.Uint32(b[48:]))
	ncolors := int(be.Uint32(b[76:]))
	if bpp != 32 {
		return nil, fmt.Errorf("xwd: %d bits a pixel", bpp)
	}
	pix := b[header+12*ncolors:]
	if len(pix) < h*stride {
		return nil, fmt.Errorf("xwd: %d bytes of pixels for %d×%d", len(pix), w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := pix[y*stride+4*x:]
			v := be.Uint32(p)
			if byteOrder == 0 {
				v = binary.LittleEndian.Uint32(p)
			}
			img.SetRGBA(x, y, color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255})
		}
	}
	return img, nil
}

// half is img at half size, each pixel the average of four: a camera
// further away.
func half(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	for y := 0; y < b.Dy()/2; y++ {
		for x := 0; x < b.Dx()/2; x++ {
			var r, g, bl uint32
			for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				cr, cg, cb, _ := img.At(b.Min.X+2*x+d[0], b.Min.Y+2*y+d[1]).RGBA()
				r, g, bl = r+cr, g+cg, bl+cb
			}
			out.SetRGBA(x, y, color.RGBA{uint8(r >> 10), uint8(g >> 10), uint8(bl >> 10), 255})
		}
	}
	return out
}

// zbar decodes the QR codes in img with zbarimg; "" when it finds none.
// The image is kept in dir for a person to look at.
func zbar(t *testing.T, img image.Image, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", path).Output()
	if err != nil {
		if e, ok := err.(*exec.ExitError); ok && e.ExitCode() == 4 { // no symbol found
			return ""
		}
		t.Fatalf("zbarimg: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n")
}
