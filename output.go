package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"enroll/flow"
)

// result is the --json object of accept, decline, status and forget. It
// never holds the client secret or the invitation token.
type result struct {
	Status      string       `json:"status"` // enrolled, declined, failed, not-enrolled, forgotten
	Server      string       `json:"server,omitempty"`
	ID          string       `json:"id,omitempty"`
	ClientID    string       `json:"clientId,omitempty"`
	Name        string       `json:"name,omitempty"`
	EnrolledAt  *time.Time   `json:"enrolledAt,omitempty"`
	Credentials string       `json:"credentials,omitempty"`
	Protection  string       `json:"protection,omitempty"` // of the stored secret: tpm (sealed to this device's TPM) or none
	Existing    bool         `json:"existingDevice,omitempty"`
	Recovered   bool         `json:"recovered,omitempty"`
	Verified    *bool        `json:"verified,omitempty"`
	Pending     string       `json:"pendingJournal,omitempty"`
	IDQR        string       `json:"idQR,omitempty"` // the id as an ASCII QR code (status --qr --json)
	Warnings    []string     `json:"warnings,omitempty"`
	Error       *errorResult `json:"error,omitempty"`
}

type errorResult struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	Exit    int    `json:"exitCode"`
	Journal string `json:"journal,omitempty"`
}

func writeJSON(w io.Writer, v any) {
	if r, ok := v.(result); ok {
		v = r.inert()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // stdout closed: nothing better to do
}

// inert sanitizes the values that came from outside (the service's answer,
// the credentials file, paths), as every other output does: the encoder
// escapes C0 controls only, and a script that prints a value must not
// print an escape sequence, a C1 control or a bidi override either.
// Ordinary text, non-ASCII letters included, is unchanged.
func (r result) inert() result {
	s := flow.Sanitize
	r.Server, r.ID, r.ClientID, r.Name = shown(r.Server), shown(r.ID), shown(r.ClientID), shown(r.Name)
	r.Credentials, r.Pending = s(r.Credentials), s(r.Pending)
	if r.Warnings != nil {
		ws := make([]string, len(r.Warnings))
		for i, w := range r.Warnings {
			ws[i] = s(w)
		}
		r.Warnings = ws
	}
	if r.Error != nil {
		e := *r.Error
		e.Message, e.Journal = s(e.Message), s(e.Journal)
		r.Error = &e
	}
	return r
}

func credentialsResult(status string, c *flow.Credentials, path string) result {
	r := result{Status: status, Credentials: path}
	if c != nil {
		at := c.EnrolledAt.UTC().Truncate(time.Second)
		cut := func(v string) string { return flow.Redact(v, c.Secrets()...) }
		r.Server, r.ID, r.ClientID, r.Name = cut(c.Server), cut(c.ID), cut(c.ClientID), cut(c.Name)
		if !at.IsZero() {
			r.EnrolledAt = &at
		}
		r.Protection = sealNone
		if c.Sealed {
			r.Protection = sealTPM
		}
	}
	return r
}

func reportDone(e env, c *common, m flow.Machine, path string) error {
	if c.json {
		if m.State == flow.StateDeclined {
			writeJSON(e.stdout, result{Status: "declined", Server: m.Server, Recovered: m.Recovered})
			return nil
		}
		r := credentialsResult("enrolled", m.Result, path)
		r.Existing, r.Recovered, r.Warnings = m.Existing != nil, m.Recovered, m.Warnings
		writeJSON(e.stdout, r)
		return nil
	}
	// One write: a reader of the pipe (a provisioning script, a log) gets
	// the whole record at once, and the terminal a single system call. The
	// outcome's advice to a person is left to the screens.
	o := flow.OutcomeOf(m, path, "")
	var b strings.Builder
	for _, line := range append(o.Headline, o.Note) {
		if line != "" {
			fmt.Fprintln(&b, line)
		}
	}
	if m.State == flow.StateDone && m.Result != nil {
		printCredentials(&b, m.Result, path)
	}
	_, _ = io.WriteString(e.stdout, b.String())
	return nil
}

// maxShown is the most runes of one value of the credentials printed, in
// text and JSON: more than any id the service may issue (api.MaxAnswerID),
// less than a screenful of a name a file was edited to hold.
const maxShown = 300

// shown is a value of the credentials as printed: sanitized and capped.
func shown(v string) string { return flow.SanitizeMax(v, maxShown) }

// printCredentials prints the block of flow.CredentialRows (which cuts any
// secret out), its labels in lower case, as a record.
func printCredentials(w io.Writer, c *flow.Credentials, path string) {
	for _, r := range flow.CredentialRows(*c, path) {
		v := shown(r.Value)
		if r.Label == flow.LabelFile {
			v = flow.Sanitize(r.Value) // the operator's own path: whole
		}
		fmt.Fprintf(w, "  %-12s %s\n", strings.ToLower(r.Label), v)
	}
}

// reportFailure explains a failed run: what happened, what it means, what to
// do next. It prints a secret or an answer only in the one case where it
// would otherwise be lost (DESIGN §5), and only to stderr.
func reportFailure(e env, c *common, m flow.Machine, journal string, err error) error {
	class := flow.Classify(err)
	var f flow.Failure
	if m.Failure != nil {
		f = *m.Failure
	}
	kept := ""
	switch {
	case f.SetAsideTo != "":
		kept = f.SetAsideTo
	case f.Journaled:
		kept = journal
	}
	if f.Reveal != nil {
		showOnce(e.stderr, f.Reveal)
	}
	if f.RevealRaw != nil {
		showRawOnce(e.stderr, f.RevealRaw)
	}
	if m.RecoveredFirst { // not when the recovery itself failed
		fmt.Fprintln(e.stderr, "enroll: first completed an enrollment that had been interrupted; its credentials are stored.")
	}
	if c != nil && c.json {
		r := result{Status: "failed", Recovered: m.RecoveredFirst, Error: &errorResult{
			Kind: kindName(class.Kind), Message: flow.SanitizeMax(err.Error(), 400), Hint: class.Hint, Exit: class.Exit, Journal: kept,
		}}
		writeJSON(e.stdout, r)
	}
	o := flow.Failed(err, f, journal)
	fmt.Fprintf(e.stderr, "enroll: %s\n", o.Headline[0])
	detail := ""
	if o.Reason != "" {
		// Whole, its kind's name included, as --json's message has it.
		detail = flow.SanitizeMax(err.Error(), 400)
	}
	for _, line := range []string{detail, flow.Sanitize(o.Note), o.Next} {
		if line != "" {
			fmt.Fprintf(e.stderr, "  %s\n", line)
		}
	}
	return errReported{err}
}

// fail reports an error of a command outside the flow (bad flags, an
// unreadable token file), in JSON too when --json was asked for.
func fail(e env, c *common, err error) error {
	var rep errReported
	var code errExit
	if err == nil || errors.Is(err, errHelp) || errors.As(err, &rep) || errors.As(err, &code) {
		return err
	}
	return reportFailure(e, c, flow.Machine{}, "", err)
}

// showOnce prints received credentials that could not be stored anywhere.
func showOnce(w io.Writer, c *flow.Credentials) {
	fmt.Fprintln(w, "enroll: THE SERVICE ISSUED CREDENTIALS THAT COULD NOT BE STORED. They are shown once, here:")
	fmt.Fprintf(w, "  server        %s\n", flow.Sanitize(c.Server))
	fmt.Fprintf(w, "  id            %s\n", flow.Sanitize(c.ID))
	fmt.Fprintf(w, "  clientId      %s\n", flow.Sanitize(c.ClientID))
	fmt.Fprintf(w, "  clientSecret  %s\n", flow.Sanitize(c.ClientSecret))
}

// showRawOnce prints an answer that could be neither read nor kept.
func showRawOnce(w io.Writer, raw []byte) {
	fmt.Fprintln(w, "enroll: THE SERVICE'S ANSWER COULD NOT BE READ OR KEPT. It is shown once, here, escaped:")
	fmt.Fprintf(w, "  %s\n", flow.Sanitize(string(raw))) // whole: it is the only copy
}

var kindNames = map[error]string{
	flow.ErrUsage: "usage", flow.ErrMalformed: "malformed-invitation", flow.ErrBadName: "bad-name",
	flow.ErrInvalidInvitation: "invalid-invitation", flow.ErrInvitationUsed: "invitation-used",
	flow.ErrInvitationExpired: "invitation-expired", flow.ErrNotForDevice: "not-for-this-device",
	flow.ErrUnauthorized: "device-unauthorized", flow.ErrRateLimited: "rate-limited",
	flow.ErrServer: "server-error", flow.ErrNetwork: "network", flow.ErrCertificate: "certificate-not-trusted", flow.ErrEndpointRefused: "token-endpoint-refused", flow.ErrClock: "clock-wrong", flow.ErrOutcomeUnknown: "outcome-unknown",
	flow.ErrBadResponse: "bad-response", flow.ErrStoreUnavailable: "store-unavailable",
	flow.ErrNotStored: "not-stored", flow.ErrNotEnrolled: "not-enrolled", flow.ErrUnreadable: "credentials-unreadable", flow.ErrBusy: "busy", flow.ErrPending: "pending",
	flow.ErrInterrupted: "interrupted", flow.ErrSealUnavailable: "tpm-unavailable", flow.ErrUnsealUnavailable: "tpm-unreadable",
	flow.ErrSealedElsewhere: "sealed-elsewhere", flow.ErrSealedChanged: "sealed-changed", flow.ErrJournalElsewhere: "journal-sealed-elsewhere",
}

func kindName(kind error) string {
	if n, ok := kindNames[kind]; ok {
		return n
	}
	return "unexpected"
}
