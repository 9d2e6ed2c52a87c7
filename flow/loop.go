package flow

import "context"

// Loop is the effect loop that Run, the plain runner and the wizard drive:
// the effects a machine asked for that have not run yet, and whether it
// heard the interruption. It holds their shared rule: an interruption that
// came while an effect ran is heard before that effect's outcome (see
// Done). The machine stays with its driver, which passes it in.
type Loop struct {
	queue []Effect
	heard bool // the machine was told of the interruption
}

// Start begins a run: the first machine, its first effect queued.
func (l *Loop) Start(cfg Config) Machine {
	m, queue := Start(cfg)
	*l = Loop{queue: queue}
	return m
}

// Feed steps m with ev and queues the effects it asks for.
func (l *Loop) Feed(m *Machine, ev Event) {
	var more []Effect
	*m, more = Step(*m, ev)
	l.queue = append(l.queue, more...)
}

// Interrupt tells m of an interruption, once a run, and reports whether it
// did. A final machine is not told: nothing is left to stop.
func (l *Loop) Interrupt(m *Machine) bool {
	if l.heard || m.State.Terminal() {
		return false
	}
	l.heard = true
	l.Feed(m, Interrupt{})
	return true
}

// Next takes the next effect off the queue, ready to run, or reports false
// when none is queued. run executes it with ctx carrying m's secrets, which
// whatever the service logs must cut; it may run on another goroutine (the
// wizard's commands do), and its event goes to Done.
func (l *Loop) Next(d Driver, m Machine) (run func(ctx context.Context) Event, ok bool) {
	if len(l.queue) == 0 {
		return nil, false
	}
	eff, secrets := l.queue[0], m.Secrets()
	l.queue = l.queue[1:]
	return func(ctx context.Context) Event { return d.Execute(WithSecrets(ctx, secrets...), eff) }, true
}

// Done feeds m the event an effect returned (nil: none), after the
// interruption if interrupted says one came while the effect ran: whatever
// the event, a store that got ready or a token that arrived must not carry
// the run on into the accept call, and an effect cut short by the
// interruption is no failure of its own.
func (l *Loop) Done(m *Machine, ev Event, interrupted bool) { l.done(m, ev, interrupted, nil) }

// Drain runs the queued effects with d, in order, until none is left.
// interrupted reports an interruption of the run: it is heard before each
// effect, before each outcome (as Done does) and once more at the end.
// stepped, if not nil, is called after each step with the event stepped.
func (l *Loop) Drain(ctx context.Context, d Driver, m *Machine, interrupted func() bool, stepped func(Event)) {
	for {
		l.hear(m, interrupted(), stepped)
		run, ok := l.Next(d, *m)
		if !ok {
			return
		}
		l.done(m, run(ctx), interrupted(), stepped)
	}
}

func (l *Loop) done(m *Machine, ev Event, interrupted bool, stepped func(Event)) {
	if ev == nil {
		return
	}
	l.hear(m, interrupted, stepped)
	l.Feed(m, ev)
	if stepped != nil {
		stepped(ev)
	}
}

func (l *Loop) hear(m *Machine, interrupted bool, stepped func(Event)) {
	if interrupted && l.Interrupt(m) && stepped != nil {
		stepped(Interrupt{})
	}
}
