package api

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"enroll/flow"
)

// MaxBody is the most enroll reads of any answer. Real answers are a few
// hundred bytes; the cap keeps a broken or hostile server from filling
// memory or a journal.
const MaxBody = 1 << 20

// maxRedirects bounds redirect chains; the service has no reason to chain.
const maxRedirects = 5

// HTTPOptions configures the one HTTP client enroll uses. Zero values take
// the defaults noted on each field.
type HTTPOptions struct {
	Timeout        time.Duration // whole exchange, body included; default 30s
	ConnectTimeout time.Duration // TCP connect and TLS handshake each; default 10s
	HeaderTimeout  time.Duration // from request written to status line; default 20s
	CAFile         string        // extra PEM roots, added to the system pool
	// Proxy picks the proxy per request; default http.ProxyFromEnvironment
	// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)
}

// NewHTTPClient is the only constructor of the HTTP client: every request
// enroll sends goes through the guard below, so the rules about plain http
// and answer size cannot be bypassed by one code path forgetting them.
func NewHTTPClient(o HTTPOptions) (*http.Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 20 * time.Second
	}
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	// On Linux the system pool honours SSL_CERT_FILE and SSL_CERT_DIR, which
	// is how most operators already configure a corporate root.
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			why := err
			if pe, ok := err.(*fs.PathError); ok {
				why = pe.Err // the path is in the message already
			}
			return nil, kindErr(flow.ErrUsage, err, "cannot read the CA file %q: %v", o.CAFile, why)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, kindErr(flow.ErrUsage, nil, "the CA file %q holds no PEM certificate", o.CAFile)
		}
	}
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 o.Proxy,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.HeaderTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport:     &guard{base: tr},
		CheckRedirect: checkRedirect,
		Timeout:       o.Timeout,
	}, nil
}

// guard is the RoundTripper wrapper: it runs for the first request and for
// every redirect, so a redirect cannot lead to plain http either.
type guard struct{ base http.RoundTripper }

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkTransportURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, err
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, max: MaxBody}
	return resp, nil
}

func checkTransportURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return kindErr(flow.ErrUsage, nil, "refusing insecure http to %s; use https", flow.SanitizeMax(u.Host, maxText))
	default:
		return kindErr(flow.ErrUsage, nil, "refusing URL scheme %q; use https", flow.SanitizeMax(u.Scheme, 20))
	}
}

// errTooLarge is what reading past MaxBody returns.
var errTooLarge = kindErr(flow.ErrBadResponse, nil, "answer larger than 1 MiB")

// cappedBody lets through at most max bytes. It reads one byte beyond the
// cap to tell "exactly max" (fine) from "more" (an error), so a body of
// exactly 1 MiB still ends in io.EOF.
type cappedBody struct {
	rc  io.ReadCloser
	n   int64
	max int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.n > b.max {
		return 0, errTooLarge
	}
	if room := b.max + 1 - b.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		return n - int(b.n-b.max), errTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return kindErr(flow.ErrServer, nil, "the service redirected more than %d times", maxRedirects)
	}
	if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return kindErr(flow.ErrServer, nil, "the service redirected from https to insecure %s; refusing",
			flow.SanitizeMax(req.URL.Scheme+"://"+req.URL.Host, maxText))
	}
	return nil
}

// isLoopback reports whether host names this machine without a doubt: the
// name localhost or a loopback address. Plain http is tolerated only there,
// where nothing crosses a network (the emulator, tests, a local proxy).
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NormalizeServer checks a --server value and returns it in the one form the
// client joins paths to: scheme://host[:port][/prefix], no trailing slash.
func NormalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", kindErr(flow.ErrUsage, nil, "no server given; use https://HOST")
	}
	shown := flow.SanitizeMax(s, maxText)
	u, err := url.Parse(s)
	if err != nil {
		return "", kindErr(flow.ErrUsage, nil, "server %q is not a URL", shown)
	}
	switch {
	case u.Scheme == "" || u.Opaque != "" && !strings.Contains(s, "://"):
		return "", kindErr(flow.ErrUsage, nil, "server %q has no scheme; use https://%s", shown, strings.TrimLeft(shown, "/"))
	case u.Scheme != "https" && u.Scheme != "http":
		return "", kindErr(flow.ErrUsage, nil, "server %q: scheme %q is not supported; use https", shown, u.Scheme)
	case u.User != nil:
		return "", kindErr(flow.ErrUsage, nil, "server URL must not hold a user name or password")
	case u.Host == "" || u.Hostname() == "":
		return "", kindErr(flow.ErrUsage, nil, "server %q has no host", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return "", kindErr(flow.ErrUsage, nil, "server %q must not have a query (?…)", shown)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", kindErr(flow.ErrUsage, nil, "server %q must not have a fragment (#…)", shown)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "", kindErr(flow.ErrUsage, nil, "refusing insecure http to %s; use https", flow.SanitizeMax(u.Host, maxText))
	}
	return u.Scheme + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// logTransport writes the verbose log. It sees only the request line and
// the status, never headers or bodies.
type logTransport struct {
	base http.RoundTripper
	logf func(string, ...any)
}

func (l *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := l.base.RoundTrip(req)
	where := flow.SanitizeMax(req.URL.Host+req.URL.EscapedPath(), maxText)
	d := time.Since(start).Round(time.Millisecond)
	if err != nil {
		l.logf("%s %s failed after %s: %v", req.Method, where, d, err)
		return nil, err
	}
	l.logf("%s %s → %s in %s", req.Method, where, flow.SanitizeMax(resp.Status, 64), d)
	return resp, nil
}
