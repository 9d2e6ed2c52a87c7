package emulator

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// Running is an emulator served on a listener of its own.
type Running struct {
	URL      string // base URL, e.g. http://127.0.0.1:41234
	Emulator *Emulator

	srv  *http.Server
	done chan struct{}
}

// Listen starts an emulator on addr ("" means 127.0.0.1:0, a free loopback
// port) and sets its base URL to the address it got. Whether a
// non-loopback address is acceptable is the caller's decision.
func Listen(addr string, opts Options) (*Running, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	e := New(opts)
	url := "http://" + ln.Addr().String()
	e.SetBaseURL(url)
	r := &Running{
		URL:      url,
		Emulator: e,
		// ReadHeaderTimeout keeps a stuck client from holding a goroutine
		// forever; there is no write timeout because Delay faults are long
		// on purpose.
		srv:  &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(r.done)
		r.srv.Serve(ln) //nolint:errcheck // always ErrServerClosed after Close
	}()
	return r, nil
}

// Close stops serving at once, closing open connections (which also ends
// requests waiting in a Delay fault), and waits for the server to stop.
func (r *Running) Close() error {
	err := r.srv.Close()
	<-r.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
