package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

func medLines(lines []json.RawMessage, kind, scenario, prog string) (med float64, n int) {
	var vals []float64
	for _, l := range lines {
		m := field(l)
		if m["kind"] == kind && m["scenario"] == scenario && m["prog"] == prog {
			vals = append(vals, m["ms"].(float64))
		}
	}
	return median(vals), len(vals)
}
