package invite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"enroll/api"
	"enroll/flow"
)

// maxSendAttempts bounds the tries of one invitation answered 429 (or 503
// with Retry-After): answers that say nothing was created, so trying again
// cannot send a duplicate.
const maxSendAttempts = 5

// errWaitTooLong is a Retry-After beyond what enroll waits: the run stops,
// since every further row would be refused too.
var errWaitTooLong = errors.New("the service asked to wait longer than enroll does")

// pacer spaces the sends of all workers: the --rate limiter, and one pause
// for everybody after a 429, because the service limits the administrator,
// not a row.
type pacer struct {
	lim   *rate.Limiter
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu    sync.Mutex
	until time.Time
}

func newPacer(perSecond float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	limit := rate.Inf
	if perSecond > 0 {
		limit = rate.Limit(perSecond)
	}
	return &pacer{lim: rate.NewLimiter(limit, 1), now: now, sleep: sleep}
}

// wait blocks until this worker may send; only ctx (an interrupt) ends it
// early, and then nothing is sent.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	d := p.until.Sub(p.now())
	p.mu.Unlock()
	if d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
	return p.lim.Wait(ctx)
}

// hold pauses everybody for d and halves the rate for the rest of the run:
// the service said we were too fast, and will likely say it again.
func (p *pacer) hold(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.now().Add(d); t.After(p.until) {
		p.until = t
	}
	if l := p.lim.Limit(); l != rate.Inf {
		p.lim.SetLimit(max(l/2, 0.2))
	}
}

type sender struct {
	svc    *api.Client
	server string
	auth   *adminAuth
	pace   *pacer
	now    func() time.Time
}

// send creates one invitation. before runs once, right before the first
// request leaves (a bulk run records "sending" there); if it fails nothing
// is sent. An interrupt (ctx) stops waits, never a request in flight: its
// answer says whether the invitation exists, so it is awaited (bounded by
// --timeout) and recorded.
func (s *sender) send(ctx context.Context, spec Spec, before func() error) (api.InvitationBody, error) {
	body := spec.body(s.now())
	reqCtx := context.WithoutCancel(ctx)
	renewed := false
	for attempt := 1; ; attempt++ {
		tok, gen, err := s.auth.token(ctx)
		if err != nil {
			return api.InvitationBody{}, err
		}
		if attempt == 1 && before != nil {
			if err := before(); err != nil {
				return api.InvitationBody{}, err
			}
		}
		inv, err := s.svc.SendInvitation(reqCtx, s.server, tok, spec.Org, body)
		var se *api.StatusError
		if err == nil || !errors.As(err, &se) {
			return inv, err
		}
		switch {
		case se.Status == 401 && !renewed:
			// A token from the client credentials grant may expire during
			// a long run; a 401 created nothing, so renew it once and retry.
			renewed = true
			ok, rerr := s.auth.renew(ctx, gen)
			if rerr != nil {
				return inv, rerr
			}
			if ok {
				continue
			}
		case se.Status == 429 || se.Status == 503 && se.RetryAfter > 0:
			wait := se.RetryAfter
			if wait <= 0 {
				wait = time.Second << min(attempt-1, 4)
			}
			if wait > api.MaxRetryAfterSecs*time.Second {
				return inv, fmt.Errorf("%w: %w; enroll waits at most %ds, so run it again later", errWaitTooLong, err, api.MaxRetryAfterSecs)
			}
			if attempt >= maxSendAttempts {
				return inv, fmt.Errorf("%w; gave up after %d attempts", err, attempt)
			}
			s.pace.hold(wait)
			if werr := s.pace.wait(ctx); werr != nil {
				return inv, fmt.Errorf("%w while waiting to send again (%w); nothing was created", flow.ErrInterrupted, err)
			}
			continue
		}
		return inv, err
	}
}

// sendClass is what became of one row, for the results file, the summary
// and the exit code. It follows the device side's table (flow.Classify)
// where the meaning is the same, and differs where the administrator's
// side differs: a send refused for its content is exit 3, and any answer
// that may hide a created invitation is unknown (exit 7), since sending it
// again could mail the same person twice.
type sendClass struct {
	State string // Sent, Failed, Unknown
	Kind  string
	Exit  int
	Abort bool // every further row would fail the same way: stop sending
	Hint  string
}

const hintRerun = "Nothing was created; run the same command again later: it sends only the rows that did not succeed."

func classifySend(err error) sendClass {
	var se *api.StatusError
	status := 0
	if errors.As(err, &se) {
		status = se.Status
	}
	switch {
	case err == nil:
		return sendClass{State: Sent}
	case errors.Is(err, flow.ErrInterrupted), errors.Is(err, context.Canceled):
		return sendClass{Failed, "interrupted", flow.ExitInterrupted, false, "Nothing was created; run the same command again to send it."}
	case errors.Is(err, errResults):
		return sendClass{Failed, "results-file", errResults.Code, true, errResults.Hint}
	case errors.Is(err, errAdminRefused), errors.Is(err, flow.ErrUnauthorized):
		return sendClass{Failed, "admin-refused", errAdminRefused.Code, true, errAdminRefused.Hint}
	case errors.Is(err, flow.ErrOutcomeUnknown), errors.Is(err, flow.ErrBadResponse):
		return sendClass{Unknown, "outcome-unknown", flow.ExitUnknown, false, "The invitation may have been created and mailed; check before sending it again (a rerun leaves it alone unless --resend-unknown)."}
	case errors.Is(err, errWaitTooLong):
		return sendClass{Failed, "rate-limited", flow.ExitUnavailable, true, hintRerun}
	case errors.Is(err, flow.ErrRateLimited):
		return sendClass{Failed, "rate-limited", flow.ExitUnavailable, false, hintRerun + " A lower --rate helps."}
	case errors.Is(err, flow.ErrCertificate):
		return sendClass{Failed, "certificate-not-trusted", flow.ExitUnavailable, true, flow.Classify(err).Hint}
	case status != 0 && errors.Is(err, flow.ErrUsage):
		return sendClass{Failed, "refused", flow.ExitRefused, false, "The service refused this invitation (an unknown organization or group, or a value it does not accept); fix it and run the same command again."}
	case errors.Is(err, flow.ErrServer), errors.Is(err, flow.ErrNetwork):
		return sendClass{Failed, "unavailable", flow.ExitUnavailable, false, hintRerun}
	case errors.Is(err, flow.ErrUsage):
		return sendClass{Failed, "usage", flow.ExitUsage, true, "See enroll invite --help."}
	}
	return sendClass{Failed, "unexpected", flow.ExitUnexpected, false, "Run again with --verbose and report the message."}
}

// exitPrecedence orders the codes of a run whose rows ended differently:
// the first that applies is the exit code. What needs a person (an
// interrupt, refused credentials, the results file, unknown outcomes,
// refused rows) comes before what a plain rerun fixes (5).
var exitPrecedence = []int{flow.ExitUsage, flow.ExitInterrupted, flow.ExitDevice, flow.ExitStore, flow.ExitUnexpected, flow.ExitUnknown, flow.ExitRefused, flow.ExitUnavailable}

// exitWith ends a command whose messages are printed already.
func exitWith(code int) error {
	if code == flow.ExitOK {
		return nil
	}
	return flow.Exit(code)
}

func worstExit(codes map[int]bool) int {
	for _, c := range exitPrecedence {
		if codes[c] {
			return c
		}
	}
	return flow.ExitOK
}
