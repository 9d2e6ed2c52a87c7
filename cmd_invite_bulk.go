package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"enroll/flow"
)

type bulkOptions struct {
	from, results              string
	concurrency                int
	rate                       float64
	resendUnknown, check, show bool
}

// bulkRun is one run of `enroll invite --from FILE.csv`.
type bulkRun struct {
	e      env
	c      *common
	o      bulkOptions
	h      inviteHooks
	server string
	specs  []inviteSpec
	keys   []string
	fps    []string
	res    *resultsFile
	send   *sender
	rep    *reporter

	ended    []atomic.Bool // the row has its outcome
	inFlight atomic.Int32
	mu       sync.Mutex
	stop     *sendClass // why no further row is sent, nil while all is well
	stopMsg  string
	downRun  int // rows failed as unavailable in a row
}

// stopAfterUnavailable ends a run whose service is plainly down, instead
// of failing the remaining hundreds of rows one by one.
const stopAfterUnavailable = 8

func runBulk(ctx context.Context, e env, c *common, o bulkOptions, def inviteSpec, server string, src adminSource, h inviteHooks) error {
	data, err := readCSVFile(o.from)
	if err != nil {
		return fail(e, c, err)
	}
	specs, rowErrs := readInviteCSV(data, def, server, h.now(), o.show)
	if len(rowErrs) > 0 {
		return reportRowErrors(e, c, o.from, rowErrs)
	}
	if o.check && !exists(o.results) { // a check creates nothing
		b := &bulkRun{e: e, c: c, o: o, server: server, specs: specs, ended: make([]atomic.Bool, len(specs))}
		todo, _, _ := b.plan(nil)
		return b.reportCheck(len(todo), nil)
	}
	res, prior, warnings, err := openResults(o.results)
	if err != nil {
		return fail(e, c, err)
	}
	defer res.Close()
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "enroll: warning: %s\n", w)
	}
	b := &bulkRun{e: e, c: c, o: o, h: h, server: server, specs: specs, res: res, ended: make([]atomic.Bool, len(specs))}
	todo, earlier, conflicts := b.plan(prior)
	if len(conflicts) > 0 {
		return reportRowErrors(e, c, o.results, conflicts)
	}
	if o.check {
		return b.reportCheck(len(todo), earlier)
	}
	b.rep = newReporter(e, c, len(specs), o.show)
	for _, out := range earlier {
		b.finish(-1, out)
	}
	var extra []int
	if len(todo) > 0 {
		extra = b.sendAll(ctx, todo, src)
	}
	stopped := ""
	if b.stop != nil {
		stopped = b.stopMsg
	}
	return exitWith(b.rep.finish(o.results, stopped, extra...))
}

func readCSVFile(path string) ([]byte, error) {
	if path == "-" {
		return nil, fmt.Errorf("%w: --from needs a file, not stdin: a rerun must read the same rows", flow.ErrUsage)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read the CSV file: %w", flow.ErrUsage, err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxCSVBytes+1))
}

// sendAll authenticates, then sends the rows with o.concurrency workers.
// It returns exit codes that no row carries.
func (b *bulkRun) sendAll(ctx context.Context, todo []int, src adminSource) []int {
	svc, err := b.c.client(b.e)
	if err != nil {
		b.halt(classifySend(err), err.Error())
		return b.leftovers(ctx)
	}
	auth, err := newAdminAuth(b.e, src, svc, b.server)
	if err == nil {
		_, _, err = auth.token(ctx) // before any row: a refused integration client fails once
	}
	if err != nil {
		b.halt(classifySend(err), flow.SanitizeMax(err.Error(), 400))
		return b.leftovers(ctx)
	}
	b.send = &sender{svc: svc, server: b.server, auth: auth, now: b.h.now, pace: newPacer(b.o.rate, b.h.now, b.h.sleep)}
	// Say why an interrupted run does not end at once; the notice is done
	// before sendAll returns, so it never races the summary.
	var noticed sync.WaitGroup
	noticed.Add(1)
	stopNotice := context.AfterFunc(ctx, func() {
		defer noticed.Done()
		if n := b.inFlight.Load(); n > 0 {
			b.rep.note(fmt.Sprintf("enroll: interrupted; waiting for the answers to the %d invitation(s) being sent (at most %s), so that they are recorded", n, b.c.timeout))
		}
	})
	defer func() {
		if stopNotice() {
			noticed.Done() // it will never run
		}
		noticed.Wait()
	}()
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for _, i := range todo {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range b.o.concurrency {
		wg.Go(func() {
			for i := range jobs {
				b.one(ctx, i)
			}
		})
	}
	wg.Wait()
	return b.leftovers(ctx)
}

// one sends row i, unless the run stopped or was interrupted meanwhile, in
// which case the row is left for leftovers and the next run.
func (b *bulkRun) one(ctx context.Context, i int) {
	if b.stopped() || b.send.pace.wait(ctx) != nil || b.stopped() {
		return
	}
	s := b.specs[i]
	rec := resultRecord{Key: b.keys[i], Line: s.Line, Ref: s.Ref, Email: s.Email, Fingerprint: b.fps[i]}
	record := func(state string) error {
		rec.State, rec.At = state, b.h.now().UTC()
		if b.h.failWrite != nil {
			if err := b.h.failWrite(rec); err != nil {
				return fmt.Errorf("%w: cannot write the results file: %w", errResults, err)
			}
		}
		err := b.res.append(rec)
		if err == nil && b.h.recorded != nil {
			b.h.recorded(rec)
		}
		return err
	}
	b.inFlight.Add(1)
	inv, err := b.send.send(ctx, s, func() error { return record(stSending) })
	b.inFlight.Add(-1)
	cl := classifySend(err)
	out := rowOutcome{Line: s.Line, Ref: s.Ref, Email: s.Email, State: cl.State, Kind: cl.Kind, Exit: cl.Exit, Hint: cl.Hint}
	if err != nil {
		out.Message = flow.SanitizeMax(err.Error(), 400)
		rec.Kind, rec.Message = cl.Kind, out.Message
	} else {
		out.InvitationID, out.ValidUntil = inv.ID, inv.ValidUntil
		rec.InvitationID, rec.ValidUntil = inv.ID, inv.ValidUntil
		if b.o.show {
			out.Link, out.Token, rec.Link, rec.Token = inv.Link, inv.Token, inv.Link, inv.Token
		}
	}
	if cl.Kind != "results-file" { // else "sending" was not written, nothing was sent
		if werr := record(cl.State); werr != nil {
			// The row's "sending" record stands: the next run calls it
			// unknown, which is the truth as far as the file can tell.
			wcl := classifySend(werr)
			out.Message = flow.SanitizeMax(fmt.Sprintf("%s (not recorded: %v)", firstOf(out.Message, "sent"), werr), 400)
			out.Kind, out.Exit, out.Hint = wcl.Kind, wcl.Exit, wcl.Hint
			b.halt(wcl, werr.Error())
		}
	}
	b.count(cl)
	if cl.Abort {
		b.halt(cl, out.Message)
	}
	b.finish(i, out)
}

// count stops a run whose service is down: after stopAfterUnavailable
// failures in a row, without one success, the rest would fail too.
func (b *bulkRun) count(cl sendClass) {
	b.mu.Lock()
	if cl.Kind == "unavailable" {
		b.downRun++
	} else {
		b.downRun = 0
	}
	down := b.downRun >= stopAfterUnavailable
	b.mu.Unlock()
	if down {
		b.halt(sendClass{State: stFailed, Kind: "unavailable", Exit: flow.ExitUnavailable, Hint: hintRerun}, fmt.Sprintf("stopped after %d failures in a row: the service looks unavailable", stopAfterUnavailable))
	}
}

func (b *bulkRun) halt(cl sendClass, msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stop == nil {
		b.stop, b.stopMsg = &cl, msg
	}
}

func (b *bulkRun) stopped() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stop != nil
}

// finish reports row i's outcome (i < 0: a row plan already marked ended).
func (b *bulkRun) finish(i int, o rowOutcome) {
	if i >= 0 {
		b.ended[i].Store(true)
	}
	b.rep.row(o)
}

// leftovers reports the rows never tried, saying why, and returns the exit
// code that explains them.
func (b *bulkRun) leftovers(ctx context.Context) []int {
	b.mu.Lock()
	why := sendClass{Kind: "interrupted", Exit: flow.ExitInterrupted, Hint: "Run the same command again to send them."}
	msg := "not sent: the run was interrupted"
	if b.stop != nil && ctx.Err() == nil {
		why, msg = *b.stop, "not sent: the run stopped: "+b.stopMsg
	}
	b.mu.Unlock()
	left := 0
	for i, s := range b.specs {
		if !b.ended[i].Load() {
			left++
			b.finish(i, rowOutcome{Line: s.Line, Ref: s.Ref, Email: s.Email, State: outNotSent, Kind: why.Kind, Exit: why.Exit, Message: msg, Hint: why.Hint})
		}
	}
	if left == 0 {
		return nil
	}
	return []int{why.Exit}
}
