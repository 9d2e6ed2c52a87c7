package invite

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"enroll/api"
	"enroll/flow"
)

var csvNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestReadInviteCSV(t *testing.T) {
	def := Spec{Org: "org-1", Groups: []string{"grp-default"}, ValidFor: "7d"}
	for _, tc := range []struct {
		name  string
		csv   string
		show  bool
		want  []Spec // Line, Email, Groups, ValidFor, ValidUntil, ExistingOnly, Ref compared
		lines []int  // lines reported bad
		msg   string // in some error
	}{
		{name: "defaults fill empty cells", csv: "email,groups\na@x.com,\nb@x.com,grp-a grp-b\n",
			want: []Spec{{Line: 2, Email: "a@x.com", Groups: []string{"grp-default"}, ValidFor: "7d"},
				{Line: 3, Email: "b@x.com", Groups: []string{"grp-a", "grp-b"}, ValidFor: "7d"}}},
		{name: "header spellings, BOM, semicolons, comments", csv: "\ufeffE-Mail;Group IDs;Valid until;Existing clients only\n# a comment\nc@x.com;g1|g2;2026-12-31;yes\n",
			want: []Spec{{Line: 3, Email: "c@x.com", Groups: []string{"g1", "g2"}, ValidUntil: "2026-12-31", ExistingOnly: true}}},
		{name: "a row's validity replaces the flag's kind", csv: "email,valid_until\nd@x.com,2026-07-01T00:00:00Z\n",
			want: []Spec{{Line: 2, Email: "d@x.com", Groups: []string{"grp-default"}, ValidUntil: "2026-07-01T00:00:00Z"}}},
		{name: "quoted cell over two lines", csv: "ref,email\n\"multi\nline\",e@x.com\nr2,f@x.com\n",
			lines: []int{2}, msg: `ref "multi\x0aline" holds spaces`},
		{name: "rows without e-mail need --show-links", csv: "ref\nk1\nk2\n", lines: []int{2, 3}, msg: "nobody would receive"},
		{name: "rows without e-mail with --show-links", csv: "ref\nk1\nk2\n", show: true,
			want: []Spec{{Line: 2, Ref: "k1", Groups: []string{"grp-default"}, ValidFor: "7d"}, {Line: 3, Ref: "k2", Groups: []string{"grp-default"}, ValidFor: "7d"}}},
		{name: "identical unnamed rows are allowed without e-mail", csv: "groups\ng\ng\n", show: true,
			want: []Spec{{Line: 2, Groups: []string{"g"}, ValidFor: "7d"}, {Line: 3, Groups: []string{"g"}, ValidFor: "7d"}}},
		{name: "the same mail twice", csv: "email\nA@x.com\na@x.com\n", lines: []int{3}, msg: "same address as line 2"},
		{name: "unknown column", csv: "email,vaild_until\n", lines: []int{1}, msg: `unknown column "vaild_until"`},
		{name: "column twice", csv: "email,mail\n", lines: []int{1}, msg: "column email appears twice"},
		{name: "empty file", csv: "", lines: []int{0}, msg: "the file is empty"},
		{name: "header only", csv: "email\n", lines: []int{0}, msg: "no rows"},
		{name: "every bad row", csv: "email,groups,language,existing_clients_only,valid_for\n" +
			"Ops <o@x.com>,g,,,\n" + // 2: display name
			"p@x.com,g h\x1b[31m,,,\n" + // 3: escape in a group
			"q@x.com,g,not a tag,,\n" + // 4
			"r@x.com,g,,maybe,\n" + // 5
			"s@x.com,g,,,30s\n" + // 6: under a minute
			"t@x.com,g,,,99999d\n" + // 7
			"u@x.com,g,,no,\n", // 8: fine
			lines: []int{2, 3, 4, 5, 6, 7}, msg: "\\x1b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs, errs := readInviteCSV([]byte(tc.csv), def, "https://idp.example.com", csvNow, tc.show)
			var lines []int
			all := ""
			for _, e := range errs {
				lines = append(lines, e.Line)
				all += e.Message + "\n"
			}
			if !slices.Equal(lines, tc.lines) || !strings.Contains(all, tc.msg) {
				t.Fatalf("errors at %v, want %v with %q:\n%s", lines, tc.lines, tc.msg, all)
			}
			if tc.lines != nil {
				return
			}
			if len(specs) != len(tc.want) {
				t.Fatalf("%d specs, want %d: %+v", len(specs), len(tc.want), specs)
			}
			for i, w := range tc.want {
				g := specs[i]
				if g.Line != w.Line || g.Email != w.Email || !slices.Equal(g.Groups, w.Groups) || g.ValidFor != w.ValidFor ||
					g.ValidUntil != w.ValidUntil || g.ExistingOnly != w.ExistingOnly || g.Ref != w.Ref || g.Org != "org-1" {
					t.Errorf("row %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestValidity(t *testing.T) {
	for _, tc := range []struct {
		forS, untilS string
		want         string // validUntil sent, "" for none
	}{
		{forS: "14d", want: "2026-06-15T12:00:00Z"},
		{forS: "90m", want: "2026-06-01T13:30:00Z"},
		{untilS: "2026-12-31", want: "2026-12-31T23:59:59Z"},
		{untilS: "2026-12-31T18:00:00+02:00", want: "2026-12-31T16:00:00Z"},
		{want: ""},
	} {
		s := Spec{ValidFor: tc.forS, ValidUntil: tc.untilS}
		if got := s.body(csvNow).ValidUntil; got != tc.want {
			t.Errorf("for %q until %q: %q, want %q", tc.forS, tc.untilS, got, tc.want)
		}
	}
	for _, bad := range []string{"", "0d", "-3d", "d", "1.5d", "soon", "59s", "100000h"} {
		if _, err := parseValidFor(bad); err == nil {
			t.Errorf("parseValidFor(%q) accepted", bad)
		}
	}
}

// The fingerprint keys a row in the results file: what does not change
// what is sent must not change it.
func TestFingerprint(t *testing.T) {
	a := Spec{Org: "o", Email: "Ops@X.com", Groups: []string{"a", "b"}, ValidFor: "7d", Line: 2}
	b := a
	b.Email, b.Groups, b.Line = "ops@x.com", []string{"b", "a"}, 40
	if a.fingerprint("s") != b.fingerprint("s") {
		t.Error("case of the mail, order of groups or line changed the fingerprint")
	}
	for _, c := range []Spec{{Org: "o2"}, {ValidFor: "8d"}, {ExistingOnly: true}} {
		d := a
		d.Org, d.ValidFor, d.ExistingOnly = cmp.Or(c.Org, a.Org), cmp.Or(c.ValidFor, a.ValidFor), c.ExistingOnly
		if d.fingerprint("s") == a.fingerprint("s") {
			t.Errorf("%+v has the fingerprint of %+v", d, a)
		}
	}
	if a.fingerprint("s") == a.fingerprint("other-server") {
		t.Error("a row sent to staging would count as sent to production")
	}
}

func TestParseResults(t *testing.T) {
	rec := func(key, state string) string {
		return fmt.Sprintf(`{"key":%q,"line":2,"fingerprint":"f","state":%q,"at":"2026-01-01T00:00:00Z"}`, key, state)
	}
	for _, tc := range []struct {
		name  string
		data  string
		keep  int // -1: everything
		state map[string]string
		bad   bool
	}{
		{name: "last record wins", data: rec("a", Sending) + "\n" + rec("a", Sent) + "\n" + rec("b", Failed) + "\n",
			keep: -1, state: map[string]string{"a": Sent, "b": Failed}},
		{name: "torn last line is cut", data: rec("a", Sending) + "\n" + `{"key":"a","sta`, keep: len(rec("a", Sending)) + 1,
			state: map[string]string{"a": Sending}},
		{name: "whole last record without newline", data: rec("a", Sent), keep: -1, state: map[string]string{"a": Sent}},
		{name: "blank lines", data: "\n" + rec("a", Sent) + "\n\n", keep: -1, state: map[string]string{"a": Sent}},
		{name: "someone else's file", data: "email,groups\n" + rec("a", Sent) + "\n", bad: true},
		{name: "unknown state", data: rec("a", "maybe") + "\n" + rec("b", Sent) + "\n", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, keep, err := parseResults([]byte(tc.data), "r.jsonl")
			if tc.bad {
				if !errors.Is(err, flow.ErrUsage) {
					t.Fatalf("err %v, want a usage error", err)
				}
				return
			}
			if tc.keep < 0 {
				tc.keep = len(tc.data)
			}
			if err != nil || keep != tc.keep {
				t.Fatalf("keep %d (want %d), err %v", keep, tc.keep, err)
			}
			got := map[string]string{}
			for k, r := range recs {
				got[k] = r.State
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.state) {
				t.Errorf("states %v, want %v", got, tc.state)
			}
		})
	}
}

func TestOpenResultsIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	first, _, _, err := openResults(path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, _, _, err := openResults(path); !errors.Is(err, errResults) || classifySend(err).Exit != flow.ExitStore {
		t.Fatalf("second open: %v", err)
	}
}

func TestClassifySend(t *testing.T) {
	status := func(code int, kind error) error {
		return &api.StatusError{Op: "send", Status: code, Kind: kind}
	}
	for _, tc := range []struct {
		err   error
		state string
		exit  int
		abort bool
	}{
		{nil, Sent, 0, false},
		{status(400, flow.ErrUsage), Failed, flow.ExitRefused, false},
		{status(404, flow.ErrUsage), Failed, flow.ExitRefused, false},
		{status(403, flow.ErrUnauthorized), Failed, flow.ExitDevice, true},
		{status(429, flow.ErrRateLimited), Failed, flow.ExitUnavailable, false},
		{fmt.Errorf("%w: %w", errWaitTooLong, status(429, flow.ErrRateLimited)), Failed, flow.ExitUnavailable, true},
		{status(500, flow.ErrServer), Failed, flow.ExitUnavailable, false},
		{status(502, flow.ErrOutcomeUnknown), Unknown, flow.ExitUnknown, false}, // api's table: a gateway may have forwarded it
		{status(504, flow.ErrOutcomeUnknown), Unknown, flow.ExitUnknown, false},
		{fmt.Errorf("x: %w", flow.ErrOutcomeUnknown), Unknown, flow.ExitUnknown, false},
		{fmt.Errorf("x: %w", flow.ErrBadResponse), Unknown, flow.ExitUnknown, false},
		{fmt.Errorf("x: %w", flow.ErrNetwork), Failed, flow.ExitUnavailable, false},
		{fmt.Errorf("x: %w", flow.ErrCertificate), Failed, flow.ExitUnavailable, true},
		{fmt.Errorf("%w: disk full", errResults), Failed, flow.ExitStore, true},
		{fmt.Errorf("%w: x", flow.ErrInterrupted), Failed, flow.ExitInterrupted, false},
		{context.Canceled, Failed, flow.ExitInterrupted, false},
		{errors.New("boom"), Failed, flow.ExitUnexpected, false},
	} {
		c := classifySend(tc.err)
		if c.State != tc.state || c.Exit != tc.exit || c.Abort != tc.abort || (tc.err != nil && c.Hint == "") {
			t.Errorf("%v: %+v, want %s exit %d abort %v", tc.err, c, tc.state, tc.exit, tc.abort)
		}
	}
}

func TestWorstExit(t *testing.T) {
	for _, tc := range []struct {
		codes []int
		want  int
	}{
		{nil, 0},
		{[]int{5}, 5},
		{[]int{5, 3}, 3},
		{[]int{5, 3, 7}, 7},
		{[]int{7, 4}, 4},
		{[]int{4, 130}, 130},
	} {
		m := map[int]bool{}
		for _, c := range tc.codes {
			m[c] = true
		}
		if got := worstExit(m); got != tc.want {
			t.Errorf("worstExit(%v) = %d, want %d", tc.codes, got, tc.want)
		}
	}
}
