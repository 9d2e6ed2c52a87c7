package invite

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"enroll/flow"
)

// The CSV of `enroll invite --from`: a header row naming the columns, then
// one invitation a row. Empty cells take the value of the matching flag.
const (
	maxCSVBytes = 32 << 20
	maxCSVRows  = 100_000
)

// inviteColumns maps header names, folded by columnKey, to the column they
// mean. Spreadsheet users write "E-mail", "Valid until" or "valid_until";
// all are the same column. An unknown header is an error rather than
// ignored: a misspelt "vaild_until" must not silently send invitations
// that never expire.
var inviteColumns = map[string]string{
	"email": "email", "emailaddress": "email", "mail": "email",
	"group": "groups", "groups": "groups", "groupid": "groups", "groupids": "groups",
	"language": "language", "lang": "language",
	"validfor": "valid_for", "validuntil": "valid_until",
	"existingclientsonly": "existing_clients_only", "existingonly": "existing_clients_only",
	"onlyclient": "only_client", "onlyclientid": "only_client",
	"org": "org", "orgid": "org", "organization": "org", "organizationid": "org",
	"ref": "ref", "reference": "ref",
}

const knownColumns = "email, groups, language, valid_for, valid_until, existing_clients_only, only_client, org, ref"

func columnKey(h string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(h)))
}

// rowError is one bad row; line 0 is about the file as a whole.
type rowError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// readInviteCSV reads every row, with def supplying empty cells, and
// validates them all: the caller sends nothing unless errs is empty.
func readInviteCSV(data []byte, def Spec, server string, now time.Time, showLinks bool) (specs []Spec, errs []rowError) {
	if len(data) > maxCSVBytes {
		return nil, []rowError{{0, fmt.Sprintf("the file is larger than %d MiB; split it", maxCSVBytes>>20)}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // Excel's "CSV UTF-8"
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sniffComma(data)
	r.Comment = '#'
	r.FieldsPerRecord = -1 // counted below, so every short row is reported
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []rowError{{0, "the file is empty; it needs a header row such as: email,groups"}}
		}
		return nil, []rowError{{csvLine(err, 1), "the header row cannot be read: " + csvReason(err)}}
	}
	cols, herrs := readHeader(header)
	if len(herrs) > 0 {
		line, _ := r.FieldPos(0)
		for i := range herrs {
			herrs[i].Line = line
		}
		return nil, herrs
	}
	firstLine := map[string]int{} // fingerprint or ref → the line that has it
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, rowError{csvLine(err, 0), csvReason(err)})
			if len(errs) >= 1000 {
				errs = append(errs, rowError{0, "too many errors; stopped reading"})
				break
			}
			continue
		}
		line, _ := r.FieldPos(0)
		if len(specs)+len(errs) >= maxCSVRows {
			return nil, append(errs, rowError{line, fmt.Sprintf("more than %d rows; split the file", maxCSVRows)})
		}
		if len(rec) != len(header) {
			errs = append(errs, rowError{line, fmt.Sprintf("%d fields, but the header has %d", len(rec), len(header))})
			continue
		}
		s, problems := rowSpec(rec, cols, def, line)
		problems = append(problems, s.problems(now, showLinks)...)
		// Two rows mailing the same invitation to the same person are a
		// slip of the copy-paste, not a wish; rows without an address are
		// invitations to hand over, and may well be alike.
		dupKey := ""
		if s.Ref != "" {
			dupKey = "ref\x00" + s.Ref
		} else if s.Email != "" {
			dupKey = "fp\x00" + s.fingerprint(server)
		}
		if prev, ok := firstLine[dupKey]; ok && dupKey != "" {
			what := "the same invitation to the same address as"
			if s.Ref != "" {
				what = "the same ref as"
			}
			problems = append(problems, fmt.Sprintf("%s line %d", what, prev))
		} else if dupKey != "" {
			firstLine[dupKey] = line
		}
		if len(problems) > 0 {
			errs = append(errs, rowError{line, strings.Join(problems, "; ")})
			continue
		}
		specs = append(specs, s)
	}
	if len(specs) == 0 && len(errs) == 0 {
		errs = append(errs, rowError{0, "the file has a header but no rows"})
	}
	return specs, errs
}

// sniffComma picks the delimiter from the header line: spreadsheets in
// locales with a decimal comma save CSV with semicolons.
func sniffComma(data []byte) rune {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	switch {
	case bytes.ContainsRune(line, ','):
		return ','
	case bytes.ContainsRune(line, ';'):
		return ';'
	case bytes.ContainsRune(line, '\t'):
		return '\t'
	}
	return ','
}

func readHeader(header []string) (cols []string, errs []rowError) {
	seen := map[string]bool{}
	for _, h := range header {
		col, ok := inviteColumns[columnKey(h)]
		switch {
		case !ok:
			errs = append(errs, rowError{Message: fmt.Sprintf("unknown column %s; the columns are %s", flow.Quoted(h), knownColumns)})
		case seen[col]:
			errs = append(errs, rowError{Message: fmt.Sprintf("column %s appears twice", col)})
		}
		seen[col] = true
		cols = append(cols, col)
	}
	return cols, errs
}

// rowSpec fills a spec from one record; an empty cell keeps the default.
func rowSpec(rec, cols []string, def Spec, line int) (Spec, []string) {
	s := def
	s.Line = line
	var problems []string
	validitySet := false
	for i, col := range cols {
		cell := strings.TrimSpace(rec[i])
		if !utf8.ValidString(cell) {
			problems = append(problems, col+" is not valid UTF-8 text (save the file as CSV UTF-8)")
			continue
		}
		if cell == "" {
			continue
		}
		switch col {
		case "email":
			s.Email = cell
		case "groups":
			s.Groups = SplitList(cell)
		case "language":
			s.Language = cell
		case "valid_for", "valid_until":
			if !validitySet { // a row's own validity replaces the flag's, whichever kind
				s.ValidFor, s.ValidUntil, validitySet = "", "", true
			}
			if col == "valid_for" {
				s.ValidFor = cell
			} else {
				s.ValidUntil = cell
			}
		case "existing_clients_only":
			b, err := parseYesNo(cell)
			if err != nil {
				problems = append(problems, fmt.Sprintf("existing_clients_only %s is not yes or no", flow.Quoted(cell)))
			}
			s.ExistingOnly = b
		case "only_client":
			s.OnlyClient = cell
		case "org":
			s.Org = cell
		case "ref":
			s.Ref = cell
		}
	}
	return s, problems
}

// SplitList reads a list of group ids from one cell: separated by spaces,
// semicolons, vertical bars or (in a quoted cell) commas.
func SplitList(cell string) []string {
	return strings.FieldsFunc(cell, func(r rune) bool {
		return r == ';' || r == '|' || r == ',' || r == ' ' || r == '\t'
	})
}

func parseYesNo(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "1", "x":
		return true, nil
	case "no", "n", "false", "0":
		return false, nil
	}
	return false, errors.New("not yes or no")
}

// csvLine is the line of the record a csv error is about (a stray quote
// is found lines later), or fallback.
func csvLine(err error, fallback int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) && pe.StartLine > 0 {
		return pe.StartLine
	}
	return fallback
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	where := "column " + strconv.Itoa(pe.Column)
	if pe.Line != pe.StartLine {
		where = "line " + strconv.Itoa(pe.Line) + ", " + where
	}
	return pe.Err.Error() + " (found at " + where + ")"
}
