package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"enroll/persist"
)

// In-process runs of enroll for the fault matrix, and small writers.

// res is one run of enroll: exit code and what it printed.
type res struct {
	code     int
	out, err string
}

func (r res) all() string { return r.out + r.err }

// runOpts are the knobs of one in-process run.
type runOpts struct {
	fs     persist.FS
	stdin  string
	vars   map[string]string // on top of ENROLL_CREDENTIALS
	ctx    context.Context
	stderr io.Writer // also receives stderr, as it is written
}

// runIn runs enroll in this process, as main would, with the credentials
// at x.creds. Commands that talk to the service get --verbose, so that
// every row also proves the log holds no secret.
func (x *fx) runIn(o runOpts, args ...string) res {
	x.t.Helper()
	vars := map[string]string{"ENROLL_CREDENTIALS": x.creds}
	for k, v := range o.vars {
		vars[k] = v
	}
	if len(args) > 0 && strings.Contains(" accept decline status token ", " "+args[0]+" ") && !slices.Contains(args, "--verbose") {
		args = append(args, "--verbose")
	}
	var out, errOut syncBuffer
	var stderr io.Writer = &errOut
	if o.stderr != nil {
		stderr = io.MultiWriter(&errOut, o.stderr)
	}
	if o.ctx == nil {
		o.ctx = context.Background()
	}
	e := env{
		stdin: strings.NewReader(o.stdin), stdout: &out, stderr: stderr,
		getenv: func(k string) string { return vars[k] }, uid: 1000,
		hostname: func() (string, error) { return "lab-1", nil }, fs: o.fs,
	}
	code := run(o.ctx, args, e)
	r := res{code: code, out: out.String(), err: errOut.String()}
	x.record1(r)
	return r
}

func (x *fx) run(args ...string) res { x.t.Helper(); return x.runIn(runOpts{}, args...) }

// watchWriter closes seen the first time text has been written to it.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	text string
	seen chan struct{}
}

func newWatch(text string) *watchWriter { return &watchWriter{text: text, seen: make(chan struct{})} }

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	had := strings.Contains(w.buf.String(), w.text)
	w.buf.Write(p)
	if !had && strings.Contains(w.buf.String(), w.text) {
		close(w.seen)
	}
	return len(p), nil
}

// journalRaw reads the answer a journal (or a set-aside one) holds.
func journalRaw(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j struct{ Raw *[]byte }
	if err := json.Unmarshal(b, &j); err != nil || j.Raw == nil {
		t.Fatalf("%s is not a journal: %v", path, err)
	}
	return *j.Raw
}
