package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"enroll/flow"
)

// Options are the Client's dependencies; zero values take defaults.
type Options struct {
	HTTP *http.Client // default: NewHTTPClient(HTTPOptions{})
	// Logf receives one line per HTTP exchange (method, host and path,
	// status, duration) and per retry. Bodies, tokens, secrets and headers
	// never reach it.
	Logf        func(format string, args ...any)
	Sleep       func(ctx context.Context, d time.Duration) error // backoff waits; default a timer honouring ctx
	Rand        func() float64                                   // jitter in [0,1); default math/rand/v2
	MaxAttempts int                                              // for idempotent calls (discovery, token); default 4
	// Timeout bounds each call as a whole (discovery, both of x/oauth2's
	// client authentication styles, every retry and Retry-After wait);
	// a deadline of the caller's context that comes sooner wins.
	// Default: the HTTP client's Timeout, or 30s.
	Timeout time.Duration
}

// Client talks to the 10Duke service. It satisfies flow.Service. It is safe
// for concurrent use; the only state it keeps is the discovered token
// endpoint per server and the OAuth configs (so the client-authentication
// style learnt once is reused), all in memory.
type Client struct {
	hc          *http.Client
	timeout     time.Duration
	logf        func(string, ...any)
	sleep       func(context.Context, time.Duration) error
	rand        func() float64
	maxAttempts int

	mu        sync.Mutex
	tokenURLs map[string]string                       // normalized server → token endpoint
	configs   map[[2]string]*clientcredentials.Config // {token URL, client id}
}

var _ flow.Service = (*Client)(nil)

// New builds a Client.
func New(o Options) *Client {
	c := &Client{
		hc: o.HTTP, timeout: o.Timeout, logf: o.Logf, sleep: o.Sleep, rand: o.Rand, maxAttempts: o.MaxAttempts,
		tokenURLs: map[string]string{},
		configs:   map[[2]string]*clientcredentials.Config{},
	}
	if c.hc == nil {
		// Cannot fail: only a CA file can make NewHTTPClient fail.
		c.hc, _ = NewHTTPClient(HTTPOptions{})
	}
	if c.timeout <= 0 {
		c.timeout = c.hc.Timeout
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.logf != nil {
		// A copy, so the caller's client is not changed behind its back.
		hc := *c.hc
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc.Transport = &logTransport{base: base, log: c.log}
		c.hc = &hc
	} else {
		c.logf = func(string, ...any) {}
	}
	if c.sleep == nil {
		c.sleep = Sleep
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 4
	}
	return c
}

// Accept sends the invitation token once; it is never retried, because a
// second accept of a used invitation would hide whether the first worked.
// On 2xx it returns the body bytes as they arrived, even cut short, for
// the caller to journal before DecodeAccept judges them.
func (c *Client) Accept(ctx context.Context, req flow.AcceptRequest) (_ []byte, err error) {
	ctx, done := c.call(ctx, &err, req.Token, req.Bearer)
	defer done()
	payload, err := json.Marshal(AcceptBody{Token: req.Token, Name: req.Name})
	if err != nil {
		return nil, kindErr(flow.ErrUsage, err, "accept: cannot encode the request: %v", err)
	}
	resp, err := c.exchange(ctx, "accept", MethodAccept, req.Server, PathAccept, payload, req.Bearer)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.statusError(resp, "accept", acceptAudience(req.Bearer), req.Token, req.Bearer)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		// The service may have enrolled the device: the bytes that did
		// arrive are returned to be journaled, with why they are short.
		c.log(ctx, "accept: answer cut short after %d bytes: %s", len(raw), logText(err))
		if raw == nil {
			raw = []byte{}
		}
		return raw, kindErr(flow.ErrBadResponse, err, "%s", bodyCut(len(raw), err))
	}
	return raw, nil
}

// bodyCut says why an answer's body ended early, in enroll's words.
func bodyCut(n int, err error) string {
	switch {
	case errors.Is(err, errTooLarge):
		return "it is larger than 1 MiB"
	case timedOut(err):
		return fmt.Sprintf("the time limit (--timeout) ran out after %d bytes", n)
	}
	return fmt.Sprintf("the connection broke after %d bytes", n)
}

// DecodeAccept parses an accept answer. Its messages never quote the bytes:
// they may hold the client secret.
func (c *Client) DecodeAccept(raw []byte) (flow.Client, error) {
	return decodeAccept(raw)
}

func decodeAccept(raw []byte) (flow.Client, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer is empty")
	}
	if t[0] != '{' {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer is not a JSON object")
	}
	var cb ClientBody
	if err := json.Unmarshal(t, &cb); err != nil {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer is not valid JSON%s", jsonWhere(err))
	}
	var missing []string
	if strings.TrimSpace(cb.ID) == "" {
		missing = append(missing, "id")
	}
	if strings.TrimSpace(cb.ClientID) == "" {
		missing = append(missing, "clientId")
	}
	if len(missing) > 0 {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer has no %s", strings.Join(missing, " and no "))
	}
	if err := checkAnswer(t, cb); err != nil {
		return flow.Client{}, err
	}
	return flow.Client{ID: cb.ID, ClientID: cb.ClientID, ClientSecret: cb.ClientSecret, Name: cb.Name}, nil
}

// jsonWhere says where JSON went wrong without quoting any of it.
func jsonWhere(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return " (at byte " + strconv.FormatInt(se.Offset, 10) + ")"
	case errors.As(err, &te):
		// Field is a Go-side path ("plain.clientId"); the last part is the JSON key.
		field := te.Field[strings.LastIndex(te.Field, ".")+1:]
		return " (field " + flow.SanitizeMax(field, 64) + " holds a " + te.Value + ")"
	}
	return ""
}

// Decline sends the decline once; like Accept it is not retried.
func (c *Client) Decline(ctx context.Context, req flow.DeclineRequest) (err error) {
	ctx, done := c.call(ctx, &err, req.Token)
	defer done()
	payload, err := json.Marshal(DeclineBody{Token: req.Token})
	if err != nil {
		return kindErr(flow.ErrUsage, err, "decline: cannot encode the request: %v", err)
	}
	resp, err := c.exchange(ctx, "decline", MethodDecline, req.Server, PathDecline, payload, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.statusError(resp, "decline", decline, req.Token)
	}
	return nil
}

// SendInvitation creates an invitation as an administrator. Not retried:
// a retry could mail the same person twice.
func (c *Client) SendInvitation(ctx context.Context, server, adminToken, organizationID string, body SendBody) (_ InvitationBody, err error) {
	ctx, done := c.call(ctx, &err, adminToken)
	defer done()
	if organizationID == "" {
		return InvitationBody{}, kindErr(flow.ErrUsage, nil, "send: no organization id given")
	}
	if adminToken == "" {
		return InvitationBody{}, kindErr(flow.ErrUsage, nil, "send: no administrator access token given")
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return InvitationBody{}, kindErr(flow.ErrUsage, err, "send: cannot encode the request: %v", err)
	}
	path := strings.Replace(PathSendTemplate, "{organizationId}", url.PathEscape(organizationID), 1)
	resp, err := c.exchange(ctx, "send", MethodSend, server, path, payload, adminToken)
	if err != nil {
		return InvitationBody{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return InvitationBody{}, kindErr(flow.ErrBadResponse, nil, "send: the service answered %d without the invitation", resp.StatusCode)
		}
		return InvitationBody{}, c.statusError(resp, "send", send, adminToken)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return InvitationBody{}, kindErr(flow.ErrBadResponse, err, "send: reading the answer failed: %v", err)
	}
	var inv InvitationBody
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return InvitationBody{}, kindErr(flow.ErrBadResponse, nil, "send: the answer is not a JSON object")
	}
	if err := json.Unmarshal(raw, &inv); err != nil {
		return InvitationBody{}, kindErr(flow.ErrBadResponse, nil, "send: the answer is not valid JSON%s", jsonWhere(err))
	}
	return inv, nil
}

func acceptAudience(bearer string) audience {
	if bearer != "" {
		return acceptBearer
	}
	return acceptNew
}

// exchange sends one non-idempotent request and tells apart the two ways a
// transport failure can happen: before the request was fully written the
// service cannot have acted (ErrNetwork, safe to retry), after it it may
// have (ErrOutcomeUnknown).
func (c *Client) exchange(ctx context.Context, op, method, server, path string, payload []byte, bearer string) (*http.Response, error) {
	base, err := NormalizeServer(server)
	if err != nil {
		return nil, err
	}
	// ctx may stop the request only while nothing can have reached the
	// service: until a connection carries it (name lookup, connect, TLS,
	// a proxy's CONNECT). From then on only ctx's deadline ends the wait:
	// an interruption must not leave unanswered a request the service may
	// have acted on. The answer's body is read under the same rule.
	reqCtx, release := detach(ctx)
	var mu sync.Mutex
	connected, cut := false, false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !connected {
			cut = true
			release()
		}
	})
	defer stop()
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		// A new connection attempt (also after a redirect) starts clean;
		// the transport only re-sends on its own when nothing was written.
		GetConn: func(string) { wrote.Store(false) },
		GotConn: func(httptrace.GotConnInfo) {
			mu.Lock()
			defer mu.Unlock()
			connected = true
		},
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(reqCtx, trace), method, base+path, bytes.NewReader(payload))
	if err != nil {
		release()
		return nil, kindErr(flow.ErrUsage, err, "%s: %v", op, err)
	}
	req.Header.Set("Content-Type", ContentTypeJSON)
	req.Header.Set("Accept", ContentTypeJSON)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		release()
		mu.Lock()
		interrupted := cut
		mu.Unlock()
		if interrupted && !wrote.Load() {
			return nil, kindErr(flow.ErrInterrupted, err, "%s: interrupted before the request was sent", op)
		}
		return nil, transportError(op, err, wrote.Load())
	}
	resp.Body = releasing{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// detach is ctx without its cancellation but with its deadline, and the
// function that ends it.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), dl)
	}
	return context.WithCancel(context.WithoutCancel(ctx))
}

// releasing ends the request's context once its body is closed.
type releasing struct {
	io.ReadCloser
	release context.CancelFunc
}

func (r releasing) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}

// retryableTransport maps a failed idempotent request (discovery, the
// token grant) as transportError does, nothing having been committed, and
// marks it worth another attempt when the network failed and ctx is live.
func retryableTransport(ctx context.Context, op string, err error) attempt {
	err = transportError(op, err, false)
	return attempt{err: err, retry: errors.Is(err, flow.ErrNetwork) && ctx.Err() == nil}
}

// transportError maps a failed Do. Refusals of our own (insecure http, a
// redirect downgrade, an oversized answer) keep their kind; an untrusted
// certificate fails the handshake, before anything was sent.
func transportError(op string, err error, wrote bool) error {
	var ke *kindError
	switch {
	case wrote && errors.Is(err, errUnusable) && errors.As(err, &ke):
		return kindErr(flow.ErrOutcomeUnknown, err, "%s: %v; the request was delivered, so whether it took effect is not known", op, ke)
	case errors.As(err, &ke):
		return kindErr(ke.kind, err, "%s: %v", op, ke)
	case transportKind(err) == flow.ErrCertificate:
		kind, text := certificateText(err, time.Now())
		return kindErr(kind, err, "%s: %s", op, text)
	case wrote && timedOut(err):
		return kindErr(flow.ErrOutcomeUnknown, err, "%s: the request was sent but no answer came within the time limit (--timeout)", op)
	case wrote:
		return kindErr(flow.ErrOutcomeUnknown, err, "%s: the request was sent but no answer arrived: %v", op, err)
	case timedOut(err):
		return kindErr(flow.ErrNetwork, err, "%s: the service did not answer within the time limit (--timeout)", op)
	default:
		return kindErr(flow.ErrNetwork, err, "%s: %v", op, err)
	}
}

// timedOut reports whether a request ended at the time limit: the call's
// or the command's deadline, or the HTTP client's Timeout and header
// limit, which are the same --timeout. A connect or TLS handshake that
// took too long is not it: the transport says so in its own words.
func timedOut(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

func (c *Client) statusError(resp *http.Response, op string, a audience, secrets ...string) *StatusError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return newStatusError(op, a, resp.StatusCode, resp.Header, requestURL(resp), body, time.Now(), secrets...)
}

// requestURL is the URL an answer came from, nil if unknown.
func requestURL(resp *http.Response) *url.URL {
	if resp == nil || resp.Request == nil {
		return nil
	}
	return resp.Request.URL
}

// TransportError classifies what went wrong with a request that nothing
// could have acted on (a GET), as enroll's own calls report it: for
// enroll doctor, which makes such requests itself.
func TransportError(op string, err error) error { return transportError(op, err, false) }

// certificateText explains a certificate that failed verification. One
// refused for its validity period is about this device's clock as often
// as about the certificate: one not yet valid means the clock is behind (a
// device without a battery-backed clock, back in 1970), and is named so;
// one expired is said with the clock's reading, so that a clock far ahead
// is seen too.
func certificateText(err error, now time.Time) (error, string) {
	var cie x509.CertificateInvalidError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	day := "2006-01-02 15:04 MST"
	switch {
	case errors.As(err, &cie) && cie.Reason == x509.Expired && cie.Cert != nil:
		c := cie.Cert
		if now.Before(c.NotBefore) {
			return flow.ErrClock, fmt.Sprintf("the server's certificate is valid from %s, and this device's clock reads %s: the clock is behind, or the certificate is not valid yet",
				c.NotBefore.UTC().Format(day), now.UTC().Format(day))
		}
		return flow.ErrCertificate, fmt.Sprintf("the server's certificate expired on %s (this device's clock reads %s; if the clock is wrong, set it)",
			c.NotAfter.UTC().Format(day), now.UTC().Format(day))
	case errors.As(err, &uae) && uae.Cert != nil:
		return flow.ErrCertificate, fmt.Sprintf("the server's certificate, issued by %s, is signed by an unknown authority", issuer(uae.Cert))
	case errors.As(err, &hne) && hne.Certificate != nil:
		return flow.ErrCertificate, "the server's certificate is for another name: " + flow.SanitizeMax(hne.Error(), maxText)
	}
	return flow.ErrCertificate, flow.SanitizeMax(err.Error(), maxText)
}

// issuer names a certificate's issuer: its common name, else its
// organization, else the whole name.
func issuer(c *x509.Certificate) string {
	switch {
	case c.Issuer.CommonName != "":
		return flow.SanitizeMax(c.Issuer.CommonName, 100)
	case len(c.Issuer.Organization) > 0:
		return flow.SanitizeMax(c.Issuer.Organization[0], 100)
	}
	return flow.SanitizeMax(c.Issuer.String(), 100)
}

// transportKind tells a server certificate that failed verification (a
// private CA not given, an intercepting proxy, a wrong host) from other
// transport trouble: trying again cannot fix it, and the person must be
// told to look at the certificate rather than the network.
func transportKind(err error) error {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) {
		return flow.ErrCertificate
	}
	return flow.ErrNetwork
}

// logText is an error made safe for the verbose log. A service's answer is
// logged by its status alone: the message it wrote may quote a secret that
// this call did not send (and so could not cut out), and the log is read by
// people the secret is not for. Other errors are enroll's own words around
// what the network said (a certificate's names), sanitized.
func logText(err error) string {
	if err == nil {
		return ""
	}
	var se *StatusError
	if errors.As(err, &se) {
		text := se.Op + ": the service answered " + statusWords(se.Status)
		if se.RetryAfter > 0 { // a number enroll read, not the server's words
			text += "; it asks to wait " + WaitWords(se.RetryAfter)
		}
		return text
	}
	return flow.SanitizeMax(err.Error(), maxLogText)
}
