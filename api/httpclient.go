package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
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

// maxHeaderBytes bounds the headers of one answer.
const maxHeaderBytes = 64 << 10

// maxRedirects bounds redirect chains; the service has no reason to chain.
const maxRedirects = 5

// maxLogText is the most runes of one error shown in a verbose log line.
const maxLogText = 500

// HTTPOptions configures the one HTTP client enroll uses. Zero values take
// the defaults noted on each field.
type HTTPOptions struct {
	Timeout        time.Duration // one request, body included; default 30s (Options.Timeout bounds a whole call)
	ConnectTimeout time.Duration // TCP connect and TLS handshake each; default 10s, never more than Timeout
	HeaderTimeout  time.Duration // from request written to status line; default Timeout
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
	// Only connecting has a limit of its own, so that a host that drops
	// packets leaves time for another attempt; the wait for an answer is
	// the caller's time limit alone, so that none of these cuts a slow
	// service off sooner than --timeout says.
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = min(10*time.Second, o.Timeout)
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = o.Timeout
	}
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	// Without --ca-file, RootCAs stays nil: Go then uses the system roots
	// (honouring SSL_CERT_FILE and SSL_CERT_DIR on Linux) and loads them at
	// the first TLS handshake only — parsing them costs ~20 ms a start,
	// for nothing on loopback. With --ca-file, the file's CAs join them.
	var pool *x509.CertPool
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			why := err
			if pe, ok := err.(*fs.PathError); ok {
				why = pe.Err // the path is in the message already
			}
			return nil, kindErr(flow.ErrUsage, err, "cannot read the CA file %q: %v", o.CAFile, why)
		}
		if pool, err = x509.SystemCertPool(); err != nil || pool == nil {
			pool = x509.NewCertPool()
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
		// Real answers carry a few hundred bytes of headers; Go's default
		// allows 10 MB of them (1xx answers included) before the body cap.
		MaxResponseHeaderBytes: maxHeaderBytes,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           4,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
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
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		// Go reads past 1xx answers itself but one: 101 Switching
		// Protocols hands over the connection as the body, beyond every
		// timeout and cancellation of the request. Nothing enroll asks
		// for is answered so; close it now. A status HTTP does not define
		// (600–999, which Go accepts) says nothing of what happened.
		resp.Body.Close()
		return nil, kindErr(flow.ErrServer, errUnusable, "the service answered %s, which enroll cannot use", statusWords(resp.StatusCode))
	}
	resp.Body = &cappedBody{rc: resp.Body, max: MaxBody}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 && !safeMethod(req.Method) {
		// net/http parses Location before checkRedirect can refuse to
		// follow it, and fails the call on one that does not parse,
		// quoting it whole (query, token and all). Such a redirect is
		// reported as one to nowhere instead.
		if _, err := req.URL.Parse(resp.Header.Get("Location")); err != nil {
			resp.Header.Del("Location")
		}
	}
	return resp, nil
}

// safeMethod reports whether a request may be repeated and redirected:
// only GET and HEAD, which enroll uses for discovery.
func safeMethod(m string) bool { return m == "" || m == http.MethodGet || m == http.MethodHead }

func checkTransportURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if flow.IsLoopback(u.Hostname()) {
			return nil
		}
		return kindErr(flow.ErrUsage, nil, "refusing insecure http to %s; use https", flow.SanitizeMax(u.Host, maxText))
	default:
		return kindErr(flow.ErrUsage, nil, "refusing URL scheme %q; use https", flow.SanitizeMax(u.Scheme, 20))
	}
}

// errUnusable marks an answer that arrived but cannot be read as one (a
// protocol switch): the request was delivered.
var errUnusable = errors.New("unusable answer")

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

// checkRedirect follows redirects only for GET and HEAD (discovery). A
// redirect of accept, decline or send is never followed: Go would turn a
// PUT answered 302 into a GET and take the login or portal page it finds
// for the answer, and would re-send the body, invitation token included,
// to whatever host a 307 or 308 names. The 3xx itself is returned instead
// and the caller reports it (StatusError).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if !safeMethod(via[0].Method) {
		return http.ErrUseLastResponse
	}
	if len(via) > maxRedirects {
		return kindErr(flow.ErrServer, nil, "the service redirected more than %d times", maxRedirects)
	}
	if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
		return kindErr(flow.ErrServer, nil, "the service redirected from https to insecure %s; refusing",
			flow.SanitizeMax(req.URL.Scheme+"://"+req.URL.Host, maxText))
	}
	return nil
}

// NormalizeServer checks a --server value and returns it in the one form the
// client joins paths to: scheme://host[:port][/prefix], no trailing slash.
// Its errors show at most the value's scheme and host (serverShown): a
// link pasted by mistake carries the invitation token in its query.
func NormalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", kindErr(flow.ErrUsage, nil, "no server given; use https://HOST")
	}
	shown := serverShown(s)
	u, err := url.Parse(s)
	if err != nil {
		return "", kindErr(flow.ErrUsage, nil, "--server is not a URL (%s)", shown)
	}
	switch {
	case u.Scheme == "" || u.Opaque != "" && !strings.Contains(s, "://"):
		host := strings.TrimLeft(serverShown("//"+strings.TrimLeft(s, "/")), "/")
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i] // suggest the host only, not the link
		}
		if host == "" {
			host = "HOST"
		}
		return "", kindErr(flow.ErrUsage, nil, "--server has no scheme; use https://%s", host)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", kindErr(flow.ErrUsage, nil, "--server scheme %q is not supported; use https", flow.SanitizeMax(u.Scheme, 20))
	case u.User != nil:
		return "", kindErr(flow.ErrUsage, nil, "--server must not hold a user name or password")
	case u.Host == "" || u.Hostname() == "":
		return "", kindErr(flow.ErrUsage, nil, "--server has no host (%s)", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return "", kindErr(flow.ErrUsage, nil, "--server must be the service's base URL, not a link with a query (%s)", shown)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", kindErr(flow.ErrUsage, nil, "--server must be the service's base URL, not a link with a fragment (%s)", shown)
	case u.Scheme == "http" && !flow.IsLoopback(u.Hostname()):
		return "", kindErr(flow.ErrUsage, nil, "refusing insecure http to %s; use https", flow.SanitizeMax(u.Host, maxText))
	}
	host := strings.ToLower(u.Host)
	if addr, err := netip.ParseAddr(u.Hostname()); err == nil {
		// One spelling of an address ([::1], not [0:0:0:0:0:0:0:1]): the
		// stored server is compared, and read by the licensed application.
		host = addr.String()
		if addr.Is6() {
			host = "[" + host + "]"
		}
		if p := u.Port(); p != "" {
			host += ":" + p
		}
	}
	return u.Scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// serverShown is what an error may show of a --server value: scheme://host,
// sanitized, with "/…", "?…" and "#…" standing for a path, a query and a
// fragment, and any user name or password left out. It works on the text,
// not on url.Parse's result, so that it also serves values that do not
// parse.
func serverShown(s string) string {
	scheme, rest := "", s
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		scheme, rest = s[:i]+"://", s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		scheme, rest = "//", s[2:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host, tail := rest[:end], rest[end:]
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = "…@" + host[i+1:]
	}
	var marks string
	frag := strings.IndexByte(tail, '#')
	if frag >= 0 {
		tail = tail[:frag]
	}
	path, _, query := strings.Cut(tail, "?")
	if path != "" && path != "/" {
		marks += "/…"
	}
	if query {
		marks += "?…"
	}
	if frag >= 0 {
		marks += "#…"
	}
	return flow.SanitizeMax(scheme, 20) + flow.SanitizeMax(host, maxText) + marks
}

// isScheme reports whether s has RFC 3986 scheme syntax, so that a "://"
// inside a path or query is not taken for the end of one.
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// logTransport writes the verbose log. It sees only the request line and
// the status, never headers or bodies; log cuts the secrets of the call
// the request belongs to (its context carries them).
type logTransport struct {
	base http.RoundTripper
	log  func(ctx context.Context, format string, args ...any)
}

func (l *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := l.base.RoundTrip(req)
	where := flow.SanitizeMax(req.URL.Host+req.URL.EscapedPath(), maxText)
	d := time.Since(start).Round(time.Millisecond)
	if err != nil {
		l.log(req.Context(), "%s %s failed after %s: %s", req.Method, where, d, logText(err))
		return nil, err
	}
	// The status code, not the status line: its reason phrase is the
	// server's free text and could echo what the request carried.
	l.log(req.Context(), "%s %s → %s in %s", req.Method, where, statusWords(resp.StatusCode), d)
	return resp, nil
}
