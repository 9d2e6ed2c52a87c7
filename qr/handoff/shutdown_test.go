package handoff

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// Once the invitation is delivered the server shuts down gracefully, but a
// client stalled in the middle of a request keeps it open no longer than
// shutdownGrace: then its connection is closed. (Without that bound only
// the read timeout, three times longer, would end it.) It waits out the
// grace, so it runs beside the other tests.
func TestStalledClientIsCutAfterTheGrace(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	c, err := net.DialTimeout("tcp", h.s.host, guard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Headers that promise a body, and only the start of it.
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", h.path, h.s.host)
	time.Sleep(100 * time.Millisecond) // the handler is now waiting for the rest
	body, _ := h.seal(invitation)
	if code, _ := h.do(phone, "POST", h.path, body, nil); code != 200 {
		t.Fatalf("submission: %d", code)
	}
	delivered := time.Now()
	if r := h.result(); r.Err != nil {
		t.Fatalf("Result %+v", r)
	}
	_ = c.SetReadDeadline(time.Now().Add(shutdownGrace + readTimeout/2))
	_, _ = io.Copy(io.Discard, c) // until the server closes it, or the deadline
	if waited := time.Since(delivered); waited > shutdownGrace+readTimeout/3 {
		t.Errorf("the stalled connection was closed %v after delivery; want about %v", waited.Round(time.Second), shutdownGrace)
	}
	h.stopped()
}
