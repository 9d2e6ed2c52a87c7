package invite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"enroll/api"
	"enroll/flow"
)

// Spec is one invitation to send: from the flags, or one CSV row with
// the flags as defaults for its empty cells. Validity is kept as written
// ("14d"), not as a time, so that the same row reads the same on a rerun
// and its fingerprint does not change with the clock.
type Spec struct {
	Line         int // CSV line of the row; 0 for flags
	Ref          string
	Org          string
	Email        string
	Groups       []string
	Language     string
	ValidFor     string
	ValidUntil   string
	ExistingOnly bool
	OnlyClient   string
}

const (
	maxIDBytes = 200
	maxValid   = 10 * 365 * 24 * time.Hour // beyond this a typo is likelier than intent
)

// problems lists what is wrong with s, in the words of the CSV columns
// (the flags say the same things). now is when validity is judged;
// showLinks allows invitations without an e-mail address, whose link then
// goes to the operator instead.
func (s Spec) problems(now time.Time, showLinks bool) []string {
	var p []string
	add := func(msg string) {
		if msg != "" {
			p = append(p, msg)
		}
	}
	if s.Org == "" {
		add("no organization: give --org or an org column")
	} else {
		add(checkID("org", s.Org))
	}
	if len(s.Groups) == 0 {
		add("no group: give --group or a groups column")
	}
	for _, g := range s.Groups {
		add(checkID("group", g))
	}
	switch {
	case s.Email != "":
		add(checkEmail(s.Email))
	case !showLinks:
		add("no e-mail address: nobody would receive this invitation (add one, or pass --show-links to be given its link)")
	}
	if s.Language != "" {
		if _, err := language.Parse(s.Language); err != nil || !flow.Visible(s.Language) {
			add(fmt.Sprintf("language %s is not a language tag such as en or fi-FI", flow.Quoted(s.Language)))
		}
	}
	if s.ValidFor != "" && s.ValidUntil != "" {
		add("give valid_for or valid_until, not both")
	} else if s.ValidFor != "" {
		if _, err := parseValidFor(s.ValidFor); err != nil {
			add(err.Error())
		}
	} else if s.ValidUntil != "" {
		t, err := parseValidUntil(s.ValidUntil)
		switch {
		case err != nil:
			add(err.Error())
		case !t.After(now):
			add(fmt.Sprintf("valid_until %s has passed", flow.Sanitize(s.ValidUntil)))
		case t.Sub(now) > maxValid:
			add(fmt.Sprintf("valid_until %s is more than ten years away", flow.Sanitize(s.ValidUntil)))
		}
	}
	if s.OnlyClient != "" {
		add(checkID("only_client", s.OnlyClient))
	}
	if s.Ref != "" {
		add(checkID("ref", s.Ref))
	}
	return p
}

func checkID(what, s string) string {
	switch {
	case len(s) > maxIDBytes:
		return fmt.Sprintf("%s is longer than %d bytes", what, maxIDBytes)
	case !flow.Visible(s) || strings.ContainsFunc(s, func(r rune) bool { return r == ' ' || r == '\u00a0' }):
		return fmt.Sprintf("%s %s holds spaces, control or invisible characters", what, flow.Quoted(s))
	}
	return ""
}

// checkEmail accepts a bare address only: a display name ("Ops <ops@…>")
// would be dropped silently by the service or by us, which hides mistakes
// such as two addresses pasted into one cell.
func checkEmail(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !flow.Visible(s) || len(s) > 254 {
		return fmt.Sprintf("e-mail %s is not one plain address such as ops@example.com", flow.Quoted(s))
	}
	return ""
}

// parseValidFor reads a Go duration (72h, 90m) or whole days (14d), the
// unit people actually think of invitations in.
func parseValidFor(s string) (time.Duration, error) {
	bad := fmt.Errorf("valid_for %s is not a duration such as 72h or 14d", flow.Quoted(s))
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > int(maxValid/(24*time.Hour)) {
			return 0, bad
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	switch {
	case d < time.Minute:
		return 0, fmt.Errorf("valid_for %s is shorter than a minute", flow.Quoted(s))
	case d > maxValid:
		return 0, fmt.Errorf("valid_for %s is more than ten years", flow.Quoted(s))
	}
	return d, nil
}

// parseValidUntil reads RFC 3339, or a date that means the end of that day
// in UTC: "valid until 2026-12-31" includes the 31st.
func parseValidUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Second), nil
	}
	return time.Time{}, fmt.Errorf("valid_until %s is not a time such as 2026-12-31 or 2026-12-31T18:00:00Z", flow.Quoted(s))
}

// body is the send request. A relative validity counts from now, the
// moment of sending, not from when the file was read.
func (s Spec) body(now time.Time) api.SendBody {
	b := api.SendBody{
		Email: s.Email, Language: s.Language, GroupIDs: slices.Clone(s.Groups),
		ExistingClientsOnly: s.ExistingOnly, ClientID: s.OnlyClient,
	}
	if d, err := parseValidFor(s.ValidFor); err == nil {
		b.ValidUntil = now.Add(d).UTC().Truncate(time.Second).Format(time.RFC3339)
	} else if t, err := parseValidUntil(s.ValidUntil); err == nil {
		b.ValidUntil = t.UTC().Format(time.RFC3339)
	}
	return b
}

// fingerprint identifies what a row asks for, on which server: the results
// file keys rows by it, so a reordered CSV still matches its results and a
// changed row is a new invitation. The e-mail's case and the order of the
// groups do not change what is sent, so they do not count.
func (s Spec) fingerprint(server string) string {
	groups := slices.Clone(s.Groups)
	slices.Sort(groups)
	canon, _ := json.Marshal([]any{server, s.Org, strings.ToLower(s.Email), groups, s.Language,
		s.ValidFor, s.ValidUntil, s.ExistingOnly, s.OnlyClient, s.Ref})
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:16])
}
