// Command report reads what bench/run measured (JSON lines and `go test
// -bench` output in one directory) and prints one markdown table: each
// figure the median of its runs, the peer measured in the same run where
// there is one, the ratio, the budget and whether it is kept. It exits 1 if
// a budget is missed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

type step struct {
	Bytes    float64 `json:"bytes"`
	PerItem  float64 `json:"per_item"`
	Max      float64 `json:"max"`
	MarkHits float64 `json:"mark_hits"`
	PerSec   float64 `json:"per_sec"`
	Count    float64 `json:"count"`
	CPU      float64 `json:"cpu_ms_per_s"`
}

type ptyResult struct {
	FirstFrameMS float64         `json:"first_frame_ms"`
	MaxRSSKB     float64         `json:"max_rss_kb"`
	Queries      map[string]int  `json:"queries"`
	Steps        map[string]step `json:"steps"`
	Error        string          `json:"error"`
}

func main() {
	dir := flag.String("dir", "bench/out", "the directory bench/run wrote")
	flag.Parse()
	r, err := build(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
	fmt.Print(r.String())
	if r.missed > 0 {
		os.Exit(1)
	}
}

type row struct {
	figure, enroll, peer, ratio, budget, ok string
}

type report struct {
	rows   []row
	notes  []string
	missed int
	runs   int
	pace   string
}

// check records a budget: ok is "yes" or "**no**".
func (r *report) check(ok bool) string {
	if ok {
		return "yes"
	}
	r.missed++
	return "**no**"
}

func build(dir string) (*report, error) {
	r := &report{}
	enroll, err := readPTY(filepath.Join(dir, "pty-enroll.jsonl"))
	if err != nil {
		return nil, err
	}
	gum, err := readPTY(filepath.Join(dir, "pty-gum.jsonl"))
	if err != nil {
		return nil, err
	}
	r.runs = len(enroll)
	lines, err := readLines(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		return nil, err
	}
	bench, err := readBench(filepath.Join(dir, "gobench.txt"))
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if m := field(l); m["kind"] == "config" {
			r.pace, _ = m["pace"].(string)
		}
	}

	// Start-up.
	ef, gf := med(enroll, func(p ptyResult) float64 { return p.FirstFrameMS }), med(gum, func(p ptyResult) float64 { return p.FirstFrameMS })
	r.rows = append(r.rows, row{"start to first frame in an 80×24 pty (`enroll demo` / `gum input`)",
		ms(ef), ms(gf), ratio(ef, gf), "ratio ≤ 1.0", r.check(ef <= gf)})
	eq, gq := med(enroll, queries), med(gum, queries)
	r.rows = append(r.rows, row{"terminal queries at start-up (each a round trip, or a stall where nothing answers)",
		num(eq), num(gq), "", "—", ""})

	// Bytes to the terminal.
	inv := med(enroll, stepOf("inv", func(s step) float64 { return s.PerItem }))
	ginv := med(gum, stepOf("inv", func(s step) float64 { return s.PerItem }))
	r.rows = append(r.rows, row{"bytes to the terminal per typed character, Invitation screen (a 43-character token, a key every " + r.pace + ")",
		bytes(inv), bytes(ginv), ratio(inv, ginv), "≤ 64 B", r.check(inv <= 64)})
	hk := med(enroll, stepOf("handoff_keys", func(s step) float64 { return s.PerItem }))
	hkq := med(enroll, stepOf("handoff_keys", func(s step) float64 { return s.MarkHits }))
	r.rows = append(r.rows, row{"bytes per typed character, hand-off screen with the QR code showing (letters; QR rows redrawn)",
		fmt.Sprintf("%s (QR rows: %s)", bytes(hk), num(hkq)), "—", "", "≤ 64 B, QR never redrawn", r.check(hk <= 64 && hkq == 0)})
	hi := med(enroll, stepOf("handoff_idle", func(s step) float64 { return s.Bytes }))
	cd, cdq := one(lines, "countdown", "bytes"), one(lines, "countdown", "qr_rows")
	r.rows = append(r.rows, row{"hand-off screen while nobody types: bytes of one countdown update, once a minute (QR rows among them); bytes in the 2 s watched",
		fmt.Sprintf("%s (QR rows: %s); %s", bytes(cd), num(cdq), bytes(hi)), "—", "", "— (not typing; see below)", ""})
	r.notes = append(r.notes, "Hand-off screen: letters are not text there (the phone's page takes the invitation), so typing them writes nothing. "+
		"What writes while it shows is the countdown; it changes once a minute, and beside the code its line holds a QR row, which the renderer sends with it.")
	ii, gi := med(enroll, stepOf("inv_idle", func(s step) float64 { return s.PerSec })), med(gum, stepOf("inv_idle", func(s step) float64 { return s.PerSec }))
	r.rows = append(r.rows, row{"bytes per second on the Invitation screen while nobody types (cursor blink)",
		bytes(ii), bytes(gi), "", "—", ""})
	ic, gc := med(enroll, stepOf("inv_idle", func(s step) float64 { return s.CPU })), med(gum, stepOf("inv_idle", func(s step) float64 { return s.CPU }))
	r.rows = append(r.rows, row{"CPU time on the Invitation screen while nobody types (ms a second)",
		fmt.Sprintf("%.1f ms", ic), fmt.Sprintf("%.1f ms", gc), ratio(ic, gc), "—", ""})
	hs := med(enroll, stepOf("handoff_screen", func(s step) float64 { return s.Bytes }))
	r.rows = append(r.rows, row{"bytes of the hand-off screen's first frame (QR code of its ~90-character URL, text, help)",
		bytes(hs), "—", "", "—", ""})
	qrE, qrP := one(lines, "qr", "bytes"), one(lines, "qrencode", "bytes")
	r.rows = append(r.rows, row{"bytes of one QR code for a 120-character link (half blocks, quiet zone 4)",
		bytes(qrE), bytes(qrP), ratio(qrE, qrP), "ratio ≤ 1.5", r.check(qrE/qrP <= 1.5)})
	r.notes = append(r.notes, fmt.Sprintf("QR: enroll draws %v×%v modules (level M), dark on an explicit light background; `qrencode -t UTF8` as run draws %v×%v (its default level L), light as blocks, no colours.",
		one(lines, "qr", "modules"), one(lines, "qr", "modules"), one(lines, "qrencode", "modules"), one(lines, "qrencode", "modules")))

	// View() and QR rendering.
	for _, sc := range viewScreens(bench) {
		a, b := bench["BenchmarkView/"+sc+"/80x24"], bench["BenchmarkView/"+sc+"/120x40"]
		worst := max(a, b)
		r.rows = append(r.rows, row{"`View()` " + sc + " (80×24 / 120×40)", micro(a) + " / " + micro(b), "—", "", "≤ 1 ms", r.check(worst <= 1e6)})
	}
	for _, name := range []string{"BenchmarkViewFirstQR/80x24", "BenchmarkViewFirstQR/120x40"} {
		if v, ok := bench[name]; ok {
			r.rows = append(r.rows, row{"`View()` hand-off, first frame: QR code encoded and drawn (" + strings.TrimPrefix(name, "BenchmarkViewFirstQR/") + ")",
				micro(v), "—", "", "≤ 1 ms", r.check(v <= 1e6)})
		}
	}
	if v, ok := bench["BenchmarkKeyView"]; ok {
		r.rows = append(r.rows, row{"one typed character: `Update` + `View()`, Invitation screen", micro(v), "—", "", "—", ""})
	}
	if v, ok := bench["BenchmarkRender/small"]; ok {
		peer := bench["BenchmarkEncode/go-qrcode"]
		r.rows = append(r.rows, row{"QR rendering, 120-byte link: encode + draw (`qr.Render`) / go-qrcode's encoding alone",
			micro(v), micro(peer), ratio(v, peer), "≤ 1 ms", r.check(v <= 1e6)})
	}
	if v, ok := bench["BenchmarkCacheHit"]; ok {
		r.rows = append(r.rows, row{"QR code on a later frame (`qr.Cache` hit)", micro(v), "—", "", "≤ 1 ms", r.check(v <= 1e6)})
	}
	if v, ok := bench["BenchmarkParseInvitation"]; ok {
		r.rows = append(r.rows, row{"invitation parsing (a mail text holding a link)", micro(v), "—", "", "—", ""})
	}

	// enroll accept against the floor.
	for _, sc := range []struct{ scenario, what string }{
		{"new", "new device (PUT accept)"},
		{"existing", "enrolled device (discovery, token, PUT accept)"},
	} {
		e, f := medLines(lines, "accept", sc.scenario, "enroll"), medLines(lines, "accept", sc.scenario, "floor")
		r.rows = append(r.rows, row{"`enroll accept` wall time against `enroll emulator` on loopback, " + sc.what + " / floor",
			ms(e), ms(f), ratio(e, f), "ratio ≤ 1.5", r.check(e <= 1.5*f)})
	}

	// Memory and size.
	rss, grss := med(enroll, func(p ptyResult) float64 { return p.MaxRSSKB }), med(gum, func(p ptyResult) float64 { return p.MaxRSSKB })
	r.rows = append(r.rows, row{"peak resident memory of the wizard (`enroll demo`, emulator in-process, up to the hand-off screen)",
		mb(rss * 1024), mb(grss * 1024), ratio(rss, grss), "≤ 30 MB", r.check(rss*1024 <= 30e6)})
	for _, arch := range []string{"amd64", "arm64"} {
		s := oneWhere(lines, "size", "arch", arch, "bytes")
		r.rows = append(r.rows, row{"stripped binary size (`-ldflags=\"-s -w\"`), linux/" + arch, mb(s), "—", "", "≤ 12 MB", r.check(s <= 12e6)})
	}
	for _, p := range []struct {
		name string
		res  []ptyResult
	}{{"enroll", enroll}, {"gum", gum}} {
		for _, x := range p.res {
			if x.Error != "" {
				r.notes = append(r.notes, fmt.Sprintf("a %s run failed: %s", p.name, firstLine(x.Error)))
			}
		}
	}
	return r, nil
}

func (r *report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "enroll performance, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "machine: %d cores, %s, %s/%s, %s; each figure the median of %d runs\n\n",
		runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.runs)
	b.WriteString("| figure | enroll | peer (same run) | ratio | budget | kept |\n|---|---|---|---|---|---|\n")
	for _, x := range r.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", x.figure, x.enroll, x.peer, x.ratio, x.budget, x.ok)
	}
	for _, n := range r.notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	if r.missed > 0 {
		fmt.Fprintf(&b, "\n%d figure(s) over budget.\n", r.missed)
	} else {
		b.WriteString("\nEvery figure is within its budget.\n")
	}
	return b.String()
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func readPTY(path string) ([]ptyResult, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	var out []ptyResult
	for _, l := range lines {
		var p ptyResult
		if err := json.Unmarshal(l, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no runs", path)
	}
	return out, nil
}

func readLines(path string) ([]json.RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); strings.HasPrefix(t, "{") {
			out = append(out, json.RawMessage(t))
		}
	}
	return out, sc.Err()
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// readBench returns the median ns/op of each benchmark over its -count runs.
func readBench(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := benchLine.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[3], 64)
			all[m[1]] = append(all[m[1]], v)
		}
	}
	out := map[string]float64{}
	for k, v := range all {
		out[k] = median(v)
	}
	return out, sc.Err()
}

// viewScreens lists the screens of BenchmarkView, in the wizard's order.
func viewScreens(bench map[string]float64) []string {
	var names []string
	for k := range bench {
		if rest, ok := strings.CutPrefix(k, "BenchmarkView/"); ok {
			if sc, _, ok := strings.Cut(rest, "/"); ok && !slices.Contains(names, sc) {
				names = append(names, sc)
			}
		}
	}
	order := []string{"loading", "welcome", "invitation-empty", "invitation-typing", "invitation-recognised", "invitation-refused",
		"server", "name", "review", "working", "done", "done-id-qr", "declined", "failed-network", "not-stored-reveal",
		"handoff-waiting", "handoff-received", "too-small"}
	rank := func(n string) int {
		if i := slices.Index(order, n); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(names, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return names
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func med(rs []ptyResult, f func(ptyResult) float64) float64 {
	var v []float64
	for _, r := range rs {
		if r.Error == "" {
			v = append(v, f(r))
		}
	}
	return median(v)
}

func stepOf(name string, f func(step) float64) func(ptyResult) float64 {
	return func(p ptyResult) float64 {
		s, ok := p.Steps[name]
		if !ok {
			return math.NaN()
		}
		return f(s)
	}
}

func queries(p ptyResult) float64 {
	n := 0
	for _, c := range p.Queries {
		n += c
	}
	return float64(n)
}

func field(l json.RawMessage) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(l, &m)
	return m
}

func one(lines []json.RawMessage, kind, key string) float64 {
	return oneWhere(lines, kind, "", "", key)
}

func oneWhere(lines []json.RawMessage, kind, k, v, key string) float64 {
	var vals []float64
	for _, l := range lines {
		m := field(l)
		if m["kind"] != kind || (k != "" && m[k] != v) {
			continue
		}
		if x, ok := m[key].(float64); ok {
			vals = append(vals, x)
		}
	}
	return median(vals)
}

func medLines(lines []json.RawMessage, kind, scenario, prog string) float64 {
	var vals []float64
	for _, l := range lines {
		m := field(l)
		if m["kind"] == kind && m["scenario"] == scenario && m["prog"] == prog {
			vals = append(vals, m["ms"].(float64))
		}
	}
	return median(vals)
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func ms(v float64) string    { return fmt.Sprintf("%.1f ms", v) }
func num(v float64) string   { return strconv.FormatFloat(v, 'f', -1, 64) }
func bytes(v float64) string { return fmt.Sprintf("%.0f B", v) }
func mb(v float64) string    { return fmt.Sprintf("%.1f MB", v/1e6) }

func micro(ns float64) string {
	if ns >= 1e6 {
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
	return fmt.Sprintf("%.0f µs", ns/1e3)
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}
