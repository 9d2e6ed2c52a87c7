package invite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"enroll/flow"
	"enroll/persist/durable"
)

// The results file of a bulk run is append-only JSON lines, one record per
// step of a row: "sending" is written and synced to disk *before* the
// request leaves, and "sent", "failed" or "unknown" after the answer. The
// last record of a row is its state. A rerun therefore knows, even after
// a crash or a power cut, which rows were sent (skip), which were not
// (send), and which were in flight (unknown: the service may have created
// and mailed the invitation, so they are not sent again silently).

// Row states in the results file.
const (
	Sending = "sending"
	Sent    = "sent"
	Failed  = "failed"
	Unknown = "unknown"
)

type Record struct {
	Key          string    `json:"key"`
	Line         int       `json:"line"`
	Ref          string    `json:"ref,omitempty"`
	Email        string    `json:"email,omitempty"`
	Fingerprint  string    `json:"fingerprint"`
	State        string    `json:"state"`
	At           time.Time `json:"at"`
	InvitationID string    `json:"invitationId,omitempty"`
	ValidUntil   string    `json:"validUntil,omitempty"`
	Kind         string    `json:"kind,omitempty"`
	Message      string    `json:"message,omitempty"`
	Link         string    `json:"link,omitempty"`  // only with --show-links
	Token        string    `json:"token,omitempty"` // only with --show-links
}

// errResults is trouble with the results file: exit 6, the code of a
// credentials file that cannot be written, with its own words.
var errResults = &flow.Kind{Name: "results file unavailable", Code: flow.ExitStore,
	Summary: "The results file cannot be used, so nothing more was sent.",
	Hint:    "Fix the results file (space, permissions, --results), then run the same command again."}

type resultsFile struct {
	path string
	log  *durable.Log
}

// openResults opens (creating) the results file, locks it against a second
// run on the same file, and reads the last record of every row. A torn last
// line (the process died mid-write) is cut off: it can only be a record
// whose sync never returned, and whose row the earlier record describes.
func openResults(path string) (*resultsFile, map[string]Record, []string, error) {
	log, err := durable.OpenLog(path)
	switch {
	case errors.Is(err, durable.ErrLocked):
		return nil, nil, nil, fmt.Errorf("%w: another enroll invite is using the results file %s", errResults, flow.Sanitize(path))
	case errors.Is(err, durable.ErrNotRegular):
		return nil, nil, nil, fmt.Errorf("%w: the results file %s is not a regular file", flow.ErrUsage, flow.Sanitize(path))
	case err != nil:
		return nil, nil, nil, fmt.Errorf("%w: cannot open the results file: %w", errResults, err)
	}
	rf := &resultsFile{path: path, log: log}
	fail := func(err error) (*resultsFile, map[string]Record, []string, error) {
		rf.Close()
		return nil, nil, nil, err
	}
	f := log.File()
	fi, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("%w: cannot read the results file: %w", errResults, err))
	}
	var warnings []string
	if fi.Mode().Perm()&0o077 != 0 {
		// It may hold links (secrets) now or after a --show-links rerun.
		if err := f.Chmod(0o600); err != nil {
			return fail(fmt.Errorf("%w: cannot make the results file private: %w", errResults, err))
		}
		warnings = append(warnings, fmt.Sprintf("the results file %s was readable by others; its mode is now 0600", flow.Sanitize(path)))
	}
	data, err := log.ReadAll()
	if err != nil {
		return fail(fmt.Errorf("%w: cannot read the results file: %w", errResults, err))
	}
	recs, keep, err := parseResults(data, path)
	if err != nil {
		return fail(err)
	}
	if keep < len(data) {
		if err := f.Truncate(int64(keep)); err != nil {
			return fail(fmt.Errorf("%w: cannot repair the results file: %w", errResults, err))
		}
		warnings = append(warnings, "the results file ended in a partly written line (a run was killed while writing); it was removed")
	}
	if keep > 0 && data[keep-1] != '\n' {
		// A whole record whose newline never made it: end its line, or the
		// next record would be glued to it.
		if _, err := f.Write([]byte("\n")); err != nil {
			return fail(fmt.Errorf("%w: cannot repair the results file: %w", errResults, err))
		}
	}
	return rf, recs, warnings, nil
}

// parseResults returns the last record by key and how many bytes of data
// to keep. A line that is not a record, other than a torn last one, means
// --results names some other file: refuse rather than append to it.
func parseResults(data []byte, path string) (map[string]Record, int, error) {
	recs := map[string]Record{}
	offset := 0
	for n := 1; offset < len(data); n++ {
		line, rest, complete := bytes.Cut(data[offset:], []byte("\n"))
		var r Record
		if err := json.Unmarshal(line, &r); err != nil || r.Key == "" || !validState(r.State) {
			if !complete {
				return recs, offset, nil
			}
			if len(bytes.TrimSpace(line)) == 0 {
				offset = len(data) - len(rest)
				continue
			}
			return nil, 0, fmt.Errorf("%w: line %d of %s is not a record of enroll invite; give --results a file of its own", flow.ErrUsage, n, flow.Sanitize(path))
		}
		recs[r.Key] = r
		offset = len(data) - len(rest)
		if !complete {
			offset = len(data)
		}
	}
	return recs, offset, nil
}

func validState(s string) bool {
	return s == Sending || s == Sent || s == Failed || s == Unknown
}

// append writes one record and syncs it: a "sending" record must be on disk
// before the request it announces leaves, or a crash could forget it.
func (rf *resultsFile) append(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("%w: %w", errResults, err)
	}
	if err := rf.log.Append(append(b, '\n')); err != nil {
		return fmt.Errorf("%w: cannot write the results file %s: %w", errResults, flow.Sanitize(rf.path), err)
	}
	return nil
}

func (rf *resultsFile) Close() error { return rf.log.Close() }
