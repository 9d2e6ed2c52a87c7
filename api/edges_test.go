package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"enroll/flow"
)

// Statuses run to 599; past it an answer says nothing enroll can use.
func TestStatusRange(t *testing.T) {
	for status, usable := range map[int]bool{599: true, 600: false} {
		e := newStubEnv(t)
		e.reg.Register("PUT", PathDecline, jsonResp(status, `{"message":"m"}`))
		err := e.c.Decline(context.Background(), flow.DeclineRequest{Server: stubServer, Token: secretToken})
		var se *StatusError
		if got := errors.As(err, &se) && se.Status == status; got != usable || !errors.Is(err, flow.ErrServer) {
			t.Errorf("%d: %v; want a status answer: %v", status, err, usable)
		}
		if !usable && !strings.Contains(err.Error(), "which enroll cannot use") {
			t.Errorf("%d: %v", status, err)
		}
	}
}

// A Retry-After of exactly MaxRetryAfterSecs is honoured; one second more
// is not started. (The call's own time limit is set out of the way.)
func TestRetryAfterHonouredToTheLimit(t *testing.T) {
	for _, secs := range []int{MaxRetryAfterSecs, MaxRetryAfterSecs + 1} {
		honoured := secs == MaxRetryAfterSecs
		e := newStubEnv(t)
		e.c.timeout = 10 * time.Minute
		e.reg.Register("GET", PathDiscovery, jsonResp(503, ``, "Retry-After", strconv.Itoa(secs)))
		if honoured {
			e.reg.Register("GET", PathDiscovery, jsonResp(404, ``))
		}
		_, err := e.c.DiscoverTokenURL(context.Background(), stubServer)
		want := []time.Duration{time.Duration(secs) * time.Second}
		if (err == nil) != honoured || slices.Equal(e.Sleeps(), want) != honoured {
			t.Errorf("Retry-After %d: %v after sleeps %v; honoured: %v", secs, err, e.Sleeps(), honoured)
		}
	}
}

// A backoff of enroll's own that would outlast the time limit is not
// started: the failure is reported as it is, without words about a wait
// the service asked for (it asked for none).
func TestBackoffPastTheDeadline(t *testing.T) {
	e := newStubEnv(t)
	e.reg.Register("GET", PathDiscovery, jsonResp(503, ``))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond) // the first backoff is 500 ms
	defer cancel()
	_, err := e.c.DiscoverTokenURL(ctx, stubServer)
	if !errors.Is(err, flow.ErrServer) || strings.Contains(err.Error(), "giving up") || len(e.Sleeps()) != 0 {
		t.Errorf("%v after sleeps %v", err, e.Sleeps())
	}
}

// The verbose log says a wait only where the service asked for one.
func TestLogTextSaysAWaitOnlyWhenAsked(t *testing.T) {
	for after, want := range map[time.Duration]string{
		0:               "discovery: the service answered 503 Service Unavailable",
		5 * time.Second: "discovery: the service answered 503 Service Unavailable; it asks to wait 5 seconds",
	} {
		if got := logText(&StatusError{Op: "discovery", Status: http.StatusServiceUnavailable, RetryAfter: after}); got != want {
			t.Errorf("logText, Retry-After %v = %q, want %q", after, got, want)
		}
	}
}
