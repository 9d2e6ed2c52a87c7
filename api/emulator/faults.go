package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault changes how the next request of one operation is answered, so that
// the client's handling of failures is tested against real HTTP. The steps
// apply in this order: Delay, DropBeforeCommit, Status, the normal handling,
// DropAfterCommit.
type Fault struct {
	// Status, when not zero, answers with this status and Body (and
	// Retry-After when RetryAfter is set) without touching any state.
	Status     int
	Body       string
	RetryAfter string
	// Delay waits before handling, or until the client gives up.
	Delay time.Duration
	// DropBeforeCommit closes the connection without answering and without
	// changing state: the client cannot know whether anything happened.
	DropBeforeCommit bool
	// DropAfterCommit handles the request (an accept does accept) and then
	// closes the connection without answering: the outcome the client
	// must treat as unknown.
	DropAfterCommit bool
}

// FailNext queues a fault for the next request of op. Faults of one op are
// used in order, each once. An unknown op panics: a typo would otherwise
// make a fault test pass without any fault.
func (e *Emulator) FailNext(op string, f Fault) {
	if !validOp(op) {
		panic(fmt.Sprintf("emulator: FailNext: unknown op %q", op))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults[op] = append(e.faults[op], f)
}

// SetDown makes every service call (not the control surface) answer 503
// until it is called with false; queued faults wait meanwhile.
func (e *Emulator) SetDown(down bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.down = down
}

// allOps are the operations faults and counters are kept for.
func allOps() []string { return []string{OpAccept, OpDecline, OpToken, OpSend, OpDiscovery} }

func validOp(op string) bool { return slices.Contains(allOps(), op) }

// reply is a handler's answer, kept apart from writing it so that a fault
// can drop it after the state change it reports was made.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (rp reply) write(w http.ResponseWriter) {
	for k, v := range rp.header {
		w.Header()[k] = v
	}
	if len(rp.body) > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rp.status)
	w.Write(rp.body) //nolint:errcheck // the client went away; nothing to do
}

// service wraps the handler of one operation with counting, the down switch
// and fault injection. The handler runs with the body capped; it does its
// own locking so that delays and drops happen outside the lock.
func (e *Emulator) service(op string, h func(*http.Request) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, down := e.enter(op)
		if down {
			reply{status: http.StatusServiceUnavailable, body: []byte(`{"error":"server_error"}`)}.write(w)
			return
		}
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return // the client gave up; nobody reads an answer
			}
		}
		if f.DropBeforeCommit {
			drop(w)
			return
		}
		if f.Status != 0 {
			rp := reply{status: f.Status, header: http.Header{}, body: []byte(f.Body)}
			if f.RetryAfter != "" {
				rp.header.Set("Retry-After", f.RetryAfter)
			}
			if f.Body != "" && !strings.HasPrefix(strings.TrimSpace(f.Body), "{") {
				rp.header.Set("Content-Type", "text/plain; charset=utf-8")
			}
			rp.write(w)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rp := h(r)
		if f.DropAfterCommit {
			drop(w)
			return
		}
		rp.write(w)
	}
}

// enter counts the call and takes the op's next fault, unless the service
// is down, in which case the fault stays queued.
func (e *Emulator) enter(op string) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls[op]++
	if e.down {
		return Fault{}, true
	}
	q := e.faults[op]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	e.faults[op] = q[1:]
	return f, false
}

// drop closes the connection without an answer. Hijacking gives the client
// a clean EOF or reset on HTTP/1; where hijacking is impossible (HTTP/2,
// httptest.ResponseRecorder) the server's abort panic does the same job, so
// drop faults need a real server.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
