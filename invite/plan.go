package invite

import (
	"fmt"

	"enroll/flow"
)

// plan matches the rows with the results file. A row is keyed by its ref,
// or else by its fingerprint and how many identical rows precede it, so
// that reordering or inserting rows does not confuse a rerun.
func (b *bulkRun) plan(prior map[string]Record) (todo []int, earlier []Row, conflicts []rowError) {
	seen := map[string]int{}
	for i, s := range b.specs {
		fp := s.fingerprint(b.server)
		key := "ref:" + s.Ref
		if s.Ref == "" {
			seen[fp]++
			key = fmt.Sprintf("row:%s#%d", fp, seen[fp])
		}
		b.keys, b.fps = append(b.keys, key), append(b.fps, fp)
		rec, ok := prior[key]
		out := Row{Line: s.Line, Ref: s.Ref, Email: s.Email}
		switch {
		case !ok || rec.State == Failed:
			todo = append(todo, i)
		case rec.Fingerprint != fp && rec.State == Sent:
			conflicts = append(conflicts, rowError{s.Line, fmt.Sprintf("ref %s was sent by an earlier run with other values (or to another server); restore the row, give it a new ref, or use another --results file", s.Ref)})
		case rec.State == Sent:
			out.State, out.InvitationID, out.ValidUntil = outAlreadySent, rec.InvitationID, rec.ValidUntil
			if b.o.ShowLinks {
				out.Link, out.Token = rec.Link, rec.Token
			}
			earlier = append(earlier, out)
			b.ended[i].Store(true)
		case b.o.ResendUnknown:
			todo = append(todo, i)
		default: // sending or unknown: the service may have created it
			out.State, out.Kind, out.Exit = Unknown, "outcome-unknown", flow.ExitUnknown
			out.Message = "an earlier run sent this row but got no answer (it was interrupted or the connection dropped), so it may have been created and mailed"
			out.Hint = "Check whether these invitations exist (was a mail received?); then run again with --resend-unknown to send those that do not."
			earlier = append(earlier, out)
			b.ended[i].Store(true)
		}
	}
	return todo, earlier, conflicts
}

func (b *bulkRun) reportCheck(toSend int, earlier []Row) error {
	s := Summary{Rows: len(b.specs), ToSend: toSend, Check: true, Results: b.o.Results}
	for _, o := range earlier {
		if o.State == outAlreadySent {
			s.AlreadySent++
		} else {
			s.Unknown++
		}
	}
	if b.o.JSON {
		writeJSON(b.o.Stdout, map[string]Summary{"summary": s})
	}
	fmt.Fprintf(b.o.Stderr, "enroll: %s: %d rows are valid: %d to send, %d sent by an earlier run, %d with an unknown outcome (not sent again without --resend-unknown). Nothing was sent.\n",
		flow.Sanitize(b.o.From), s.Rows, s.ToSend, s.AlreadySent, s.Unknown)
	return nil
}
