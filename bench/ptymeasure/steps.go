package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Step is the outcome of one measuring step.
type Step struct {
	Kind     string  `json:"kind"`
	Count    int     `json:"count"`               // keys sent, or redraws seen
	Bytes    int     `json:"bytes"`               // all bytes written during the step
	PerItem  float64 `json:"per_item"`            // bytes per key or per redraw
	Max      int     `json:"max"`                 // most bytes for one key or redraw
	MarkHits int     `json:"mark_hits"`           // occurrences of -mark
	Millis   float64 `json:"millis,omitempty"`    // duration of an idle step, or mean time between redraws
	PerSec   float64 `json:"per_sec,omitempty"`   // idle: bytes per second
	Silent   int     `json:"silent,omitempty"`    // keys that wrote nothing
	Trailing int     `json:"trailing,omitempty"`  // type: bytes written after the last key (included in Bytes)
	Settled  float64 `json:"settled,omitempty"`   // type/screen: mean ms from key to the end of its output
	FirstOut float64 `json:"first_out,omitempty"` // type/screen: mean ms from key to its first output
	// idle: CPU time the program used, in ms per second of the step
	CPUPerSec float64 `json:"cpu_ms_per_s,omitempty"`
}

func (r *run) step(s string, out map[string]Step) error {
	verb, arg, _ := strings.Cut(s, ":")
	verb, label, _ := strings.Cut(verb, "=")
	arg = unquote(arg)
	switch verb {
	case "wait":
		for deadline := time.Now().Add(20 * time.Second); ; {
			if i := strings.Index(ansi.Strip(r.buf.String()[r.mark:]), arg); i >= 0 {
				r.mark = r.buf.Len()
				return nil
			}
			if _, ok := r.next(deadline); !ok {
				return fmt.Errorf("%q did not show", arg)
			}
		}
	case "send":
		return r.send(arg)
	case "sleep":
		d, err := time.ParseDuration(arg)
		if err != nil {
			return err
		}
		time.Sleep(d)
		return nil
	case "type":
		r.burst(r.quiet) // what is still being drawn belongs to no key
		st := Step{Kind: verb}
		var settled, firstOut time.Duration
		for _, ch := range arg {
			sent := time.Now()
			if err := r.send(string(ch)); err != nil {
				return err
			}
			var data []byte
			var start, end time.Time
			if r.pace > 0 {
				// A person typing: the next key comes after the pace,
				// whatever the screen does meanwhile.
				for {
					c, ok := r.next(sent.Add(r.pace))
					if !ok {
						break
					}
					if start.IsZero() {
						start = c.at
					}
					data, end = append(data, c.data...), c.at
				}
			} else {
				data, start, end = r.burst(300 * time.Millisecond)
			}
			st.add(data, r.seq)
			if len(data) > 0 {
				settled += end.Sub(sent)
				firstOut += start.Sub(sent)
			}
		}
		if n := st.Count - st.Silent; n > 0 {
			st.Settled, st.FirstOut = ms(settled)/float64(n), ms(firstOut)/float64(n)
		}
		// What the typing still causes once it stops (a line that waits
		// for a pause) is part of its cost.
		for end := time.Now().Add(r.trail); ; {
			c, ok := r.next(end)
			if !ok {
				break
			}
			st.Bytes += len(c.data)
			st.Trailing += len(c.data)
			st.MarkHits += markHits(c.data, r.seq)
		}
		out[label] = st.done()
		return nil
	case "bursts":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return err
		}
		st := Step{Kind: verb}
		if _, start, _ := r.burst(3 * time.Second); start.IsZero() {
			return errors.New("no redraw to sync to")
		}
		var first, last time.Time
		for range n {
			data, start, _ := r.burst(3 * time.Second)
			if start.IsZero() {
				return errors.New("the redraws stopped")
			}
			if first.IsZero() {
				first = start
			}
			last = start
			st.add(data, r.seq)
		}
		if n > 1 {
			st.Millis = ms(last.Sub(first)) / float64(n-1)
		}
		out[label] = st.done()
		return nil
	case "idle":
		d, err := time.ParseDuration(arg)
		if err != nil {
			return err
		}
		st := Step{Kind: verb, Millis: ms(d)}
		cpu := r.cpu()
		var data []byte
		for end := time.Now().Add(d); ; {
			c, ok := r.next(end)
			if !ok {
				break
			}
			data = append(data, c.data...)
		}
		st.Bytes, st.MarkHits = len(data), markHits(data, r.seq)
		st.PerSec = float64(len(data)) / d.Seconds()
		st.CPUPerSec = ms(r.cpu()-cpu) / d.Seconds()
		out[label] = st
		return nil
	case "screen":
		r.burst(r.quiet)
		st := Step{Kind: verb}
		sent := time.Now()
		if err := r.send(arg); err != nil {
			return err
		}
		// A screen may come in more than one frame (a spinner while a
		// server starts): allow a longer gap than between a key's frames.
		quiet := r.quiet
		r.quiet = max(quiet, 150*time.Millisecond)
		data, start, end := r.burst(2 * time.Second)
		r.quiet = quiet
		if start.IsZero() {
			return errors.New("nothing was drawn")
		}
		st.add(data, r.seq)
		st.Settled, st.FirstOut = ms(end.Sub(sent)), ms(start.Sub(sent))
		out[label] = st.done()
		return nil
	}
	return fmt.Errorf("unknown step %q", verb)
}

func (st *Step) add(data []byte, seq []byte) {
	st.Count++
	st.Bytes += len(data)
	st.Max = max(st.Max, len(data))
	st.MarkHits += markHits(data, seq)
	if len(data) == 0 {
		st.Silent++
	}
}

func (st Step) done() Step {
	if st.Count > 0 {
		st.PerItem = float64(st.Bytes) / float64(st.Count)
	}
	return st
}

func markHits(data, seq []byte) int {
	if len(seq) == 0 {
		return 0
	}
	return bytes.Count(data, seq)
}
