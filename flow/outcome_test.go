package flow

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestOutcomeOf(t *testing.T) {
	c := Credentials{Server: testServer, ID: "c-1", ClientID: "client-1", ClientSecret: "s3cret-value",
		Name: "lab s3cret-value", EnrolledAt: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	tests := []struct {
		name string
		m    Machine
		want []string // headline, then "Label=Value" of each row
	}{
		{"enrolled", Machine{State: StateDone, Result: &c},
			[]string{sayEnrolled, "Server=" + testServer, "Name=lab [redacted]", "ID=c-1", "Client ID=client-1",
				"Secret=" + NotShown, "Enrolled=2026-11-28T12:00:00Z", "File=/creds.json"}},
		{"added", Machine{State: StateDone, Result: &c, Existing: &c, Invitation: Invitation{Token: testToken}},
			[]string{sayAdded, "Server=" + testServer, "Name=lab [redacted]", "ID=c-1", "Client ID=client-1",
				"Secret=" + NotShown, "Enrolled=2026-11-28T12:00:00Z", "File=/creds.json"}},
		{"recovered", Machine{State: StateDone, Result: &c, Recovered: true},
			[]string{sayRecovered, "Server=" + testServer, "Name=lab [redacted]", "ID=c-1", "Client ID=client-1",
				"Secret=" + NotShown, "Enrolled=2026-11-28T12:00:00Z", "File=/creds.json"}},
		{"declined", Machine{State: StateDeclined}, []string{sayDeclined}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := OutcomeOf(tt.m, "/creds.json", "")
			got := append([]string(nil), o.Headline...)
			for _, r := range o.Rows {
				got = append(got, r.Label+"="+r.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFailedOutcome(t *testing.T) {
	c := Credentials{Server: testServer, ID: "c-1", ClientID: "client-1", ClientSecret: "s3cret-value"}
	err := fmt.Errorf("%w: write: no space left on device", ErrNotStored)
	o := Failed(err, Failure{Reveal: &c, Journaled: true}, "/creds.json.pending")
	if o.Reason != "write: no space left on device" || o.Shown == "" || o.Note != "" || o.Next != sayCopyNow {
		t.Errorf("credentials shown once: %+v", o)
	}
	if last := o.Rows[len(o.Rows)-1]; last.Label != LabelSecret || last.Value != c.ClientSecret {
		t.Errorf("the secret row is %+v, want the secret itself: it is kept nowhere else", last)
	}
	o = Failed(err, Failure{Journaled: true}, "/creds.json.pending")
	if !strings.Contains(o.Note, "/creds.json.pending.") || o.Next != Classify(err).Hint {
		t.Errorf("journaled: %+v", o)
	}
	if o := Failed(ErrInterrupted, Failure{}, ""); o.Reason != "" || o.Headline[0] != "Interrupted." {
		t.Errorf("a bare kind has no reason of its own: %+v", o)
	}
	if o := Failed(errors.New("boom"), Failure{}, ""); o.Reason != "boom" {
		t.Errorf("an unexpected error keeps its text: %+v", o)
	}
}
