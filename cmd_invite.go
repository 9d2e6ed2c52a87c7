package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"enroll/api"
	"enroll/flow"
)

// enroll invite is the administrator's side of enrollment: it creates
// device client group invitations through the service's send call, one
// from flags or one per row of a CSV file (cmd_invite_bulk.go).

// inviteHooks are the seams tests use: the clock, the waits of the rate
// limiting, a look at each results record once it is on disk (to interrupt
// a bulk run at a chosen row, without sleeping), and a disk that fails the
// write of a chosen record.
type inviteHooks struct {
	now       func() time.Time
	sleep     func(context.Context, time.Duration) error
	recorded  func(resultRecord)
	failWrite func(resultRecord) error
}

func cmdInvite(ctx context.Context, e env, args []string) error {
	return runInvite(ctx, e, args, inviteHooks{})
}

const inviteExample = `  enroll invite --server https://idp.example.com --admin-token-file admin.token \
    --org ORG_ID --group GROUP_ID --email ops@example.com --valid-for 14d
  enroll invite --server https://idp.example.com --admin-client-id ID --admin-client-secret-file secret.txt \
    --org ORG_ID --from devices.csv --concurrency 4 --rate 5`

const inviteHelp = `CSV (--from): a header row, then one invitation a row. Columns (any order,
case and _ - or spaces ignored): email, groups (ids separated by spaces or ;),
language, valid_for (72h, 14d), valid_until (2026-12-31 or RFC 3339),
existing_clients_only (yes/no), only_client, org, ref (your own unique key,
copied to the output). An empty cell takes the flag's value. Every row is
checked before anything is sent. Rows without an e-mail need --show-links.

Results (--results, default FILE.csv.results.jsonl, mode 0600): one JSON
record per step of each row. Run the same command again to send only the rows
that did not succeed. A row whose send was in flight when a run stopped has an
unknown outcome: it is not sent again unless --resend-unknown.

Exit codes:
  0    every invitation sent (now or by an earlier run)
  1    unexpected error
  2    usage, or bad CSV rows (all listed; nothing sent)
  3    the service refused some rows (unknown organization or group, bad value)
  4    the administrator's credentials were refused (the run stops)
  5    service unavailable or rate limited for some rows; nothing created for them, run again later
  6    the results file cannot be written, or another run uses it
  7    outcome unknown for some rows: they may have been created (check, then --resend-unknown)
  130  interrupted; run the same command again to continue
When rows end differently, the code is the first that applies of 130, 4, 6,
1, 7, 3, 5: what needs a person before what a plain rerun fixes.`

// listFlag is a repeatable flag; a comma also separates values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, splitList(v)...)
	return nil
}

func runInvite(ctx context.Context, e env, args []string, h inviteHooks) error {
	if h.now == nil {
		h.now = time.Now
	}
	if h.sleep == nil {
		h.sleep = api.Sleep
	}
	fs, c, envErr := newFlags(e, "invite", "", inviteExample)
	fs.Lookup("timeout").Usage = "the most time one invitation waits for the service, retries and waits included (ENROLL_TIMEOUT)"
	var def inviteSpec
	var groups listFlag
	fs.StringVar(&def.Org, "org", e.getenv("ENROLL_ORG"), "organization `ID` to invite to (ENROLL_ORG)")
	fs.Var(&groups, "group", "device client group `ID`; repeat for more (bulk: for rows without groups)")
	fs.StringVar(&def.Email, "email", "", "mail the invitation to this `ADDRESS`")
	fs.StringVar(&def.Language, "language", "", "language `TAG` of the mail, such as en or fi-FI")
	fs.StringVar(&def.ValidFor, "valid-for", "", "the invitation expires after `DURATION`, such as 72h or 14d")
	fs.StringVar(&def.ValidUntil, "valid-until", "", "the invitation expires at `TIME`: 2026-12-31 (the end of that day, UTC) or RFC 3339")
	fs.BoolVar(&def.ExistingOnly, "existing-clients-only", false, "only an already registered device client may accept")
	fs.StringVar(&def.OnlyClient, "only-client", "", "only the device client with this `CLIENT_ID` may accept")
	var src adminSource
	fs.StringVar(&src.tokenFile, "admin-token-file", e.getenv("ENROLL_ADMIN_TOKEN_FILE"), "read the administrator's access token from `FILE`, - for stdin (ENROLL_ADMIN_TOKEN_FILE; or the token itself in ENROLL_ADMIN_TOKEN)")
	fs.StringVar(&src.clientID, "admin-client-id", e.getenv("ENROLL_ADMIN_CLIENT_ID"), "integration client `ID`, for the client credentials grant (ENROLL_ADMIN_CLIENT_ID)")
	fs.StringVar(&src.secretFile, "admin-client-secret-file", e.getenv("ENROLL_ADMIN_CLIENT_SECRET_FILE"), "read the integration client's secret from `FILE`, - for stdin (ENROLL_ADMIN_CLIENT_SECRET_FILE)")
	src.envToken = e.getenv("ENROLL_ADMIN_TOKEN")
	var o bulkOptions
	fs.BoolVar(&o.show, "show-links", false, "print the invitation links and keep them in the results file: they are secrets, anyone holding one can use it")
	fs.StringVar(&o.from, "from", "", "send one invitation per row of this CSV `FILE`")
	fs.StringVar(&o.results, "results", "", "bulk: the results `FILE` (default: the CSV file's name + .results.jsonl)")
	fs.IntVar(&o.concurrency, "concurrency", 4, "bulk: invitations in flight at once, 1 to 64")
	fs.Float64Var(&o.rate, "rate", 5, "bulk: at most this many invitations a second; 0 for no limit")
	fs.BoolVar(&o.resendUnknown, "resend-unknown", false, "bulk: also send rows whose earlier send has an unknown outcome (may send duplicates)")
	fs.BoolVar(&o.check, "check", false, "bulk: check the CSV against the results file and say what a run would send; send nothing")
	// The common usage ends with the device's exit codes; invite has its own.
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: enroll invite --org ID --group ID [--email ADDRESS] [flags]\n       enroll invite --from FILE.csv [--org ID] [flags]\n\n")
		fmt.Fprintf(w, "Create device client group invitations as an administrator.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExample:\n%s\n\n%s\n", inviteExample, inviteHelp)
	}
	pos, err := parseArgs(e, fs, envErr, args)
	if err != nil {
		return fail(e, c, err)
	}
	def.Groups = groups
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := checkInviteFlags(pos, set, def, &o); err != nil {
		return fail(e, c, err)
	}
	server, err := c.serverURL()
	if err == nil && server == "" {
		err = fmt.Errorf("%w: give the service's address with --server (or ENROLL_SERVER)", flow.ErrUsage)
	}
	if err != nil {
		return fail(e, c, err)
	}
	if o.from != "" {
		return runBulk(ctx, e, c, o, def, server, src, h)
	}
	return inviteOne(ctx, e, c, def, server, src, o.show, h)
}

// checkInviteFlags refuses combinations that would not do what they say.
func checkInviteFlags(pos []string, set map[string]bool, def inviteSpec, o *bulkOptions) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format+"; see enroll invite --help", append([]any{flow.ErrUsage}, args...)...)
	}
	switch {
	case len(pos) > 0:
		return bad("enroll invite takes no arguments (got %s)", quoted(pos[0]))
	case def.ValidFor != "" && def.ValidUntil != "":
		return bad("give --valid-for or --valid-until, not both")
	case o.concurrency < 1 || o.concurrency > 64:
		return bad("--concurrency must be 1 to 64")
	case o.rate < 0:
		return bad("--rate must be 0 (no limit) or more")
	}
	if o.from == "" {
		for _, f := range []string{"results", "concurrency", "rate", "resend-unknown", "check"} {
			if set[f] {
				return bad("--%s is for bulk runs, with --from", f)
			}
		}
		return nil
	}
	for _, f := range []string{"email", "only-client"} {
		if set[f] {
			return bad("--%s is one row's; with --from use the CSV's %s column", f, strings.ReplaceAll(f, "-", "_"))
		}
	}
	if o.results == "" {
		o.results = o.from + ".results.jsonl"
	}
	return nil
}

// inviteOne sends the one invitation the flags describe.
func inviteOne(ctx context.Context, e env, c *common, s inviteSpec, server string, src adminSource, show bool, h inviteHooks) error {
	if p := s.problems(h.now(), show); len(p) > 0 {
		// The checks speak of CSV columns; here the flags are what to fix.
		flags := strings.NewReplacer("valid_for", "--valid-for", "valid_until", "--valid-until", "only_client", "--only-client", "(add one,", "(give --email,")
		return fail(e, c, fmt.Errorf("%w: %s", flow.ErrUsage, flags.Replace(strings.Join(p, "; "))))
	}
	svc, err := c.client(e)
	if err != nil {
		return fail(e, c, err)
	}
	auth, err := newAdminAuth(e, src, svc, server)
	if err != nil {
		return fail(e, c, err)
	}
	snd := &sender{svc: svc, server: server, auth: auth, now: h.now, pace: newPacer(0, h.now, h.sleep)}
	inv, err := snd.send(ctx, s, nil)
	if err != nil {
		return reportInviteFailure(e, c, err)
	}
	if c.json {
		if !show {
			inv.Token, inv.Link = "", ""
		}
		writeJSON(e.stdout, struct {
			Status string `json:"status"`
			api.InvitationBody
		}{"sent", inv})
		return nil
	}
	if s.Email != "" {
		fmt.Fprintf(e.stdout, "Sent an invitation to %s.\n", flow.Sanitize(s.Email))
	} else {
		fmt.Fprintln(e.stdout, "Created an invitation (no e-mail: hand its link over yourself).")
	}
	row := func(k, v string) { fmt.Fprintf(e.stdout, "  %-12s %s\n", k, flow.Sanitize(v)) }
	row("id", inv.ID)
	row("groups", strings.Join(inv.GroupIDs, ", "))
	row("valid until", firstOf(inv.ValidUntil, "the service's default"))
	switch {
	case show:
		row("link", firstOf(inv.Link, inv.Token))
	default:
		row("link", "not shown; --show-links shows it (a secret: anyone holding it can use it)")
	}
	return nil
}

// reportInviteFailure explains a failed single invitation in the words of
// classifySend, the same as a bulk run's rows.
func reportInviteFailure(e env, c *common, err error) error {
	cl := classifySend(err)
	msg := flow.SanitizeMax(err.Error(), 400)
	if c.json {
		writeJSON(e.stdout, result{Status: "failed", Error: &errorResult{Kind: cl.Kind, Message: msg, Hint: cl.Hint, Exit: cl.Exit}})
	}
	what := "the invitation was not sent"
	if cl.State == stUnknown {
		what = "it is not known whether the invitation was created"
	}
	fmt.Fprintf(e.stderr, "enroll: %s (%s).\n  %s\n  %s\n", what, cl.Kind, msg, cl.Hint)
	return exitWith(cl.Exit)
}
