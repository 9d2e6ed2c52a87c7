package handoff

import (
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// Without --handoff-listen the server listens on the address of the
// default route. A device with no route at all is told so, and how to name
// an address: here, a network namespace of its own whose only interface
// (loopback) is down, which needs CAP_SYS_ADMIN (CI runs as root).
func TestStartWithoutARoute(t *testing.T) {
	type outcome struct {
		unshare, start, source error
	}
	res := make(chan outcome, 1)
	go func() {
		// The namespace is this thread's alone: the goroutine ends locked
		// to it, so the runtime ends the thread too and nothing else ever
		// runs in it.
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			res <- outcome{unshare: err}
			return
		}
		var o outcome
		if s, err := Start(Options{}); err == nil {
			s.Close()
		} else {
			o.start = err
		}
		_, o.source = routeSource(net.IPv4(192, 0, 2, 1))
		res <- o
	}()
	o := <-res
	if o.unshare != nil {
		t.Skipf("cannot make a network namespace: %v", o.unshare)
	}
	if o.start == nil || !strings.Contains(o.start.Error(), "cannot find this device's LAN address") ||
		!strings.Contains(o.start.Error(), "--handoff-listen") {
		t.Errorf("Start without a route = %v; want it to say so and name --handoff-listen", o.start)
	}
	if o.source == nil {
		t.Error("routeSource found a route in a namespace without one")
	}
}
