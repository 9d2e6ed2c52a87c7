// Package invite is the administrator's side of enrollment, `enroll
// invite`: it creates device client group invitations through the
// service's send call, one from flags or one per row of a CSV file, with a
// results file that makes a rerun send only what did not succeed.
package invite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/progress"

	"enroll/api"
	"enroll/flow"
)

// Options are one run of enroll invite, as the command line describes it.
type Options struct {
	Server   string // the service, normalized
	Defaults Spec   // the flags: the one invitation, or a CSV's empty cells
	Admin    AdminSource
	// From is the CSV file of a bulk run ("" sends Defaults), Results its
	// results file.
	From, Results string
	Concurrency   int
	Rate          float64 // invitations a second; 0 for no limit
	ResendUnknown bool
	Check         bool // say what a bulk run would send; send nothing
	ShowLinks     bool // print the links (secrets) and keep them in Results
	JSON          bool
	Timeout       time.Duration // one invitation's bound, named in messages

	// Client makes the service client when it is first needed (a --check
	// run needs none).
	Client func() (*api.Client, error)
	Stdin  io.Reader // for a secret read from "-"
	Stdout io.Writer
	Stderr io.Writer
	// Bar shows a bulk run's progress on a terminal; nil prints one JSON
	// line per row instead.
	Bar *progress.Model

	// Seams for tests: the clock, the waits of the rate limiting, a look
	// at each results record once it is on disk (to interrupt a run at a
	// chosen row without sleeping), and a disk that fails a chosen write.
	Now       func() time.Time
	Sleep     func(context.Context, time.Duration) error
	Recorded  func(Record)
	FailWrite func(Record) error
}

// Run sends what o describes. Its error is either a flow.Exit, everything
// reported already, or one the caller reports (bad options, unreadable
// files), classified by flow's table or the flow.Kind it carries.
func Run(ctx context.Context, o Options) error {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = api.Sleep
	}
	if o.From != "" {
		return runBulk(ctx, o)
	}
	return sendOne(ctx, o)
}

// sendOne sends the one invitation the flags describe.
func sendOne(ctx context.Context, o Options) error {
	s := o.Defaults
	if p := s.problems(o.Now(), o.ShowLinks); len(p) > 0 {
		// The checks speak of CSV columns; here the flags are what to fix.
		flags := strings.NewReplacer("valid_for", "--valid-for", "valid_until", "--valid-until", "only_client", "--only-client", "(add one,", "(give --email,")
		return fmt.Errorf("%w: %s", flow.ErrUsage, flags.Replace(strings.Join(p, "; ")))
	}
	svc, err := o.Client()
	if err != nil {
		return err
	}
	auth, err := newAdminAuth(o, svc)
	if err != nil {
		return err
	}
	snd := &sender{svc: svc, server: o.Server, auth: auth, now: o.Now, pace: newPacer(0, o.Now, o.Sleep)}
	inv, err := snd.send(ctx, s, nil)
	if err != nil {
		return reportFailure(o, err)
	}
	if o.JSON {
		if !o.ShowLinks {
			inv.Token, inv.Link = "", ""
		}
		writeJSON(o.Stdout, struct {
			Status string `json:"status"`
			api.InvitationBody
		}{"sent", inv})
		return nil
	}
	if s.Email != "" {
		fmt.Fprintf(o.Stdout, "Sent an invitation to %s.\n", flow.Sanitize(s.Email))
	} else {
		fmt.Fprintln(o.Stdout, "Created an invitation (no e-mail: hand its link over yourself).")
	}
	row := func(k, v string) { fmt.Fprintf(o.Stdout, "  %-12s %s\n", k, flow.Sanitize(v)) }
	row("id", inv.ID)
	row("groups", strings.Join(inv.GroupIDs, ", "))
	row("valid until", firstOf(inv.ValidUntil, "the service's default"))
	switch {
	case o.ShowLinks:
		row("link", firstOf(inv.Link, inv.Token))
	default:
		row("link", "not shown; --show-links shows it (a secret: anyone holding it can use it)")
	}
	return nil
}

// failure is the --json object of a failed single invitation: the shape
// of the device commands' failures.
type failure struct {
	Status string `json:"status"`
	Error  struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
		Hint    string `json:"hint,omitempty"`
		Exit    int    `json:"exitCode"`
	} `json:"error"`
}

// reportFailure explains a failed single invitation in the words of
// classifySend, the same as a bulk run's rows.
func reportFailure(o Options, err error) error {
	cl := classifySend(err)
	msg := flow.SanitizeMax(err.Error(), 400)
	if o.JSON {
		f := failure{Status: "failed"}
		f.Error.Kind, f.Error.Message, f.Error.Hint, f.Error.Exit = cl.Kind, msg, cl.Hint, cl.Exit
		writeJSON(o.Stdout, f)
	}
	what := "the invitation was not sent"
	if cl.State == Unknown {
		what = "it is not known whether the invitation was created"
	}
	fmt.Fprintf(o.Stderr, "enroll: %s (%s).\n  %s\n  %s\n", what, cl.Kind, msg, cl.Hint)
	return exitWith(cl.Exit)
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // stdout closed: nothing better to do
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
