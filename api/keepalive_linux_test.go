package api

import (
	"net"
	"net/http"
	"syscall"
	"testing"
)

// The client's connections probe an idle peer after 30 s, so that a NAT
// or firewall between a kiosk and the service does not silently drop a
// connection the next call would reuse.
func TestConnectionsAreKeptAlive(t *testing.T) {
	hc, err := NewHTTPClient(HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := hc.Transport.(*guard).base.(*http.Transport).DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var idle int
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		idle, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if idle != 30 {
		t.Errorf("keep-alive after %d s idle, want 30", idle)
	}
}
