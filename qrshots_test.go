package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// TestQRShots shows each QR screen — the phone hand-off, Done's id
// (`i`) and `enroll status --qr` — in a real terminal, xterm under Xvfb,
// in the layouts `auto` picks at the smallest windows it picks them in,
// on a UTF-8 terminal and as on the Linux console (TERM=linux, LANG=C),
// captures the window and decodes it with zbarimg at full and half size.
// Every case must decode both ways. The layout drawn is read back from
// what enroll wrote, so the table of README's "QR codes" is checked too.
//
// By default (and in CI: .ci/qrshots installs the tools) a subset runs:
// one font whose block glyphs leave gaps, a dark theme. With
// ENROLL_QRSHOTS=full (bench/qrshots) the whole matrix runs — four fonts
// (DejaVu fills its cells at 12 pt and leaves a seam at 8; Liberation Mono
// 14 and Noto Sans Mono 11 leave stripes), Solarized dark and light and the
// console's VGA palette, and every format forced — and
// ENROLL_QRSHOTS_TABLE names a file for its markdown table; a forced
// format that does not decode is reported there, not failed.
// ENROLL_QRSHOTS_DIR keeps the screenshots (PNG, full and half size).
func TestQRShots(t *testing.T) {
	need(t, "Xvfb", "xterm", "xdotool", "xwd", "zbarimg", "fc-list")
	full := os.Getenv("ENROLL_QRSHOTS") == "full"
	fonts := []xfont{{"Liberation Mono", 14}}
	ths := themes[:1]
	if full {
		fonts = []xfont{{"DejaVu Sans Mono", 12}, {"Liberation Mono", 14}, {"Noto Sans Mono", 11}, {"DejaVu Sans Mono", 8}}
		ths = themes
	}
	for _, f := range fonts {
		if out, _ := exec.Command("fc-list", f.family).Output(); len(out) == 0 {
			if os.Getenv("CI") != "" {
				t.Fatalf("font %q is missing in CI (.ci/qrshots installs it)", f.family)
			}
			t.Skipf("font %q is not installed", f.family)
		}
	}
	start := time.Now()
	var (
		mu   sync.Mutex
		rows []shotRow
	)
	// Each session gets its own X display: two at a time, as many as the
	// CI machine has cores.
	displays := make(chan *xdisplay, 2)
	for range cap(displays) {
		displays <- startXvfb(t)
	}
	t.Run("matrix", func(t *testing.T) {
		for _, f := range fonts {
			for _, th := range ths {
				for _, s := range sessions(full) {
					t.Run(fmt.Sprintf("%s/%s/%s", strings.ReplaceAll(f.String(), " ", "-"), th.name, s.name), func(t *testing.T) {
						t.Parallel()
						d := <-displays
						defer func() { displays <- d }()
						got := s.run(t, d, f, th)
						mu.Lock()
						rows = append(rows, got...)
						mu.Unlock()
					})
				}
			}
		}
	})
	table := shotTable(rows, time.Since(start))
	t.Logf("screenshots (%v):\n%s", time.Since(start).Round(time.Second), table)
	if path := os.Getenv("ENROLL_QRSHOTS_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// shot is one window size of a session and the layout auto must pick there.
type shot struct {
	cols, rows int
	want       string // "small", "bg", "bg narrow", "large" or "ascii"
	width      int    // the code's width in cells
}

// shotSession is one xterm: a screen reached once, then shown at each size.
type shotSession struct {
	name    string
	console bool     // TERM=linux and LANG=C, else TERM=xterm-256color and LANG=C.UTF-8
	dumb    bool     // TERM=dumb: no escape sequences, the terminal's own colours
	args    []string // enroll's
	// note marks a session that is reported, not required to decode: a
	// format forced with --qr-format, or the fallback for outputs that take
	// no escape sequence (README, "QR codes").
	note  string
	reach func(x *xterm) (want string)
	shots []shot
}

// The sessions. The hand-off's address (http://127.0.0.1:PORT/h/…#…) is 41
// modules square, the device's id 29; a layout's width is its side (small,
// bg narrow) or twice it, the side being the modules and a quiet zone of
// 2 to 4 on each side.
func sessions(full bool) []shotSession {
	handoff := []string{"--server", "https://idp.example.com", "--handoff-listen", "127.0.0.1"}
	s := []shotSession{
		{name: "handoff", args: handoff, reach: reachHandoff, shots: []shot{
			{80, 24, "small", 45}, // beside the text, quiet zone 2
			{120, 48, "bg", 90},   // the address below, quiet zone 2
		}},
		{name: "handoff-console", console: true, args: handoff, reach: reachHandoff, shots: []shot{
			{123, 46, "bg", 90},       // beside, quiet zone 2
			{80, 47, "bg narrow", 45}, // beside, quiet zone 2
			{128, 48, "bg", 94},       // a 1024×768 framebuffer console
		}},
		{name: "done-id", args: []string{"demo"}, reach: reachDoneID, shots: []shot{
			{80, 24, "small", 33},
			{80, 40, "bg", 66},
		}},
		{name: "done-id-console", console: true, args: []string{"demo"}, reach: reachDoneID, shots: []shot{
			{80, 40, "bg", 66},
			{60, 40, "bg narrow", 33},
		}},
		{name: "status-small", args: []string{"status", "--qr"}, reach: reachStatus, shots: []shot{{40, 18, "small", 33}}},
		{name: "status-bg", args: []string{"status", "--qr"}, reach: reachStatus, shots: []shot{{66, 34, "bg", 66}}},
		{name: "status-console", console: true, args: []string{"status", "--qr"}, reach: reachStatus, shots: []shot{{66, 34, "bg", 66}}},
		{name: "status-console-narrow", console: true, args: []string{"status", "--qr"}, reach: reachStatus, shots: []shot{{40, 34, "bg narrow", 33}}},
	}
	if full {
		for _, f := range []string{"large", "ascii", "small", "bg"} {
			s = append(s, shotSession{name: "status-forced-" + f, note: "forced", args: []string{"status", "--qr", "--qr-format", f}, reach: reachStatus,
				shots: []shot{{100, 40, f, map[string]int{"large": 74, "ascii": 74, "small": 37, "bg": 74}[f]}}})
		}
		// Outputs without escape sequences: auto's plain rows.
		s = append(s,
			shotSession{name: "status-dumb", dumb: true, note: "no escapes", args: []string{"status", "--qr"}, reach: reachStatus,
				shots: []shot{{66, 34, "small", 37}}},
			shotSession{name: "status-dumb-small", dumb: true, note: "no escapes", args: []string{"status", "--qr"}, reach: reachStatus,
				shots: []shot{{40, 18, "small", 33}}},
			shotSession{name: "status-dumb-ascii", dumb: true, console: true, note: "no escapes", args: []string{"status", "--qr"}, reach: reachStatus,
				shots: []shot{{66, 34, "ascii", 66}}})
	}
	return s
}

// shotRow is one line of the table.
type shotRow struct {
	font, theme, screen, term, window, layout, note string
	raw, half                                       bool
}

// run starts the session's xterm at its first size, reaches the screen,
// then shoots each size.
func (s shotSession) run(t *testing.T, d *xdisplay, f xfont, th theme) []shotRow {
	vars := []string{"TERM=xterm-256color", "LANG=C.UTF-8"}
	switch {
	case s.dumb && s.console:
		vars = []string{"TERM=dumb", "LANG=C"}
	case s.dumb:
		vars = []string{"TERM=dumb", "LANG=C.UTF-8"}
	case s.console:
		vars = []string{"TERM=linux", "LANG=C"}
	}
	if s.reach == nil {
		t.Fatal("no way to the screen")
	}
	var creds string
	if s.args[0] == "status" {
		creds = writeShotCredentials(t)
		vars = append(vars, "ENROLL_CREDENTIALS="+creds)
	}
	var out []shotRow
	var x *xterm
	var want string
	for i, sh := range s.shots {
		if i == 0 {
			x = startXterm(t, d, f, th, sh.cols, sh.rows, vars, s.args...)
			want = s.reach(x)
		} else {
			x.resize(sh.cols, sh.rows)
			x.quiet()
		}
		row := shotRow{font: f.String(), theme: th.name, screen: s.name, term: strings.Join(vars[:2], " "),
			window: fmt.Sprintf("%d×%d", sh.cols, sh.rows), note: s.note}
		layout, width := drawnLayout(x.raw())
		row.layout = fmt.Sprintf("%s, %d cells wide", layout, width)
		if layout != sh.want || width != sh.width {
			t.Errorf("%s: drew %s %d wide, want %s %d wide", row.window, layout, width, sh.want, sh.width)
		}
		img := x.capture()
		// ENROLL_QRSHOTS_DIR keeps the screenshots for a person to see.
		dir := os.Getenv("ENROLL_QRSHOTS_DIR")
		if dir == "" {
			dir = t.TempDir()
		}
		base := filepath.Join(dir, strings.NewReplacer(" ", "-", "×", "x").Replace(fmt.Sprintf("%s-%s-%s-%s", f, th.name, s.name, row.window)))
		row.raw = decodedAs(t, zbar(t, img, base+".png"), want)
		row.half = decodedAs(t, zbar(t, half(img), base+"-half.png"), want)
		if s.note == "" && (!row.raw || !row.half) {
			t.Errorf("%s %s: decodes raw %v, at half size %v (images in %s)", row.window, row.layout, row.raw, row.half, filepath.Dir(base))
		}
		out = append(out, row)
	}
	return out
}

// decodedAs reports whether zbarimg's text is what the screen shows: the
// text itself, or for the hand-off a URL of the page's shape.
func decodedAs(t *testing.T, got, want string) bool {
	if strings.HasPrefix(want, "^") {
		return regexp.MustCompile(want).MatchString(got)
	}
	return got == want
}

// handoffURL is the shape of the hand-off page's address on loopback.
const handoffURL = `^http://127\.0\.0\.1:\d+/h/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}$`

func reachHandoff(x *xterm) string {
	x.waitFor("step 1 of 4")
	x.key("Return")
	x.waitFor("step 2 of 4")
	x.key("ctrl+o")
	x.waitFor("Waiting for your phone")
	return handoffURL
}

func reachDoneID(x *xterm) string {
	x.waitFor("step 1 of 4")
	x.key("Return")
	x.waitFor("tab demo link")
	x.key("Tab")
	x.waitFor("Token read from a link at 127.0.0.1")
	x.key("Return")
	x.waitFor("use this server")
	x.key("y")
	x.waitFor("step 3 of 4")
	x.key("Return")
	x.waitFor("a accept")
	x.key("a")
	x.waitFor("Enrolled")
	x.key("i")
	x.waitFor("Device client id: ")
	m := regexp.MustCompile(`Device client id: ([0-9a-f-]{36})`).FindStringSubmatch(ansi.Strip(x.raw()))
	if m == nil {
		x.t.Fatal("no device client id on the screen")
	}
	return m[1]
}

// shotID is the id in the credentials status --qr reads.
const shotID = "6607a545-3e0c-462c-91aa-9d063f5d056a"

func reachStatus(x *xterm) string {
	x.waitFor("Device client id as a QR code:")
	return shotID
}

func writeShotCredentials(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "enroll", "credentials.json")
	body := `{"version": 1, "server": "https://idp.example.com", "id": "` + shotID + `", "clientId": "4ed1b9f8-b5ce-4b65-be00-9b3b3bae4a36",` +
		` "clientSecret": "ciOujmBNzJPjdelvO7lfNhdwAsonITB7EGMV4pDj-UE", "name": "lab-1", "enrolledAt": "2026-01-02T03:04:05Z"}` + "\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// codeRow matches a row of a code as enroll writes it: bg and small start
// with white-on-black reversed, large with black on white; ascii rows are
// "#" and spaces from end to end, and so are plain large and small rows
// (no escape sequence) with block glyphs.
var codeRow = regexp.MustCompile("\x1b\\[(37;40;7|30;47)m([^\r\n]*?)\x1b\\[0m|(?m)^(##[# ]{16,}##)\r?$|(?m)^([█▀▄][█▀▄ ]{16,}[█▀▄])\r?$")

// drawnLayout reads, from what enroll last wrote, the layout of the code
// on screen and its width in cells: every row of one code is as wide.
func drawnLayout(raw string) (string, int) {
	rows := codeRow.FindAllStringSubmatch(raw, -1)
	if len(rows) == 0 {
		return "none", 0
	}
	last := rows[len(rows)-1]
	switch {
	case last[3] != "":
		return "ascii", len(last[3])
	case last[4] != "":
		// Plain: small has half blocks somewhere, large only full ones.
		for _, r := range rows {
			if strings.ContainsAny(r[4], "▀▄") {
				return "small", ansi.StringWidth(last[4])
			}
		}
		return "large", ansi.StringWidth(last[4])
	case last[1] == "30;47":
		return "large", ansi.StringWidth(last[2])
	}
	width, glyphs, odd := ansi.StringWidth(last[2]), false, false
	for _, r := range slices.Backward(rows) {
		if r[1] != last[1] || ansi.StringWidth(r[2]) != width {
			break
		}
		glyphs = glyphs || strings.ContainsAny(r[2], "▀▄█")
		for _, run := range sgr.Split(r[2], -1) {
			odd = odd || len(run)%2 == 1
		}
	}
	switch {
	case glyphs:
		return "small", width
	case odd: // a run of an odd number of cells: one cell a module
		return "bg narrow", width
	}
	return "bg", width
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// shotTable is the markdown table of the shots.
func shotTable(rows []shotRow, took time.Duration) string {
	slices.SortFunc(rows, func(a, b shotRow) int {
		return strings.Compare(a.font+a.theme+a.screen+a.window, b.font+b.theme+b.screen+b.window)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "| font | theme | screen | TERM, LANG | window | layout drawn | raw | half size |\n|---|---|---|---|---|---|---|---|\n")
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	for _, r := range rows {
		screen := r.screen
		if r.note != "" {
			screen += " (" + r.note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.font, r.theme, screen, r.term, r.window, r.layout, yes(r.raw), yes(r.half))
	}
	fmt.Fprintf(&b, "\n%d screenshots in %v.\n", 2*len(rows), took.Round(time.Second))
	return b.String()
}
