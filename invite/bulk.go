package invite

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"enroll/flow"
	"enroll/persist/durable"
)

// bulkRun is one run of `enroll invite --from FILE.csv`.
type bulkRun struct {
	o      Options
	server string
	specs  []Spec
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

// StopAfterUnavailable ends a run whose service is plainly down, instead
// of failing the remaining hundreds of rows one by one.
const StopAfterUnavailable = 8

func runBulk(ctx context.Context, o Options) error {
	data, err := readCSVFile(o.From)
	if err != nil {
		return err
	}
	specs, rowErrs := readInviteCSV(data, o.Defaults, o.Server, o.Now(), o.ShowLinks)
	if len(rowErrs) > 0 {
		return reportRowErrors(o, o.From, rowErrs)
	}
	if o.Check && !durable.Exists(o.Results) { // a check creates nothing
		b := &bulkRun{o: o, server: o.Server, specs: specs, ended: make([]atomic.Bool, len(specs))}
		todo, _, _ := b.plan(nil)
		return b.reportCheck(len(todo), nil)
	}
	res, prior, warnings, err := openResults(o.Results)
	if err != nil {
		return err
	}
	defer res.Close()
	for _, w := range warnings {
		fmt.Fprintf(o.Stderr, "enroll: warning: %s\n", w)
	}
	b := &bulkRun{o: o, server: o.Server, specs: specs, res: res, ended: make([]atomic.Bool, len(specs))}
	todo, earlier, conflicts := b.plan(prior)
	if len(conflicts) > 0 {
		return reportRowErrors(o, o.Results, conflicts)
	}
	if o.Check {
		return b.reportCheck(len(todo), earlier)
	}
	b.rep = newReporter(o, len(specs))
	for _, out := range earlier {
		b.finish(-1, out)
	}
	var extra []int
	if len(todo) > 0 {
		extra = b.sendAll(ctx, todo)
	}
	stopped := ""
	if b.stop != nil {
		stopped = b.stopMsg
	}
	return exitWith(b.rep.finish(o.Results, stopped, extra...))
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
func (b *bulkRun) sendAll(ctx context.Context, todo []int) []int {
	svc, err := b.o.Client()
	if err != nil {
		b.halt(classifySend(err), err.Error())
		return b.leftovers(ctx)
	}
	auth, err := newAdminAuth(b.o, svc)
	if err == nil {
		_, _, err = auth.token(ctx) // before any row: a refused integration client fails once
	}
	if err != nil {
		b.halt(classifySend(err), flow.SanitizeMax(err.Error(), 400))
		return b.leftovers(ctx)
	}
	b.send = &sender{svc: svc, server: b.server, auth: auth, now: b.o.Now, pace: newPacer(b.o.Rate, b.o.Now, b.o.Sleep)}
	// Say why an interrupted run does not end at once; the notice is done
	// before sendAll returns, so it never races the summary.
	var noticed sync.WaitGroup
	noticed.Add(1)
	stopNotice := context.AfterFunc(ctx, func() {
		defer noticed.Done()
		if n := b.inFlight.Load(); n > 0 {
			b.rep.note(fmt.Sprintf("enroll: interrupted; waiting for the answers to the %d invitation(s) being sent (at most %s), so that they are recorded", n, b.o.Timeout))
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
	for range b.o.Concurrency {
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
	rec := Record{Key: b.keys[i], Line: s.Line, Ref: s.Ref, Email: s.Email, Fingerprint: b.fps[i]}
	record := func(state string) error {
		rec.State, rec.At = state, b.o.Now().UTC()
		if b.o.FailWrite != nil {
			if err := b.o.FailWrite(rec); err != nil {
				return fmt.Errorf("%w: cannot write the results file: %w", errResults, err)
			}
		}
		err := b.res.append(rec)
		if err == nil && b.o.Recorded != nil {
			b.o.Recorded(rec)
		}
		return err
	}
	b.inFlight.Add(1)
	inv, err := b.send.send(ctx, s, func() error { return record(Sending) })
	b.inFlight.Add(-1)
	cl := classifySend(err)
	out := Row{Line: s.Line, Ref: s.Ref, Email: s.Email, State: cl.State, Kind: cl.Kind, Exit: cl.Exit, Hint: cl.Hint}
	if err != nil {
		out.Message = flow.SanitizeMax(err.Error(), 400)
		rec.Kind, rec.Message = cl.Kind, out.Message
	} else {
		out.InvitationID, out.ValidUntil = inv.ID, inv.ValidUntil
		rec.InvitationID, rec.ValidUntil = inv.ID, inv.ValidUntil
		if b.o.ShowLinks {
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

// count stops a run whose service is down: after StopAfterUnavailable
// failures in a row, without one success, the rest would fail too.
func (b *bulkRun) count(cl sendClass) {
	b.mu.Lock()
	if cl.Kind == "unavailable" {
		b.downRun++
	} else {
		b.downRun = 0
	}
	down := b.downRun >= StopAfterUnavailable
	b.mu.Unlock()
	if down {
		b.halt(sendClass{State: Failed, Kind: "unavailable", Exit: flow.ExitUnavailable, Hint: hintRerun}, fmt.Sprintf("stopped after %d failures in a row: the service looks unavailable", StopAfterUnavailable))
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
func (b *bulkRun) finish(i int, o Row) {
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
			b.finish(i, Row{Line: s.Line, Ref: s.Ref, Email: s.Email, State: outNotSent, Kind: why.Kind, Exit: why.Exit, Message: msg, Hint: why.Hint})
		}
	}
	if left == 0 {
		return nil
	}
	return []int{why.Exit}
}
