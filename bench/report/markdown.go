package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

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
