package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/progress"

	"enroll/api"
	"enroll/flow"
	"enroll/invite"
)

// enroll invite is the administrator's side of enrollment (package
// invite): this file reads its flags into invite.Options and reports what
// invite.Run could not.

func cmdInvite(ctx context.Context, e env, args []string) error {
	return runInvite(ctx, e, args, nil)
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
	*l = append(*l, invite.SplitList(v)...)
	return nil
}

// runInvite parses the flags and runs; tests pass adjust to set the
// options' seams (a clock, waits that do not sleep) before the run.
func runInvite(ctx context.Context, e env, args []string, adjust func(*invite.Options)) error {
	o, c, err := inviteOptions(e, args)
	if err != nil {
		return fail(e, c, err)
	}
	if adjust != nil {
		adjust(o)
	}
	return fail(e, c, invite.Run(ctx, *o))
}

func inviteOptions(e env, args []string) (*invite.Options, *common, error) {
	fs, c, envErr := newFlags(e, "invite", "", inviteExample, useServer|useCAFile|useTimeout|useJSON|useVerbose|useScreen)
	fs.Lookup("timeout").Usage = "the most time one invitation waits for the service, retries and waits included (ENROLL_TIMEOUT)"
	o := &invite.Options{Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr}
	def := &o.Defaults
	var groups listFlag
	fs.StringVar(&def.Org, "org", e.getenv("ENROLL_ORG"), "organization `ID` to invite to (ENROLL_ORG)")
	fs.Var(&groups, "group", "device client group `ID`; repeat for more (bulk: for rows without groups)")
	fs.StringVar(&def.Email, "email", "", "mail the invitation to this `ADDRESS`")
	fs.StringVar(&def.Language, "language", "", "language `TAG` of the mail, such as en or fi-FI")
	fs.StringVar(&def.ValidFor, "valid-for", "", "the invitation expires after `DURATION`, such as 72h or 14d")
	fs.StringVar(&def.ValidUntil, "valid-until", "", "the invitation expires at `TIME`: 2026-12-31 (the end of that day, UTC) or RFC 3339")
	fs.BoolVar(&def.ExistingOnly, "existing-clients-only", false, "only an already registered device client may accept")
	fs.StringVar(&def.OnlyClient, "only-client", "", "only the device client with this `CLIENT_ID` may accept")
	src := &o.Admin
	fs.StringVar(&src.TokenFile, "admin-token-file", e.getenv("ENROLL_ADMIN_TOKEN_FILE"), "read the administrator's access token from `FILE`, - for stdin (ENROLL_ADMIN_TOKEN_FILE; or the token itself in ENROLL_ADMIN_TOKEN)")
	fs.StringVar(&src.ClientID, "admin-client-id", e.getenv("ENROLL_ADMIN_CLIENT_ID"), "integration client `ID`, for the client credentials grant (ENROLL_ADMIN_CLIENT_ID)")
	fs.StringVar(&src.SecretFile, "admin-client-secret-file", e.getenv("ENROLL_ADMIN_CLIENT_SECRET_FILE"), "read the integration client's secret from `FILE`, - for stdin (ENROLL_ADMIN_CLIENT_SECRET_FILE)")
	src.EnvToken = e.getenv("ENROLL_ADMIN_TOKEN")
	fs.BoolVar(&o.ShowLinks, "show-links", false, "print the invitation links and keep them in the results file: they are secrets, anyone holding one can use it")
	fs.StringVar(&o.From, "from", "", "send one invitation per row of this CSV `FILE`")
	fs.StringVar(&o.Results, "results", "", "bulk: the results `FILE` (default: the CSV file's name + .results.jsonl)")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "bulk: invitations in flight at once, 1 to 64")
	fs.Float64Var(&o.Rate, "rate", 5, "bulk: at most this many invitations a second; 0 for no limit")
	fs.BoolVar(&o.ResendUnknown, "resend-unknown", false, "bulk: also send rows whose earlier send has an unknown outcome (may send duplicates)")
	fs.BoolVar(&o.Check, "check", false, "bulk: check the CSV against the results file and say what a run would send; send nothing")
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
		return nil, c, err
	}
	def.Groups = groups
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := checkInviteFlags(pos, set, o); err != nil {
		return nil, c, err
	}
	server, err := c.serverURL()
	if err == nil && server == "" {
		err = fmt.Errorf("%w: give the service's address with --server (or ENROLL_SERVER)", flow.ErrUsage)
	}
	o.Server, o.JSON, o.Timeout = server, c.json, c.timeout
	o.Client = func() (*api.Client, error) { return c.client(e) }
	if e.tty && !c.json && !c.plain && e.getenv("TERM") != "dumb" {
		opts := []progress.Option{progress.WithWidth(40), progress.WithSolidFill("2"), progress.WithColorProfile(colorProfile(e, c))}
		if asciiOnly(e) {
			opts = append(opts, progress.WithFillCharacters('#', '-'))
		}
		bar := progress.New(opts...)
		o.Bar = &bar
	}
	return o, c, err
}

// checkInviteFlags refuses combinations that would not do what they say.
func checkInviteFlags(pos []string, set map[string]bool, o *invite.Options) error {
	def := o.Defaults
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format+"; see enroll invite --help", append([]any{flow.ErrUsage}, args...)...)
	}
	switch {
	case len(pos) > 0:
		return bad("enroll invite takes no arguments (got %s)", flow.Quoted(pos[0]))
	case def.ValidFor != "" && def.ValidUntil != "":
		return bad("give --valid-for or --valid-until, not both")
	case o.Concurrency < 1 || o.Concurrency > 64:
		return bad("--concurrency must be 1 to 64")
	case o.Rate < 0:
		return bad("--rate must be 0 (no limit) or more")
	}
	if o.From == "" {
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
	if o.Results == "" {
		o.Results = o.From + ".results.jsonl"
	}
	return nil
}
