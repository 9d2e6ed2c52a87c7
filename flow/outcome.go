package flow

import "time"

// Labels of the facts an outcome lists, spelled once for every front end.
// The command line's block prints them in lower case, as a record.
const (
	LabelServer   = "Server"
	LabelName     = "Name"
	LabelID       = "ID"
	LabelClientID = "Client ID"
	LabelSecret   = "Secret"
	LabelEnrolled = "Enrolled"
	LabelFile     = "File"
)

// NotShown is the value of the secret's row: it is stored, never printed.
const NotShown = "stored, not shown"

// NotShownSealed is the secret's row when it is sealed to the TPM.
const NotShownSealed = "stored, sealed to this device's TPM, not shown"

// Row is one labelled fact of an outcome. Values are not sanitized: each
// front end sanitizes and caps them for its layout.
type Row struct {
	Label, Value string
	// Record marks the enrollment time: part of the printed record, left
	// out by the screens, which show the enrollment as it happens.
	Record bool
}

// Outcome is how a run ended, worded once: the wizard styles it, the plain
// runner prints it line by line, the command line prints it as a block.
type Outcome struct {
	Headline []string // what happened, a sentence each
	Reason   string   // a failure's detail, "" where the headline says it all
	Note     string   // one more fact: nothing was stored, where the answer is kept
	Shown    string   // heads Rows or Raw of a failure, kept nowhere else
	Rows     []Row    // the credentials: as stored, or (Shown) shown once
	Raw      string   // an answer kept nowhere else, shown once
	Next     string   // what to do next
}

// Sentences of the outcomes.
const (
	sayRecovered = "Completed an enrollment that had been interrupted."
	sayEnrolled  = "Enrolled: this device is now a device client."
	sayAdded     = "This device was already a device client; the invitation added it to more groups."
	sayDeclined  = "Declined the invitation."
	sayNothing   = "Nothing was stored on this device."
	// sayNext is for a person; the command line's record leaves it out.
	sayNext = "Next: the licensed application reads the credentials file; `enroll status --verify` checks that the service accepts them."
	// sayNextSealed: a sealed secret is read by enroll alone.
	sayNextSealed = "Next: the licensed application gets access tokens with `enroll token` (the secret is sealed); `enroll status --verify` checks that the service accepts them."
	sayShownOnce  = "Shown once, here:"
	sayRawOnce    = "The service's answer, shown once, here, escaped:"
	sayCopyNow    = "What is shown above is kept nowhere else: copy it now. For the credentials, write them into the credentials file by hand once the disk is fixed (the README shows the format)."
)

// OutcomeOf words how m ended. file is the credentials file, journal where
// a journaled answer is kept.
func OutcomeOf(m Machine, file, journal string) Outcome {
	if m.State == StateFailed && m.Failure != nil {
		return Failed(m.Failure.Err, *m.Failure, journal)
	}
	var o Outcome
	if m.Recovered {
		o.Headline = append(o.Headline, sayRecovered)
	}
	switch {
	case m.State == StateDeclined:
		o.Headline = append(o.Headline, sayDeclined)
		if !m.Recovered {
			o.Note = sayNothing
		}
		return o
	case m.Recovered && m.Invitation.Token == "":
		// nothing more happened
	case m.Existing != nil:
		o.Headline = append(o.Headline, sayAdded)
	default:
		o.Headline = append(o.Headline, sayEnrolled)
	}
	if m.Result != nil {
		o.Rows, o.Next = CredentialRows(*m.Result, file), sayNext
		if m.Result.Sealed {
			o.Next = sayNextSealed
		}
	}
	return o
}

// CredentialRows lists stored credentials, the secret as NotShown. A file
// written by hand, or by a service before enroll refused such answers, may
// hold the secret in another field: it is cut out of every value but the
// file's, the operator's own path.
func CredentialRows(c Credentials, file string) []Row {
	cut := func(v string) string { return Redact(v, c.Secrets()...) }
	rows := []Row{
		{Label: LabelServer, Value: cut(c.Server)},
		{Label: LabelName, Value: cut(c.Name)},
		{Label: LabelID, Value: cut(c.ID)},
		{Label: LabelClientID, Value: cut(c.ClientID)},
		{Label: LabelSecret, Value: cut(NotShown)},
	}
	if c.Sealed {
		rows[len(rows)-1].Value = NotShownSealed
	}
	if !c.EnrolledAt.IsZero() {
		rows = append(rows, Row{Label: LabelEnrolled, Value: cut(c.EnrolledAt.UTC().Format(time.RFC3339)), Record: true})
	}
	return append(rows, Row{Label: LabelFile, Value: file})
}

// Failed words a failure: err, and what the machine kept of it (f; the
// zero Failure for an error outside the flow). journal is where a
// journaled answer is kept. What would otherwise be lost is in Rows or Raw
// (DESIGN §5): credentials the service issued, secret included, or an
// answer that could be neither read nor kept.
func Failed(err error, f Failure, journal string) Outcome {
	class := Classify(err)
	o := Outcome{Headline: []string{class.Summary}, Next: class.Hint}
	if err != nil && (class.Kind == nil || err.Error() != class.Kind.Error()) {
		o.Reason = Message(err) // not the bare kind ("interrupted" under "Interrupted.")
	}
	if c := f.Reveal; c != nil {
		o.Shown, o.Rows = sayShownOnce, []Row{
			{Label: LabelServer, Value: c.Server},
			{Label: LabelID, Value: c.ID},
			{Label: LabelClientID, Value: c.ClientID},
			{Label: LabelSecret, Value: c.ClientSecret},
		}
	}
	if f.RevealRaw != nil {
		o.Raw = string(f.RevealRaw)
		if o.Shown == "" {
			o.Shown = sayRawOnce
		}
	}
	switch {
	case o.Shown != "":
		o.Next = sayCopyNow
	case f.SetAsideTo != "":
		o.Note = "The service's answer is kept in " + f.SetAsideTo + ", out of the way of later runs."
	case f.Journaled && journal != "":
		o.Note = "The service's answer is kept in " + journal + "."
	}
	return o
}
