package doctor

import (
	"context"
	"errors"
	"strings"

	"enroll/flow"
)

// The TPM check (issue 18). When the credentials are sealed, Load has
// asked the TPM for the data key and decrypted the secret in memory; the
// check says so, or why not, and does the same for a sealed journal
// (enroll accept must unseal it to finish it). When nothing is sealed yet
// but ENROLL_SEAL asks for it, it proves the TPM the way accept's
// preflight does (a new data key sealed and unsealed; nothing is kept, in
// the TPM or on disk). The secret is never printed.

// Sealer proves a TPM before anything is sealed with it (seal.TPM).
type Sealer interface {
	Ready(ctx context.Context) error
}

// unsealFailure reports whether err is the TPM's: a sealed file or journal
// that does not unseal here, or a TPM that cannot be used.
func unsealFailure(err error) bool {
	for _, k := range []error{flow.ErrSealedElsewhere, flow.ErrSealedChanged, flow.ErrJournalElsewhere, flow.ErrUnsealUnavailable} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// tpm is the check's line. loadErr is Load's; journalSealed and
// journalErr are ProveJournal's.
func (r *run) tpm(ctx context.Context, snap snapshot, loadErr error, journalSealed bool, journalErr error) {
	dev := flow.Sanitize(r.o.TPM)
	fileSealed := snap.Existing != nil && snap.Existing.Sealed
	switch {
	case unsealFailure(loadErr):
		r.add(failed("tpm", loadErr, ""))
		return
	case journalErr != nil:
		r.add(failed("tpm", journalErr, ""))
		return
	case fileSealed || journalSealed:
		var what []string
		if fileSealed {
			what = append(what, "the credentials file's data key (its secret decrypts; not shown)")
		}
		if journalSealed {
			what = append(what, "the journal's (enroll accept can finish it here)")
		}
		r.add(Check{Name: "tpm", Status: OK, Detail: "opened the TPM at " + dev + " and unsealed " + strings.Join(what, " and ")})
		return
	case loadErr != nil:
		r.add(skipped("tpm", "the credentials cannot be read"))
		return
	}
	mode := strings.ToLower(strings.TrimSpace(r.o.Seal))
	switch mode {
	case "", "none":
		r.add(skipped("tpm", "nothing is sealed, and ENROLL_SEAL is none"))
		return
	case "tpm", "auto":
	default:
		r.add(Check{Name: "tpm", Status: Warn, Detail: "ENROLL_SEAL=" + flow.Quoted(r.o.Seal) + " is not none, tpm or auto",
			Hint: "Fix it where it is set (see config): enroll accept refuses it."})
		return
	}
	if r.o.Sealer == nil {
		r.add(skipped("tpm", "no TPM is configured"))
		return
	}
	if err := r.o.Sealer.Ready(ctx); err != nil {
		c := failed("tpm", err, "")
		if mode == "auto" {
			// auto stores the secret unsealed without a TPM: not a failure.
			c.Status, c.Kind = Warn, nil
			c.Detail += "; with ENROLL_SEAL=auto the secret is stored unsealed"
		}
		r.add(c)
		return
	}
	c := Check{Name: "tpm", Status: OK, Detail: "the TPM at " + dev + " seals and unseals a new data key (ENROLL_SEAL=" + mode + "); the next enroll accept seals the secret"}
	if snap.Existing != nil {
		c.Status = Warn
		c.Detail = "the TPM at " + dev + " seals and unseals a new data key (ENROLL_SEAL=" + mode + "), but the stored secret is not sealed"
		c.Hint = "enroll seal seals it in place (the next enroll accept would too)."
	}
	r.add(c)
}
